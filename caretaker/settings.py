"""One validated Settings object per process, read from CARETAKER_* variables and an optional .env."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.limits import rate_items
from ingest.client import MqttTarget, parse_mqtt_url

BUNDLED_RULES = Path(__file__).resolve().parent.parent / "rules" / "default_rules.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARETAKER_", env_file=".env", extra="ignore")

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_prefix: str = Field(default="caretaker", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # MQTT 5 gives a session expiry and a receive maximum; the demo's embedded broker speaks 3.1.1 only
    mqtt_protocol: int = Field(default=5, description="5 or 4 (3.1.1)")
    mqtt_client_id: str = "caretaker-service"
    database_url: str = "sqlite:///caretaker.db"
    site_file: Path | None = None
    rules_file: Path = BUNDLED_RULES
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # an ingest-only worker in a scaled-out deployment runs without the API
    http_enabled: bool = True
    admin_token: SecretStr | None = None
    # volume limits of the API (docs/api.md#limits): a JSON body's bytes, requests per token, streams per token
    http_max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    http_rate_limit: str = "3000/minute"
    http_streams_per_token: int = Field(default=8, ge=1)
    http_public_rate_limit: str = "120/minute"  # per address, on the residents' tokenless /r/ pages
    # a device sending more than this is flooding: the excess is counted, not processed (ingest/flood.py)
    device_flood_rate: float = Field(default=20.0, gt=0)
    device_flood_burst: int = Field(default=3000, ge=1)
    influx_url: str | None = None
    influx_token: SecretStr | None = None
    influx_org: str | None = None
    influx_bucket: str | None = None
    # alerts of one trade in one building within this many seconds are one incident (0: never group)
    incident_window_s: int = Field(default=600, ge=0)
    telemetry_retention_days: int = Field(default=90, ge=1)
    dead_letter_retention_days: int = Field(default=30, ge=1)
    tick_seconds: float = 1.0
    # a timer this many seconds past due (beyond a tick) raises system.timers_overdue (docs/operations.md)
    timers_overdue_s: float = Field(default=60.0, gt=0)
    batch_max: int = 500
    batch_wait_ms: int = 5
    # `json`: one JSON object per log line, with site, ticket, device and alert as fields (docs/deploy.md)
    log_format: Literal["text", "json"] = "text"
    # residents' progress links (docs/residents.md): the address they are opened at, e.g. https://care.example.com
    # (unset: the links are paths, /r/…), and how many days after its ticket closes a link still works
    public_url: str | None = None
    resident_link_days: int = Field(default=7, ge=1)

    @field_validator("mqtt_url")
    @classmethod
    def _broker_url_parses(cls, value: str) -> str:
        parse_mqtt_url(value)
        return value

    @field_validator("site_file", "admin_token", "influx_url", "influx_token", "influx_org", "influx_bucket",
                     "public_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `CARETAKER_SITE_FILE=` in a .env or compose file means "not set", not "the current folder"
        return None if value == "" else value

    @field_validator("http_rate_limit", "http_public_rate_limit")
    @classmethod
    def _rate_parses(cls, value: str) -> str:
        rate_items(value)
        return value

    @field_validator("mqtt_protocol")
    @classmethod
    def _known_protocol(cls, value: int) -> int:
        if value not in (4, 5):
            raise ValueError("CARETAKER_MQTT_PROTOCOL must be 5 (MQTT 5) or 4 (MQTT 3.1.1)")
        return value

    @property
    def mqtt(self) -> MqttTarget:
        return parse_mqtt_url(self.mqtt_url)

    @property
    def influx_enabled(self) -> bool:
        return bool(self.influx_url and self.influx_token and self.influx_org and self.influx_bucket)
