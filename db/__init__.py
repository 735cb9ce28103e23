"""Storage: opening a database, pragmas, migrations, transactions. No domain, no Qt."""
from db.connection import analyze, atomic, connect, db_path, open_db
from db.errors import (
    DatabaseLockedError,
    DiskFullError,
    NewerDatabaseError,
    NotADatabaseError,
    ReadOnlyDatabaseError,
    StorageError,
)

__all__ = [
    "analyze", "atomic", "connect", "db_path", "open_db",
    "StorageError", "NotADatabaseError", "NewerDatabaseError",
    "ReadOnlyDatabaseError", "DatabaseLockedError", "DiskFullError",
]
