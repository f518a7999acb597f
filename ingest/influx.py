"""Telemetry to InfluxDB (when configured) through influxdb-client's batching writer, at the devices' timestamps."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Sequence

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import WriteOptions

from ingest.payloads import Telemetry

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


class InfluxSink:
    """Hands committed telemetry to a background batch writer; a slow or absent InfluxDB never stalls ingest."""

    def __init__(self, url: str, token: str, org: str, bucket: str, site: str = "") -> None:
        self._client = InfluxDBClient(url=url, token=token, org=org)
        self._bucket = bucket
        self._site = site
        self._writer = self._client.write_api(write_options=WriteOptions(
            batch_size=1000, flush_interval=1000, retry_interval=5000, max_retries=5, max_retry_delay=60_000,
        ))

    def __call__(self, messages: Sequence[Telemetry]) -> None:
        try:
            self._writer.write(bucket=self._bucket, record=to_points(messages, self._site))
        except Exception:  # the writer buffers and retries; an error here must not fail a committed batch
            log.exception("InfluxDB write could not be queued")

    def close(self) -> None:
        self._writer.close()
        self._client.close()
