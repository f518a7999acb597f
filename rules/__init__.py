"""Alarm rules: the rules file, pure evaluation of readings with per-device state, alerts and their store."""
