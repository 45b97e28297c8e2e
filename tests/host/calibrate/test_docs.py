"""Every ``tynys calibrate`` command has help text and is shown in docs/calibration.md."""

from pathlib import Path

import pytest

from tynys.cli.calibrate import calibrate

pytestmark = pytest.mark.host

DOC = (Path(__file__).resolve().parents[3] / "docs" / "calibration.md").read_text()


@pytest.mark.parametrize("name", sorted(calibrate.commands))
def test_command_documented(name):
    cmd = calibrate.commands[name]
    assert cmd.help and "Example:" in cmd.help
    assert f"tynys calibrate {name}" in DOC
