"""Fixtures shared by the estate tests: where the example estate lives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `estate` is imported from the checkout; until the project is installed (pip install -e .) or
# pytest's `pythonpath` is set, put the checkout on the path so these tests run on their own.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXAMPLE_SITE = ROOT / "examples" / "harbor-view.yaml"


@pytest.fixture
def example_path() -> Path:
    return EXAMPLE_SITE
