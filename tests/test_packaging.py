"""`pip install .` as a deployer runs it: one import name (caretaker), the example estate inside, a demo that starts.

The wheel is built from this checkout and installed into a folder of its own; the installed copy is then run
with the interpreter's site hooks off, so the editable install of the checkout cannot stand in for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.conftest import free_port, interrupt

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("estate", "ingest", "rules", "dispatch", "api", "simulators")


def test_every_package_folder_is_installed_under_the_caretaker_name():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    for folder in ("caretaker", *ROOMS):
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT).parts
            name = ".".join(relative if relative[0] == "caretaker" else ("caretaker", *relative))
            assert name in listed, f"{init.parent.relative_to(ROOT)} is a package but pyproject.toml does not list {name}"
    for room in ROOMS:
        assert config["package-dir"][f"caretaker.{room}"] == room


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """The wheel and the folder it is installed in. Built from a copy of the checkout: setuptools builds in the
    source tree (build/), and a stale build/lib there would slip removed modules into later wheels."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "*.egg-info", "__pycache__", "test-artifacts", ".demo", "*.db*", "node_modules"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(work), str(source)], check=True, capture_output=True, text=True)
    wheel = next(work.glob("caretaker-*.whl"))
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    return wheel, target


def _run_installed(target: Path, *args: str, **popen) -> subprocess.Popen:
    # -S: no site hooks, so neither the checkout's editable finder nor its folders are importable; the
    # dependencies come from this interpreter's site-packages, the package from the wheel's copy alone.
    path = os.pathsep.join([str(target), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARETAKER_")}
    return subprocess.Popen([sys.executable, "-S", *args], env={**env, "PYTHONPATH": path, **popen.pop("env", {})},
                            cwd=popen.pop("cwd"), **popen)


def test_the_wheel_claims_only_the_caretaker_name_and_carries_the_estate_pages_and_migrations(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"caretaker"}, f"the wheel installs global names besides caretaker: {sorted(top - {'caretaker'})}"
    for expected in ("caretaker/examples/harbor-view.yaml", "caretaker/api/static/index.html",
                     "caretaker/rules/default_rules.yaml", "caretaker/migrations/script.py.mako",
                     "caretaker/api/static/tech/index.html"):
        assert expected in names, f"{expected} is missing from the wheel"


def test_the_installed_copy_imports_none_of_the_checkouts_folders(installed, tmp_path):
    _, target = installed
    probe = _run_installed(target, "-c", "import caretaker.service, caretaker.api.app, sys;"
                           "print(caretaker.service.__file__);"
                           "import importlib.util; print([n for n in ('api','rules','estate','ingest','dispatch',"
                           "'simulators') if importlib.util.find_spec(n)])",
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = probe.communicate(timeout=60)
    assert probe.returncode == 0, out
    first, second = out.strip().splitlines()[-2:]
    assert first.startswith(str(target)), out
    assert second == "[]", f"global names importable after install: {second}"


@pytest.mark.slow
def test_pip_install_then_caretaker_demo_serves_the_control_room(installed, tmp_path):
    _, target = installed
    http, broker = free_port(), free_port()
    demo = _run_installed(target, "-m", "caretaker.cli", "demo", "--broker-port", str(broker),
                          "--data-dir", str(tmp_path / "demo"), cwd=tmp_path, env={"CARETAKER_HTTP_PORT": str(http)},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            output.append(line)
            if "operator token:" in line:
                break
        assert any("operator token:" in line for line in output), "".join(output)
        page = urllib.request.urlopen(f"http://127.0.0.1:{http}/", timeout=5).read().decode()
        assert "Caretaker" in page
        health = urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=5)
        assert health.status == 200
    finally:
        output.append(interrupt(demo))
    assert "Traceback" not in "".join(output), "".join(output)[-3000:]
