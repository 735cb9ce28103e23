"""One window per database: a second start on the same file says so and brings the first
window forward instead of opening another (two windows would each keep their own view of the
same records). A QLocalServer named after the database's full path answers the second start.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_MS = 1000


def server_name(db_path) -> str:
    """A name per database file (and per user of the machine)."""
    real = os.path.realpath(os.fspath(Path(db_path).expanduser()))
    digest = hashlib.sha256(real.encode("utf-8")).hexdigest()[:24]
    user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    user_key = hashlib.sha256(user.encode("utf-8")).hexdigest()[:8]
    return f"shequ-{user_key}-{digest}"


class Instance(QObject):
    """`acquire()`: True when this process is the first on the database (it then listens and
    emits `activated` when a later start knocks); False when another process already has it
    (that one is told to come forward)."""

    activated = Signal()

    def __init__(self, db_path, parent: QObject | None = None):
        super().__init__(parent)
        self.name = server_name(db_path)
        self.server: QLocalServer | None = None

    def acquire(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if socket.waitForConnected(CONNECT_MS):
            socket.write(b"activate\n")
            socket.waitForBytesWritten(CONNECT_MS)
            socket.disconnectFromServer()
            return False
        server = QLocalServer(self)
        if not server.listen(self.name):
            # A name left by a crashed process: nobody answered, so take it over.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return True            # cannot guard (an odd system): do not stand in the way
        server.newConnection.connect(self._knock)
        self.server = server
        return True

    def _knock(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            connection.disconnected.connect(connection.deleteLater)
            self.activated.emit()

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
