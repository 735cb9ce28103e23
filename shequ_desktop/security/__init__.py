"""Users and passwords, unlocking the encrypted database, backups and restore."""
