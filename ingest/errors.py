"""Ingest's failures that the worker must tell apart from a message's own fault."""


class TelemetryStoreUnavailable(Exception):
    """The telemetry store did not take a batch; the batch is retried and nothing in it is acknowledged."""
