"""Storage: opening a database, pragmas, migrations, transactions. No domain, no Qt."""
from db.connection import (analyze, atomic, connect, db_path, mark_read_only, open_db,
                           open_read_only)
from db.encryption import encrypt_file, forget_keys, is_encrypted, key_of, use_key
from db.errors import (
    DatabaseLockedError,
    EncryptedDatabaseError,
    DiskFullError,
    NewerDatabaseError,
    NotADatabaseError,
    ReadOnlyDatabaseError,
    StorageError,
)

__all__ = [
    "analyze", "atomic", "connect", "db_path", "mark_read_only", "open_db", "open_read_only",
    "encrypt_file", "forget_keys", "is_encrypted", "key_of", "use_key",
    "StorageError", "EncryptedDatabaseError", "NotADatabaseError", "NewerDatabaseError",
    "ReadOnlyDatabaseError", "DatabaseLockedError", "DiskFullError",
]
