"""A TCP relay between Kho and a real service (the S3 gateway) that a test can cut and restore:
``stop()`` closes its listening socket and every relayed connection, so the service is
unreachable from Kho exactly as when the gateway is down (connections refused); ``start()``
listens again on the same port. No store or client is patched."""

from __future__ import annotations

import socket
import threading
import time


class Relay:
    def __init__(self, target: str, *, delay: float = 0.0) -> None:
        """``delay``: seconds each new connection waits before it reaches the service (a slow
        network or gateway), its requests answered that much later."""
        self.delay = delay
        host, _, port = target.rpartition(":")
        self.target = (host or "127.0.0.1", int(port))
        self.port = 0
        self._server: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Relay:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            opened, self._open = self._open, []
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)  # wakes the accept (a close alone does not)
            except OSError:
                pass
            server.close()
        for sock in opened:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # stopped
            if self.delay:
                threading.Thread(target=self._connect, args=(server, client), daemon=True).start()
            elif not self._connect(server, client):
                return

    def _connect(self, server: socket.socket, client: socket.socket) -> bool:
        """Relay ``client`` to the service (after :attr:`delay`); False once stopped."""
        time.sleep(self.delay)
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return True
        upstream.settimeout(None)
        with self._lock:
            if self._server is not server:
                client.close()
                upstream.close()
                return False
            self._open += [client, upstream]
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()
        return True

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass
