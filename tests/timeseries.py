"""A real time-series server for the tests: VictoriaMetrics, which takes influxdb-client's v2 writes
(`/api/v2/write`) and gives the points back through its export API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import free_port, missing, wait_for_port

VICTORIA_BINARY = os.environ.get("VICTORIA_METRICS_BINARY") or shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"


@dataclass
class TimeSeriesServer:
    port: int
    data: Path
    log: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log_file:
            self.proc = subprocess.Popen(
                [VICTORIA_BINARY, f"-storageDataPath={self.data}", f"-httpListenAddr=127.0.0.1:{self.port}",
                 "-retentionPeriod=100y", "-search.latencyOffset=0s"],
                stdout=log_file, stderr=subprocess.STDOUT)
        if not wait_for_port("127.0.0.1", self.port, 15.0):
            pytest.fail(f"victoria-metrics did not start on {self.port}: {self.log.read_text(errors='replace')[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def export(self, metric_regex: str = "telemetry_.*") -> dict[tuple[str, str], dict[int, float]]:
        """Return every stored sample as {(metric, device): {epoch ms: value}}, flushed first."""
        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=5).read()
        query = urllib.parse.urlencode({"match[]": f'{{__name__=~"{metric_regex}"}}'})
        body = urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=10).read().decode()
        samples: dict[tuple[str, str], dict[int, float]] = {}
        for line in filter(None, body.splitlines()):
            series = json.loads(line)
            key = (series["metric"]["__name__"], series["metric"].get("device", ""))
            samples.setdefault(key, {}).update(zip(series["timestamps"], series["values"]))
        return samples


@pytest.fixture
def timeseries(tmp_path: Path) -> Iterator[TimeSeriesServer]:
    """A VictoriaMetrics of the test's own on a free port, with its data in the test's directory."""
    if not Path(VICTORIA_BINARY).exists():
        missing(f"no victoria-metrics binary at {VICTORIA_BINARY} (apt-get install victoria-metrics)")
    server = TimeSeriesServer(free_port(), tmp_path / "vm-data", tmp_path / "vm.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()
