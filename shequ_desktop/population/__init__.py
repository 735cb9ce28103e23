"""Who lives there: residents, households and their members, focus groups and tags, the resident
list behind the table, what an import kept beyond our fields."""
