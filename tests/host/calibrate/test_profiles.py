"""Versioned profiles: stored once per version, applied by time, raw untouched."""

import json

import numpy as np
import pytest

from tynys.calibrate.profiles import Profile, ProfileStore, apply_profiles
from tynys.errors import TynysError

pytestmark = pytest.mark.host


def test_versions_apply_by_time_and_raw_stays(tmp_path):
    store = ProfileStore(tmp_path)
    v1 = store.save(Profile("osk-01", "pm.pm25_cf1", "ols", {"intercept": 0.0, "slope": 0.5}, "2026-01-01T00:00:00Z"))
    v2 = store.save(Profile("osk-01", "pm.pm25_cf1", "ols", {"intercept": 1.0, "slope": 0.5}, "2026-01-02T00:00:00Z",
                            "2026-01-03T00:00:00Z"))
    v3 = store.save(Profile("osk-01", "pm.pm25_cf1", "correction:barkjohn2021", {"basis": "cf1"}, "2026-01-04T00:00:00Z"))
    assert (v1.version, v2.version, v3.version) == (1, 2, 3)
    t = np.array([1767225599, 1767225600, 1767312000, 1767398400, 1767484800])  # before, day1, day2, day3, day4
    raw = np.full(5, 10.0)
    rh = np.full(5, 50.0)
    profiles = store.list("osk-01", "pm.pm25_cf1")
    corrected, version = apply_profiles(t, {"x": raw, "rh": rh}, profiles)
    assert version.tolist() == [0, 1, 2, 1, 3]
    np.testing.assert_allclose(corrected, [np.nan, 5.0, 6.0, 5.0, 6.68], atol=1e-9)
    assert raw.tolist() == [10.0] * 5
    doc = json.loads((tmp_path / "osk-01" / "pm.pm25_cf1" / "v2.json").read_text())
    assert doc["schema"] == "tynys-calibration-profile/1" and doc["valid_to"] == "2026-01-03T00:00:00Z"


def test_existing_version_is_never_overwritten(tmp_path):
    store = ProfileStore(tmp_path)
    p = store.save(Profile("n", "pm.pm25_cf1", "ols", {"intercept": 0, "slope": 1}, "2026-01-01T00:00:00Z"))
    path = tmp_path / "n" / "pm.pm25_cf1" / "v1.json"
    before = path.read_text()
    store.save(Profile("n", "pm.pm25_cf1", "ols", {"intercept": 9, "slope": 9}, "2026-01-01T00:00:00Z"))
    assert path.read_text() == before and p.version == 1


def test_bad_names_refused(tmp_path):
    with pytest.raises(TynysError, match="invalid node or sensor name '../x'"):
        ProfileStore(tmp_path).save(Profile("../x", "pm", "ols", {}, "2026-01-01T00:00:00Z"))
