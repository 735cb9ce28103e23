"""Qt item models over the domain's queries."""
