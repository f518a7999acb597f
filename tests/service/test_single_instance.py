"""SQLite serves one instance (docs/deploy.md, "Scaling out"): a second `caretaker run` on the same file refuses to
start and says why; once the first stops, or dies, the file is free again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from caretaker.single_instance import InstanceLock, SecondInstance, sqlite_file


def test_a_second_instance_on_the_same_sqlite_file_is_refused_with_the_reason(tmp_path):
    url = f"sqlite:///{tmp_path / 'caretaker.db'}"
    first = InstanceLock(url)
    first.acquire()
    try:
        second = InstanceLock(url)
        try:
            second.acquire()
        except SecondInstance as exc:
            message = str(exc)
        else:
            raise AssertionError("a second instance on the same SQLite file was let in")
        assert str(tmp_path / "caretaker.db") in message and "PostgreSQL" in message
        InstanceLock(f"sqlite:///{tmp_path / 'other.db'}").acquire()  # another file is another estate's
    finally:
        first.release()
    again = InstanceLock(url)
    again.acquire()  # free once the first has stopped
    again.release()


def test_a_killed_instance_leaves_the_file_free_for_the_next(tmp_path):
    url = f"sqlite:///{tmp_path / 'caretaker.db'}"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "from caretaker.single_instance import InstanceLock\n"
                               f"InstanceLock({url!r}).acquire(); print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        try:
            InstanceLock(url).acquire()
        except SecondInstance:
            pass
        else:
            raise AssertionError("the lock of a running instance was not seen")
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    InstanceLock(url).acquire()


def test_postgresql_and_memory_databases_take_no_file_lock():
    assert sqlite_file("postgresql+psycopg://postgres@127.0.0.1/caretaker") is None
    assert sqlite_file("sqlite://") is None and sqlite_file("sqlite:///:memory:") is None
