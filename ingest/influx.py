"""Telemetry to InfluxDB (when configured) through influxdb-client, at the devices' timestamps, written before the batch is acknowledged."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Sequence

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from caretaker.ingest.errors import TelemetryStoreUnavailable
from caretaker.ingest.payloads import Telemetry

log = logging.getLogger(__name__)
MEASUREMENT = "telemetry"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_points(messages: Sequence[Telemetry], site: str) -> list[Point]:
    """Return one point per message: tags site and device, one field per metric, the device's ts in ms."""
    points = []
    for message in messages:
        if not message.values:
            continue  # a heartbeat carries no value to keep
        point = Point(MEASUREMENT).tag("site", site).tag("device", message.device)
        for metric, value in message.values.items():
            point = point.field(metric, float(value) if isinstance(value, int) and not isinstance(value, bool) else value)
        if message.seq is not None:
            point = point.field("seq", message.seq)
        # integer arithmetic: the client's float conversion turns .250 s into 249 ms
        points.append(point.time((message.ts - EPOCH) // timedelta(milliseconds=1), WritePrecision.MS))
    return points


WRITE_TIMEOUT_MS = 10_000


class InfluxSink:
    """Writes a batch's telemetry to InfluxDB (or a server speaking its v2 write API) and returns only once
    the server has it, so nothing is acknowledged to the broker before it is stored (docs/deploy.md). A
    retried batch writes the same points again, which the store keeps once: a point is keyed by its
    series and the device's timestamp."""

    def __init__(self, url: str, token: str, org: str, bucket: str, site: str = "",
                 timeout_ms: int = WRITE_TIMEOUT_MS) -> None:
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=timeout_ms)
        self._bucket = bucket
        self._site = site
        self._writer = self._client.write_api(write_options=SYNCHRONOUS)

    def __call__(self, messages: Sequence[Telemetry]) -> None:
        points = to_points(messages, self._site)
        if not points:
            return
        try:
            self._writer.write(bucket=self._bucket, record=points)
        except Exception as exc:  # the client raises its own, urllib3's and socket errors alike
            raise TelemetryStoreUnavailable(f"the telemetry store did not take {len(points)} points: "
                                            f"{exc.__class__.__name__}") from exc

    def close(self) -> None:
        self._writer.close()
        self._client.close()
