"""Fixtures shared by the estate tests: where the example estate lives."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

EXAMPLE_SITE = ROOT / "examples" / "harbor-view.yaml"


@pytest.fixture
def example_path() -> Path:
    return EXAMPLE_SITE
