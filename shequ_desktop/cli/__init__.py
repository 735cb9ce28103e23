"""The `shequ` command line: one module per command family, all signed in through session.py.

Lazy imports, for start-up: every command imports the domain modules it needs inside its own
function, so `shequ --help` and each command load only what they use (a command line started
from a script or a scheduled backup should not pay for the whole program). Each module below
says so once, at its top; none of these imports dodges a cycle (import-linter checks them too).
"""
