"""The program's own data files (code tables, export templates, translations), installed as
the package `shequ_resources`; see shequ_desktop/core/resources.py."""
