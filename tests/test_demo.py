"""`caretaker demo` as a newcomer runs it: it starts with nothing installed but Python, shows tickets, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import free_port, interrupt


@pytest.mark.slow
def test_the_demo_shows_live_tickets_within_a_minute_and_stops_cleanly(tmp_path):
    http, broker = free_port(), free_port()
    admin = "demo-admin-token-of-the-test-0123456789"
    demo = subprocess.Popen(  # the HTTP port and the admin token from the settings, as `caretaker run` takes them
        [sys.executable, "-m", "caretaker.cli", "demo", "--broker-port", str(broker),
         "--data-dir", str(tmp_path / "demo"), "--speed", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CARETAKER_HTTP_PORT": str(http), "CARETAKER_ADMIN_TOKEN": admin},
    )
    output = []
    try:
        token = None
        deadline = time.monotonic() + 60
        while token is None and time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            output.append(line)
            found = re.search(r"operator token: (\S+)", line)
            token = found.group(1) if found else None
        assert token, "the demo printed no operator token:\n" + "".join(output)
        assert any(f"http://127.0.0.1:{http}/#token={token}" in line for line in output)
        output.append(demo.stdout.readline())
        assert f"admin token:    {admin}" in output[-1]
        page = urllib.request.urlopen(f"http://127.0.0.1:{http}/", timeout=5).read().decode()
        assert "Caretaker" in page
        tickets = []
        while not tickets and time.monotonic() < deadline:
            request = urllib.request.Request(f"http://127.0.0.1:{http}/api/v1/tickets",
                                             headers={"Authorization": f"Bearer {token}"})
            tickets = json.loads(urllib.request.urlopen(request, timeout=5).read())
            time.sleep(1)
        assert tickets, "no ticket appeared within a minute"
        assert all(t["status"] in ("open", "assigned", "accepted", "on_site") for t in tickets)
    finally:
        output.append(interrupt(demo))
    assert demo.returncode == 0, "".join(output)[-3000:]
    assert "stopped." in "".join(output) and "Traceback" not in "".join(output)
