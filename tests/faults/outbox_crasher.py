"""For T12: the real outbox sender, killed at its crash point again and again.

`python -m tests.faults.outbox_crasher DB_URL HOST PORT K1,K2,…` imports everything once, then forks one child
per K: the child starts the real publisher (its own MQTT connection) and `OutboxSender`, and dies with 137 the
K-th time it reaches `after_publish_before_mark` (`CARETAKER_CRASH_AT`), as `kill -9` would. A last child runs
without a crash point and sends what is left. Forking a process that has started no thread is safe and takes
milliseconds, so fifty crashes cost what fifty interpreter starts would not. Prints the children's exit
statuses as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

from sqlalchemy import func, select

from caretaker.db import make_engine, make_sessions
from caretaker.dispatch.outbox import OutboxSender
from caretaker.dispatch.tables import OutboxRow
from caretaker.estate.clock import SystemClock
from caretaker.ingest.client import MqttTarget, Publisher

CRASH_POINT = "after_publish_before_mark"


def send_all(database_url: str, host: str, port: int) -> int:
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    publisher = Publisher(MqttTarget(host, port), f"t12-sender-{os.getpid()}", 5)
    publisher.start()
    sender = OutboxSender(sessions, publisher.publish, SystemClock())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        sender.send_pending()
        with sessions() as session:
            if not session.scalar(select(func.count()).where(OutboxRow.sent_at.is_(None))):
                break
    publisher.stop()
    engine.dispose()
    return 0


def child(database_url: str, host: str, port: int, crash_at: int | None) -> None:
    if crash_at is None:
        os.environ.pop("CARETAKER_CRASH_AT", None)
    else:
        os.environ["CARETAKER_CRASH_AT"] = f"{CRASH_POINT}@{crash_at}"
    try:
        code = send_all(database_url, host, port)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    os._exit(code)


def main(argv: list[str]) -> None:
    database_url, host, port, plan = argv[0], argv[1], int(argv[2]), argv[3]
    runs: list[int | None] = [int(k) for k in plan.split(",") if k] + [None]
    statuses = []
    for crash_at in runs:
        pid = os.fork()
        if pid == 0:
            child(database_url, host, port, crash_at)
        _, status = os.waitpid(pid, 0)
        statuses.append(os.waitstatus_to_exitcode(status))
    print(json.dumps(statuses))


if __name__ == "__main__":
    main(sys.argv[1:])
