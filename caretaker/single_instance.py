"""SQLite serves one instance: a second service on the same database file refuses to start (docs/deploy.md,
"Scaling out"). Two instances on one SQLite file would both ingest the estate, publish every alert event twice and
send every push twice; PostgreSQL is the database for several instances."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class SecondInstance(Exception):
    """Another service holds the SQLite database; the message says which file and what to do."""


def sqlite_file(database_url: str) -> Path | None:
    """Return the SQLite database file the URL names, or None (another database, or SQLite in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


class InstanceLock:
    """An exclusive lock on `<database>.lock` held for the service's life; the kernel drops it if the process dies,
    so a killed instance never blocks the next one."""

    def __init__(self, database_url: str) -> None:
        self.database = sqlite_file(database_url)
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.database is None or self._fd is not None:
            return
        path = self.database.with_name(self.database.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SecondInstance(
                f"another Caretaker instance is already using the SQLite database {self.database}; SQLite serves "
                "one instance only: stop the other one, or use PostgreSQL to run several (docs/deploy.md, "
                "\"Scaling out\")") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
