"""No silent pairing or guessing in ``tynys calibrate`` (audit issue 10, item 14): each case is an
error naming the fix, or a printed note — never a quiet default."""

import numpy as np
import pytest

from tynys.calibrate import evaluate, inputs
from tynys.cli import main
from tynys.errors import TynysError

pytestmark = pytest.mark.host

DAY = 86400


def _hourly(days=12, seed=0):
    rng = np.random.default_rng(seed)
    t = 1767225600 + 3600 * np.arange(days * 24)
    ref = rng.gamma(2, 6, len(t))
    return t, ref, 0.8 * ref + 2 + rng.normal(0, 1, len(t))


def _csv(path, header, rows):
    path.write_text(header + "\n" + "".join(",".join(str(c) for c in r) + "\n" for r in rows))
    return path


@pytest.fixture
def two_sites(tmp_path):
    """Sensors a and b; a reference file holding sites a and c (no reference for b)."""
    t, ref, sen = _hourly()
    sensors = _csv(tmp_path / "sensors.csv", "time,site,pm25",
                   [(x, s, round(v, 2)) for s in ("a", "b") for x, v in zip(t, sen)])
    refs = _csv(tmp_path / "refs.csv", "time,site,pm25", [(x, s, round(v, 2)) for s in ("a", "c") for x, v in zip(t, ref)])
    return sensors, refs


def test_a_sensor_without_its_reference_is_refused_not_paired_with_the_first(two_sites):
    sensors, refs = two_sites
    how = inputs.Reading(site_column="site")
    with pytest.raises(TynysError) as e:
        inputs.colocated(f"{sensors}:pm25", f"{refs}:pm25", reading=how)
    assert str(e.value) == (f"reference {refs} holds 2 sites (a, c) and none is named like sensor(s) b: pair them by the "
                            "same site names (--site-column), pick one reference site with --site SITE, or give a "
                            "reference file with one series")
    # evaluate refused it the same way (it used to drop b without a word)
    with pytest.raises(TynysError, match="none is named like sensor.s. b"):
        evaluate.evaluate_files(f"{sensors}:pm25", f"{refs}:pm25", reading=how)
    # --site a: one site of every multi-site file
    one = inputs.colocated(f"{sensors}:pm25", f"{refs}:pm25", reading=inputs.Reading(site_column="site", site="a"))
    assert one.sensors == ["a"] and len(one) == 12 * 24


def test_several_sensors_in_one_file_are_not_averaged_together(two_sites, capsys):
    sensors, refs = two_sites
    code = main(["calibrate", "evaluate", "--sensor", f"{sensors}:pm25", "--reference", f"{refs}:pm25", "--site", "a"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (f"tynys: error: {sensors}: 288 rows repeat the time of another row (first 2026-01-01T00:00:00Z): the "
                   "file holds several sensors or sites; say which column tells them apart with --site-column COLUMN\n")


def test_the_interval_is_not_raised_silently(tmp_path):
    t = 1767225600 + DAY * np.arange(40)
    v = np.linspace(5, 40, 40)
    s = _csv(tmp_path / "s.csv", "time,pm25", zip(t, v))
    r = _csv(tmp_path / "r.csv", "time,pm25", zip(t, v * 0.7))
    with pytest.raises(TynysError) as e:
        inputs.colocated(str(s), str(r), pollutant="pm25", interval="1h")
    assert str(e.value) == f"1h means cannot be made: {s} is recorded every 24 h; use --interval 24h"
    d = inputs.colocated(str(s), str(r), pollutant="pm25")
    assert d.interval == "24h" and d.notes == [f"24h intervals: {s} is recorded every 24 h (--interval to choose)"]


def test_pollutant_and_basis_are_not_read_from_column_names(tmp_path, capsys):
    t, ref, sen = _hourly(days=40)
    f = _csv(tmp_path / "pa.csv", "time,pm10_atm_a,rh,ref", zip(t, sen, np.full(len(t), 50), ref))
    with pytest.raises(TynysError) as e:  # it was taken as PM10 (and ATM) from the letters in its name
        inputs.colocated(f"{f}:pm10_atm_a", f"{f}:ref")
    assert str(e.value) == ("which pollutant is this ('pm10_atm_a', 'ref')? say --pollutant pm25|pm10|so2 "
                            "(a column's meaning is not guessed from its name)")
    code = main(["calibrate", "compare", "--sensor", f"{f}:pm10_atm_a", "--reference", f"{f}:ref", "--rh", f"{f}:rh",
                 "--pollutant", "pm25", "--model", "ols", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert ("note: barkjohn2020_draft, barkjohn2021, barkjohn2021_sensortoolkit, barkjohn2021_smoke, barkjohn2022_cf1, "
            "epa2021_fsm_atm, lrapa, nilson2022_kappa skipped: say which Plantower output the sensor column is (--basis cf1 "
            "or --basis atm); it is not read from the column's name") in err
    assert "1h" not in err  # hourly data: 1h, no note


def test_a_file_without_a_named_column_needs_the_pollutant(tmp_path):
    t, ref, sen = _hourly()
    f = _csv(tmp_path / "node.csv", "time,a,b", zip(t, sen, ref))
    with pytest.raises(TynysError, match=r"sensor \S+node.csv: which column\? write \S+node.csv:COLUMN \(columns: a, b\)"):
        inputs.colocated(str(f), f"{f}:b")
