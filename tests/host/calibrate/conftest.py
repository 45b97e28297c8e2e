"""Fixtures for the calibration tests: the repo's copy of sensortoolkit's example data."""

from pathlib import Path

import pytest

TOCO = Path(__file__).parent / "data" / "sensortoolkit-toco"


@pytest.fixture(scope="session")
def toco() -> Path:
    return TOCO
