"""Deployment files (docker-compose.yml, Dockerfile, .env.example, mosquitto/) agree with the repo and the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caretaker.settings import Settings
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"

# Every setting the service reads, from the Settings class itself: a CARETAKER_ name outside it is a typo.
KNOWN_SETTINGS = frozenset(f"CARETAKER_{name.upper()}" for name in Settings.model_fields)
# Variables that only docker compose interpolates (from .env); the service never reads them.
COMPOSE_ONLY = frozenset({"CARETAKER_MQTT_PASSWORD"})

EXPECTED_SERVICES = ("mosquitto", "postgres", "influxdb", "caretaker")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["KEY=value", ...]
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _bind_sources(service: dict) -> list[str]:
    """Host paths of a service's bind mounts (short and long syntax), named volumes left out."""
    sources = []
    for volume in service.get("volumes") or []:
        source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
        if source.startswith((".", "/")):
            sources.append(source)
    return sources


def test_compose_file_has_every_service(compose):
    assert set(EXPECTED_SERVICES) <= set(compose["services"])


@pytest.mark.parametrize("name", EXPECTED_SERVICES)
def test_service_has_image_or_build_restart_and_healthcheck(compose, name):
    service = compose["services"][name]
    assert "image" in service or "build" in service
    assert service.get("restart") == "unless-stopped"
    assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


@pytest.mark.parametrize("name", EXPECTED_SERVICES)
def test_mounted_paths_exist_in_repo(compose, name):
    for source in _bind_sources(compose["services"][name]):
        assert not source.startswith("/"), f"{name} mounts an absolute host path {source}"
        assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repo"


def test_named_volumes_are_declared(compose):
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_build_context_and_dockerfile_exist(compose):
    build = compose["services"]["caretaker"]["build"]
    context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert context.is_dir()
    assert (context / dockerfile).is_file()


@pytest.mark.parametrize("name", EXPECTED_SERVICES)
def test_caretaker_variables_are_known_settings(compose, name):
    for key in _environment(compose["services"][name]):
        if key.startswith("CARETAKER_"):
            assert key in KNOWN_SETTINGS, f"{name} sets {key}, which is not a setting in docs/deploy.md"


def test_interpolated_caretaker_variables_are_known():
    for variable in INTERPOLATION.findall(COMPOSE_FILE.read_text(encoding="utf-8")):
        if variable.startswith("CARETAKER_"):
            assert variable in KNOWN_SETTINGS | COMPOSE_ONLY, f"${{{variable}}} is not a known setting"


def test_caretaker_service_is_configured(compose):
    service = compose["services"]["caretaker"]
    env = _environment(service)
    for key in ("CARETAKER_MQTT_URL", "CARETAKER_DATABASE_URL", "CARETAKER_SITE_FILE",
                "CARETAKER_ADMIN_TOKEN", "CARETAKER_INFLUX_URL", "CARETAKER_INFLUX_TOKEN",
                "CARETAKER_INFLUX_ORG", "CARETAKER_INFLUX_BUCKET", "CARETAKER_HTTP_HOST"):
        assert env.get(key), f"caretaker service does not set {key}"
    # over TLS: the broker's plain listener is bound to its own loopback (mosquitto/mosquitto.conf)
    assert env["CARETAKER_MQTT_URL"].startswith("mqtts://caretaker:")
    assert env["CARETAKER_MQTT_URL"].endswith("@mosquitto:8883")
    assert env["SSL_CERT_FILE"] == "/certs/ca.crt" and "./mosquitto/certs:/certs:ro" in service["volumes"]
    assert env["CARETAKER_DATABASE_URL"].startswith("postgresql+psycopg://caretaker:")
    assert env["CARETAKER_HTTP_HOST"] == "0.0.0.0"
    mounted = [v.split(":")[1] for v in service["volumes"] if isinstance(v, str)]
    assert env["CARETAKER_SITE_FILE"] in mounted
    assert any(str(port).split(":")[-1] == "8000" for port in service["ports"])
    assert "/healthz" in " ".join(service["healthcheck"]["test"])


def test_caretaker_waits_for_healthy_dependencies(compose):
    depends_on = compose["services"]["caretaker"]["depends_on"]
    assert set(depends_on) == {"mosquitto", "postgres", "influxdb"}
    for name, condition in depends_on.items():
        assert condition == {"condition": "service_healthy"}, name


def test_env_example_documents_every_setting():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    for setting in sorted(KNOWN_SETTINGS | COMPOSE_ONLY):
        assert setting in text, f".env.example does not mention {setting}"


def test_env_example_covers_every_required_compose_variable():
    defined = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    required = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?", COMPOSE_FILE.read_text(encoding="utf-8"))
    assert set(required) <= defined


def test_dockerfile_builds_a_non_root_service_image():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r"^RUN pip install \.", text, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^CMD \["caretaker",\s*"run"\]', text, re.MULTILINE)


def test_dockerfile_copies_only_existing_paths():
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repo"


def test_dockerfile_copies_every_folder_the_package_installs():
    import tomllib

    folders = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values())
    copied = {source.strip("/") for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
              if line.startswith("COPY ") and "--from" not in line for source in line.split()[1:-1]}
    assert folders <= copied, f"pip install . in the image would miss {sorted(folders - copied)}"


def test_mosquitto_config_files_exist_and_protect_the_service_queue():
    conf = (ROOT / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8")
    settings = {}
    for line in conf.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().partition(" ")
            settings.setdefault(key, value)
    assert settings["allow_anonymous"] == "false"
    assert settings["password_file"] == "/mosquitto/config/passwords"
    assert settings["acl_file"] == "/mosquitto/config/acl"
    assert settings["persistence"] == "true"
    assert int(settings["max_queued_messages"]) >= 100_000
    assert 65_536 < int(settings["max_packet_size"]) <= 80_000
    assert (ROOT / "mosquitto" / "acl").is_file()
    assert (ROOT / "mosquitto" / "passwords.example").is_file()
