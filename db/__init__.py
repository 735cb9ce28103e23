"""Storage: opening a database, pragmas, migrations, transactions. No domain, no Qt."""
from db.connection import (analyze, atomic, connect, db_path, mark_read_only, open_db,
                           open_read_only)
from db.errors import (
    DatabaseLockedError,
    DiskFullError,
    NewerDatabaseError,
    NotADatabaseError,
    ReadOnlyDatabaseError,
    StorageError,
)

__all__ = [
    "analyze", "atomic", "connect", "db_path", "mark_read_only", "open_db", "open_read_only",
    "StorageError", "NotADatabaseError", "NewerDatabaseError",
    "ReadOnlyDatabaseError", "DatabaseLockedError", "DiskFullError",
]
