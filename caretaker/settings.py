"""One validated Settings object per process, read from CARETAKER_* variables and an optional .env."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from caretaker.api.limits import rate_items
import caretaker.rules as rules_package
from caretaker.ingest.client import MqttTarget, parse_mqtt_url

BUNDLED_RULES = Path(rules_package.__file__).resolve().parent / "default_rules.yaml"  # rules/ in a clone, caretaker/rules installed
ADMIN_TOKEN_MIN_LENGTH = 16
# what people leave in a secret when they meant to change it (compared without case, spaces or punctuation)
PLACEHOLDERS = frozenset({"changeme", "changemenow", "changethis", "secret", "password", "passw0rd", "admin",
                          "administrator", "token", "admintoken", "test", "example", "default", "letmein",
                          "123456", "12345678", "1234567890", "qwerty", "xxx", "todo", "replaceme", "yoursecret"})
_IN_DEMO: ContextVar[bool] = ContextVar("caretaker_settings_in_demo", default=False)


def is_placeholder(secret: str) -> bool:
    """True for a secret nobody chose: `change-me`, `secret`, `password`, `admin`, one character repeated; pure."""
    folded = "".join(c for c in secret.lower() if c.isalnum())
    return (folded in PLACEHOLDERS or "changeme" in folded or "replaceme" in folded
            or len(set(folded)) <= 1)


def _url_password(url: str | None) -> str | None:
    try:
        return urlsplit(url).password if url else None
    except ValueError:
        return None


@contextmanager
def demo_settings() -> Iterator[None]:
    """Settings made inside this block belong to `caretaker demo`, on the loopback with throw-away data: a
    short or placeholder admin token is accepted there."""
    marker = _IN_DEMO.set(True)
    try:
        yield
    finally:
        _IN_DEMO.reset(marker)


class Settings(BaseSettings):
    # hide_input_in_errors: a refused secret is never repeated in an error, a traceback or a log line
    model_config = SettingsConfigDict(env_prefix="CARETAKER_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_prefix: str = Field(default="caretaker", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # MQTT 5 gives a session expiry and a receive maximum; the demo's embedded broker speaks 3.1.1 only
    mqtt_protocol: int = Field(default=5, description="5 or 4 (3.1.1)")
    # the persistent sessions' client ids start with this: `caretaker-{site}` for an estate's ingest (one session
    # per estate, whichever instance holds it), `caretaker-pub-{instance}-{pid}` for an instance's publisher
    mqtt_client_id: str = Field(default="caretaker", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # mqtts:// with a private CA: its certificate (PEM); unset, the system's CAs (or SSL_CERT_FILE) are used
    mqtt_ca_file: Path | None = None
    # a client certificate and its key (PEM), for a broker that asks for one (require_certificate true)
    mqtt_cert_file: Path | None = None
    mqtt_key_file: Path | None = None
    database_url: str = "sqlite:///caretaker.db"
    site_file: Path | None = None  # a site file, or a directory whose *.yaml files are one estate each
    # validated site files kept for a fast restart (docs/deploy.md, "The site cache"); `off`: parse at every start
    site_cache_dir: str = "~/.cache/caretaker"
    rules_file: Path = BUNDLED_RULES
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # several instances (docs/deploy.md, "Scaling out"): what this one runs (`caretaker run --role`), its name in
    # the estate leases (unset: the host's name), how many estates it ingests at most, how long a lease lasts
    role: str = "ingest,timers,api"
    instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    estates_per_instance: int = Field(default=200, ge=1)
    lease_seconds: float = Field(default=15.0, ge=1.0)
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
    # how long a busy inbox keeps filling one batch after its first message; an empty inbox sends the batch at
    # once (ingest.client.drain), so a lone reading never waits for it
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

    @field_validator("role")
    @classmethod
    def _roles_known(cls, value: str) -> str:
        from caretaker.roles import parse_roles

        parse_roles(value)
        return value

    @field_validator("instance_id", mode="before")
    @classmethod
    def _empty_name_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("site_file", "admin_token", "influx_url", "influx_token", "influx_org", "influx_bucket",
                     "public_url", "mqtt_ca_file", "mqtt_cert_file", "mqtt_key_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `CARETAKER_SITE_FILE=` in a .env or compose file means "not set", not "the current folder"
        return None if value == "" else value

    @field_validator("admin_token")
    @classmethod
    def _admin_token_is_a_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or _IN_DEMO.get():
            return value  # unset: `caretaker run` prints a first-run admin token (docs/deploy.md)
        raw = value.get_secret_value()
        if is_placeholder(raw):
            raise ValueError("is a placeholder, not a secret: set a long random value (python3 -c \"import secrets; "
                             "print(secrets.token_urlsafe(32))\") or leave it unset for a first-run admin token")
        if len(raw) < ADMIN_TOKEN_MIN_LENGTH:
            raise ValueError(f"is {len(raw)} characters long; an admin token needs at least {ADMIN_TOKEN_MIN_LENGTH} "
                             "(python3 -c \"import secrets; print(secrets.token_urlsafe(32))\")")
        return value

    @field_validator("influx_token")
    @classmethod
    def _influx_token_is_a_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _IN_DEMO.get() and is_placeholder(value.get_secret_value()):
            raise ValueError("is a placeholder, not a secret: give the InfluxDB API token")
        return value

    @field_validator("mqtt_url", "database_url")
    @classmethod
    def _url_password_is_a_secret(cls, value: str) -> str:
        password = _url_password(value)
        if password and not _IN_DEMO.get() and is_placeholder(password):
            raise ValueError("has a placeholder password (like change-me): set the real one")
        return value

    @field_validator("mqtt_ca_file", "mqtt_cert_file", "mqtt_key_file")
    @classmethod
    def _file_is_readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _tls_files_fit_the_url(self) -> "Settings":
        tls_files = [name for name in ("mqtt_ca_file", "mqtt_cert_file", "mqtt_key_file") if getattr(self, name)]
        if tls_files and urlsplit(self.mqtt_url).scheme not in ("mqtts", "ssl"):
            names = ", ".join(f"CARETAKER_{name.upper()}" for name in tls_files)
            raise ValueError(f"{names} set, but CARETAKER_MQTT_URL is not mqtts://: the files are used only over TLS")
        if (self.mqtt_cert_file is None) != (self.mqtt_key_file is None):
            raise ValueError("CARETAKER_MQTT_CERT_FILE and CARETAKER_MQTT_KEY_FILE go together: set both or neither")
        return self

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
        return dataclasses.replace(parse_mqtt_url(self.mqtt_url), ca_file=_str(self.mqtt_ca_file),
                                   cert_file=_str(self.mqtt_cert_file), key_file=_str(self.mqtt_key_file))

    @property
    def site_cache(self) -> Path | None:
        """Where validated site files are kept, or None when the cache is off."""
        if self.site_cache_dir.strip().lower() in ("", "off", "false", "no", "0"):
            return None
        return Path(self.site_cache_dir).expanduser()

    @property
    def influx_enabled(self) -> bool:
        return bool(self.influx_url and self.influx_token and self.influx_org and self.influx_bucket)


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)
