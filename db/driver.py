"""The SQLite driver every module uses: SQLCipher's build of Python's sqlite3 module
(`sqlcipher3`). Without a key it is plain SQLite (3.5x, FTS5 and JSON included); with one,
every page of the file is encrypted.

Modules write `from db.driver import sqlite3`, so exceptions, Row and Connection always match
the connections they get. Two SQLite libraries in one process do not see each other's file
locks: nothing may open our databases through the standard library's sqlite3.
"""
from sqlcipher3 import dbapi2 as sqlite3  # noqa: F401
