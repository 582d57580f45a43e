"""A listener on localhost that accepts connections and never answers: a hung server (an
SMTP server or a Redis that stopped answering, or one behind a dropped route). It tells how
many connections it took and how many of them the client has not closed yet."""

from __future__ import annotations

import socket
import threading
import time


class HungServer:
    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.closed_by_client = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self._lock:
                self.held.append(connection)
            threading.Thread(target=self._watch, args=(connection,), daemon=True).start()

    def _watch(self, connection: socket.socket) -> None:
        """Read (and ignore) what the client sends until it closes its end."""
        try:
            while connection.recv(4096):
                pass
        except OSError:
            return  # we closed it
        with self._lock:
            self.closed_by_client += 1

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self.held)

    def unanswered(self) -> int:
        """Connections taken that the client still holds open, waiting for an answer."""
        with self._lock:
            return len(self.held) - self.closed_by_client

    def wait_for_connection(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while self.accepted == 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for connection in self.held:
                connection.close()
