"""Channels beyond MQTT (docs/channels.md): every outbox message a channel takes is delivered to it, from a durable
queue of its own, with its own retries; one failing channel never delays another or the MQTT pushes."""
