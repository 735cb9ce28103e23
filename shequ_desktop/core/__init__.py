"""What every feature stands on: the write path (Context), roles and scope (access), read-only
queries of the grid tree and addresses, the audit trail, the search index, the field registry
and validation, code tables, errors, settings and small helpers. Imports no feature package."""

from shequ_desktop.core import audit, context, search

# What every transaction does besides its writes, in this order: keep the search index, then
# append the audit trail. Registered here, with the package, so that no Context can write
# without them and context.py imports neither.
context.HOOKS[:] = [search.HOOK, audit.HOOK]
