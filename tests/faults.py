"""Tools for fault tests: a TCP proxy that can cut every connection mid-stream, and a database connection
killed by the server at the moment a chosen statement is sent.

``CuttingProxy`` sits between the app and a real server (the moto S3 server): healthy, it forwards bytes both
ways; ``cut_after(n)`` makes every connection, new or open, drop once ``n`` bytes went upstream (a store that
dies in the middle of an upload), ``heal()`` makes it forward again, on the same port, with the server's data
intact — which stopping and restarting moto, an in-memory server, would lose.

``kill_connection_on(engine, pattern)`` terminates, from a second connection, the PostgreSQL backend of the
connection about to run the first statement matching ``pattern``: the statement then fails as a lost connection
would in production (``OperationalError``), mid-transaction.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import sqlalchemy as sa


class CuttingProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.limit: int | None = None  # bytes upstream per connection before it is cut; None: healthy
        self.cuts = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after(self, n: int) -> None:
        self.limit = n

    def heal(self) -> None:
        self.limit = None

    def close(self) -> None:
        self._stopped = True
        self.listener.close()
        with self._lock:
            for s in list(self._open):
                _close(s)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open |= {client, upstream}
            sent = [0]
            threading.Thread(target=self._pipe, args=(client, upstream, sent, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, sent, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, sent: list[int], upstream: bool) -> None:
        try:
            while True:
                data = source.recv(16384)
                if not data:
                    break
                if upstream and self.limit is not None and sent[0] + len(data) > self.limit:
                    room = max(self.limit - sent[0], 0)
                    if room:
                        sink.sendall(data[:room])
                    self.cuts += 1
                    break
                sink.sendall(data)
                if upstream:
                    sent[0] += len(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                _close(s)
            with self._lock:
                self._open -= {source, sink}


def _close(s: socket.socket) -> None:
    with suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()


@contextmanager
def kill_connection_on(engine: sa.engine.Engine, pattern: str) -> Iterator[dict[str, int]]:
    """While inside, the first statement matching ``pattern`` (a regex, case-insensitive) finds its connection
    terminated by the server; ``killed["count"]`` says whether it happened."""
    wanted = re.compile(pattern, re.IGNORECASE)
    killed = {"count": 0}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if killed["count"] or not wanted.search(statement):
            return
        pid = cursor.connection.info.backend_pid  # psycopg 3's own connection, asked without a statement
        killer = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with killer.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        killed["count"] += 1

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield killed
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
