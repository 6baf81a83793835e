"""Fixtures every test layer may use."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def toy_template() -> Path:
    """A small stack shaped like template.yaml, its handlers written for the local cloud's tests."""
    return FIXTURES / "local_stack" / "template.yaml"
