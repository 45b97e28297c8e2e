"""Fixtures for the calibration tests: the example data that ships in calibration/examples."""

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "calibration" / "examples"
TOCO = EXAMPLES / "sensortoolkit-toco"


@pytest.fixture(scope="session")
def toco() -> Path:
    return TOCO


@pytest.fixture(scope="session")
def examples() -> Path:
    return EXAMPLES
