"""Tests that need a service the project installs fail in CI when it is missing, and skip
(with the reason) on a developer's machine."""

import pytest

pytestmark = pytest.mark.host


def test_a_missing_service_fails_in_ci_and_skips_elsewhere(need_service, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed .*CI=true"):
        need_service("chromium", False, "apt-get install chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        need_service("chromium", False, "apt-get install chromium")
    need_service("chromium", True, "")  # present: nothing happens
