"""MQTT intake: topics, payload validation, dead letters, device state and telemetry storage."""
