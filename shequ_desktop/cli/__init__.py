"""The `shequ` command line: one module per command family, all signed in through session.py."""
