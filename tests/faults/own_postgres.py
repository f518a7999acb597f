"""A PostgreSQL cluster of a fault test's own (`initdb` + `pg_ctl` into a temp dir, on a free port), which the
test may stop at once (`pg_ctl stop -m immediate`, as a crash or a lost network would) and start again;
never the machine's shared server.

PostgreSQL refuses to run as root, so when the tests run as root the cluster runs as the `postgres`
user, in a directory of its own under /tmp (pytest's temp dirs are root's alone). Usage:

    with OwnPostgres() as pg:
        url = pg.url            # postgresql+psycopg://postgres@127.0.0.1:<port>/caretaker
        pg.stop_immediately()
        pg.start()

or the `own_postgres` fixture below (import it into a test module).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import free_port, missing, wait_for_port

DATABASE = "caretaker"


def _bin_dir() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them in /usr/lib/postgresql/<version>/bin)."""
    versions = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    versions.sort(key=lambda bin_dir: int(bin_dir.parent.name) if bin_dir.parent.name.isdigit() else 0)
    if versions:
        return versions[-1]
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


class OwnPostgres:
    """One cluster: created and started on enter, stopped and removed on exit."""

    def __init__(self, fsync: bool = False) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            missing("no initdb/pg_ctl (looked in /usr/lib/postgresql/*/bin and on PATH)")
        self.bin = bin_dir
        self.port = free_port()
        # fsync off by default: most tests stop it with -m immediate, not the machine, and measure no commit
        # times; a load test that does measure them asks for fsync
        self.fsync = fsync
        self.user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="caretaker-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr or done.stdout}\n"
                               f"{self.log.read_text(errors='replace')[-2000:] if self.log.exists() else ''}")
        return done

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE)

    def start(self) -> None:
        """Start the cluster on its port and wait until it accepts connections."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=60 "
                   f"-c fsync={'on' if self.fsync else 'off'}")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        if not wait_for_port("127.0.0.1", self.port, 10):
            raise RuntimeError(f"PostgreSQL did not listen on {self.port}")

    def stop_immediately(self) -> None:
        """Stop at once, dropping every connection, as a crashed or unreachable server would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OwnPostgres:
        try:
            self.create()
        except Exception:
            self.destroy()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.destroy()


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    with OwnPostgres() as cluster:
        yield cluster
