"""Fixtures for the calibration tests: the repo's copy of sensortoolkit's example data."""

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "calibration" / "examples"
TOCO = EXAMPLES / "sensortoolkit-toco"


@pytest.fixture(scope="session")
def toco() -> Path:
    return TOCO
