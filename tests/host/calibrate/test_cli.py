"""``tynys calibrate …`` in-process: what the user sees, and exit code 2 with one line on bad input."""

import json
import re

import numpy as np
import pytest

from tynys.cli import main

pytestmark = pytest.mark.host


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_json_on_sensortoolkit_files(capsys, toco):
    # UTC days, as sensortoolkit averages (it converts to UTC first): its published numbers.
    code, out, err = run(capsys, "calibrate", "evaluate", "--sensor", str(toco / "toco_toucan_RT01_raw.csv.gz"),
                         "--reference", f"{toco / 'airnowtech_example_reference_data.csv.gz'}:pm25", "--tz", "-05:00",
                         "--day-tz", "UTC", "--keep-flagged", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["interval"], r["n"], round(r["r2"], 2), round(r["slope"], 2), round(r["intercept"], 2), round(r["rmse"], 2))
            for r in rows] == [("1h", 710, 0.52, 0.82, -1.68, 3.53), ("24h", 29, 0.62, 0.86, -2.06, 3.31)]
    assert {"nrmse", "pass", "failed", "targets_apply"} <= set(rows[0])
    assert rows[1]["targets_apply"] is True and rows[1]["pass"] is False
    assert "note: 24h: days run midnight to midnight UTC\n" in err


def test_evaluate_uses_local_days_of_tz(capsys, toco):
    # Without --day-tz the days are those of --tz: midnight to midnight EST (05:00 UTC), one day fewer complete.
    code, out, err = run(capsys, "calibrate", "evaluate", "--sensor", str(toco / "toco_toucan_RT01_raw.csv.gz"),
                         "--reference", f"{toco / 'airnowtech_example_reference_data.csv.gz'}:pm25", "--tz", "-05:00",
                         "--keep-flagged", "--json")
    assert code == 0, err
    day = json.loads(out)[1]
    assert (day["interval"], day["n"], round(day["r2"], 2), round(day["intercept"], 2)) == ("24h", 28, 0.62, -2.02)
    assert "note: 24h: days run midnight to midnight -05:00 standard time" in err


def _daily_site(tmp_path, tz_cells):
    """Hourly sensor values equal to a daily reference stamped at local midnight (UTC+05:00)."""
    rng = np.random.default_rng(1)
    level = rng.uniform(5, 80, 20)
    t0 = np.datetime64("2026-01-01T00:00")
    hours = [str(t0 + np.timedelta64(h, "h")) + tz_cells for h in range(20 * 24)]
    (tmp_path / "node.csv").write_text("time,pm25\n" + "".join(f"{h},{v}\n" for h, v in zip(hours, np.repeat(level, 24))))
    days = [str(t0 + np.timedelta64(d * 24, "h")) + tz_cells for d in range(20)]
    (tmp_path / "ref.csv").write_text("time,pm25\n" + "".join(f"{d},{v}\n" for d, v in zip(days, level)))
    return tmp_path / "node.csv", tmp_path / "ref.csv"


@pytest.mark.parametrize("zone, cells", [(["--tz", "+05:00"], ""), (["--day-tz", "Asia/Almaty"], "+05:00")])
def test_evaluate_daily_reference_at_local_midnight(capsys, tmp_path, zone, cells):
    # A sensor equal to its reference's local-day means: perfect on local days (on UTC days R² was 0.01).
    node, ref = _daily_site(tmp_path, cells)
    code, out, err = run(capsys, "calibrate", "evaluate", "--sensor", f"{node}:pm25", "--reference", f"{ref}:pm25",
                         *zone, "--json")
    assert code == 0, err
    day = json.loads(out)[-1]
    assert day["interval"] == "24h" and day["n"] == 20 and day["r2"] == pytest.approx(1.0)


def test_evaluate_refuses_ambiguous_zone(capsys, toco):
    code, out, err = run(capsys, "calibrate", "evaluate", "--sensor", str(toco / "toco_toucan_RT01_raw.csv.gz"),
                         "--reference", str(toco / "airnowtech_example_reference_data.csv.gz"))
    assert code == 2 and out == ""
    assert err.startswith("tynys: error: ") and err.rstrip().endswith("pass --tz -05:00 or --tz America/New_York")


def test_so2_verdict_is_marked_as_judged_by_unverified_targets(capsys, tmp_path):
    rng = np.random.default_rng(0)
    t = np.datetime64("2026-01-01T00:00") + np.arange(24 * 30).astype("timedelta64[h]")
    ref = rng.gamma(2, 5, len(t))
    node = 0.9 * ref + 1 + rng.normal(0, 2, len(t))
    for name, v in (("ref", ref), ("node", node)):
        (tmp_path / f"{name}.csv").write_text("time,so2\n" + "".join(f"{a}Z,{b:.2f}\n" for a, b in zip(t, v)))
    args = ["calibrate", "evaluate", "--sensor", f"{tmp_path / 'node.csv'}:so2", "--reference", f"{tmp_path / 'ref.csv'}:so2"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert out.splitlines()[0].startswith("SO2 [ppb] against the reference; EPA's targets apply to 1h means")
    assert out.splitlines()[3].split()[-1] == "pass?"
    assert "note: the EPA targets for so2 are unverified" in err and "provisional" in err
    code, out, _ = run(capsys, *args, "--json")
    assert json.loads(out)[0]["targets_verified"] is False and json.loads(out)[0]["pass"] is True
    html = tmp_path / "r.html"
    code, _, err = run(capsys, "calibrate", "report", *args[2:], "--out", str(html))
    assert code == 0, err
    text = html.read_text()
    assert "<strong>Unverified targets:</strong>" in text and "<td>pass?</td>" in text
    assert "judged on 1-hour means" in text


def test_evaluate_with_correction_refuses_wrong_basis(capsys, toco):
    code, _, err = run(capsys, "calibrate", "evaluate", "--sensor", f"{toco / 'toco_toucan_RT01_raw.csv.gz'}:pm25",
                       "--reference", str(toco / "airnowtech_example_reference_data.csv.gz"), "--tz", "-05:00",
                       "--rh", f"{toco / 'toco_toucan_RT01_raw.csv.gz'}:rh", "--correction", "epa2021_fsm_atm", "--basis", "cf1")
    assert code == 2 and "epa2021_fsm_atm was fitted on atm" in err


def test_corrections_json_lists_every_correction(capsys):
    code, out, _ = run(capsys, "calibrate", "corrections", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and rows["barkjohn2021"]["basis"] == "cf1" and rows["epa2021_fsm_atm"]["basis"] == "atm"
    assert rows["barkjohn2021"]["inputs"] == ["x", "rh"] and "Atmos. Meas. Tech., 14, 4617" in rows["barkjohn2021"]["citation"]
    assert rows["barkjohn2022_cf1"]["status"] == "unverified"


def test_corrections_check(capsys):
    code, out, _ = run(capsys, "calibrate", "corrections", "--check")
    assert code == 0 and "max error" not in out and out.count(" ok") == 12


def test_report_writes_html_with_figures(capsys, toco, tmp_path):
    html = tmp_path / "r.html"
    code, _, err = run(capsys, "calibrate", "report", "--sensor", str(toco / "toco_toucan_RT01_raw.csv.gz"),
                       "--sensor", str(toco / "toco_toucan_RT02_raw.csv.gz"), "--pollutant", "pm25",
                       "--reference", str(toco / "airnowtech_example_reference_data.csv.gz"), "--tz", "-05:00",
                       "--correction", "barkjohn2021", "--basis", "cf1", "--rh", f"{toco / 'toco_toucan_RT01_raw.csv.gz'}:rh",
                       "--out", str(html))
    assert code == 0, err
    text = html.read_text()
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", text)
    assert captions[0] == "Sensor (as measured) against reference, 1-hour means of PM2.5 [µg/m³]; dashed: 1:1"
    assert captions[5] == "Sensor (after barkjohn2021) against reference, 1-hour means of PM2.5 [µg/m³]; dashed: 1:1"
    assert len(captions) == 10 and all("_" not in c for c in captions)  # words, not scatter_1h
    assert ("EPA&#x27;s targets for PM2.5 sensors, judged on 24-hour means: slope 0.65 to 1.35; intercept -5 to 5 µg/m³; "
            "R² ≥ 0.7; RMSE ≤ 7 µg/m³ or NRMSE ≤ 30 %; SD ≤ 5 µg/m³ or CV ≤ 30 % (between co-located sensors).") in text
    assert "<h2>As measured</h2>" in text and "<h2>After barkjohn2021</h2>" in text
    assert text.count("<td>deployment</td>") == 4 and "Unverified targets" not in text  # PM2.5 targets were read
    # the drift panel: one labelled line per sensor (it showed the first sensor only, unlabelled)
    from tynys.calibrate.evaluate import evaluate_files
    from tynys.calibrate.inputs import Reading
    from tynys.calibrate.report import rolling_fits
    ev = evaluate_files([f"{toco / f'toco_toucan_RT0{i}_raw.csv.gz'}:pm25" for i in (1, 2)],
                        str(toco / "airnowtech_example_reference_data.csv.gz"), reading=Reading(tz="-05:00"))
    assert sorted(rolling_fits(ev)) == ["toco_toucan_RT01_raw", "toco_toucan_RT02_raw"]


def test_fit_writes_profile_and_drift_runs(capsys, toco, tmp_path):
    s = toco / "toco_toucan_RT01_raw.csv.gz"
    args = ["--sensor", f"{s}:pm25", "--reference", str(toco / "airnowtech_example_reference_data.csv.gz"), "--tz", "-05:00"]
    code, out, err = run(capsys, "calibrate", "fit", *args, "--rh", f"{s}:rh", "--model", "mlr_rh", "--node", "rt01",
                         "--profiles", str(tmp_path), "--json")
    assert code == 0, err
    prof = json.loads(out)
    assert prof["version"] == 1 and prof["model"] == "mlr_rh" and prof["fitted_on"]["n"] == 706
    assert (tmp_path / "rt01" / "pm.pm25_cf1" / "v1.json").is_file()
    code, out, err = run(capsys, "calibrate", "drift", *args, "--baseline-days", "10", "--json")
    assert code == 0, err and isinstance(json.loads(out), list)


def test_fit_refuses_too_little_overlap(capsys, toco, tmp_path):
    code, _, err = run(capsys, "calibrate", "fit", "--sensor", f"{toco / 'toco_toucan_RT01_raw.csv.gz'}:pm25",
                       "--reference", str(toco / "airnowtech_example_reference_data.csv.gz"), "--tz", "-05:00",
                       "--interval", "24h", "--model", "mlr_rh_t", "--rh", f"{toco / 'toco_toucan_RT01_raw.csv.gz'}:rh",
                       "--t", f"{toco / 'toco_toucan_RT01_raw.csv.gz'}:t_c", "--node", "x", "--profiles", str(tmp_path))
    assert code == 2
    assert err == ("tynys: error: fitting mlr_rh_t: only 28 co-located 24h intervals with both sensor and reference; "
                   "at least 40 are needed (40 days of overlap): co-locate longer, check the two files cover the same "
                   "dates, or check the time zone\n")


def test_compare_leave_site_out_refuses_sensors_at_one_reference(capsys, toco):
    sensors = [a for i in (1, 2, 3) for a in ("--sensor", f"{toco / f'toco_toucan_RT0{i}_raw.csv.gz'}:pm25")]
    code, _, err = run(capsys, "calibrate", "compare", *sensors, "--reference",
                       f"{toco / 'airnowtech_example_reference_data.csv.gz'}:pm25", "--tz", "-05:00", "--basis", "atm",
                       "--validation", "site", "--model", "ols")
    assert code == 2
    assert err == ("tynys: error: leave-site-out needs sensors at 2 or more reference sites; these 3 sensor(s) "
                   "(toco_toucan_RT01_raw, toco_toucan_RT02_raw, toco_toucan_RT03_raw) were all paired with the same "
                   "reference values (one site): use --validation time\n")


def test_compare_leave_site_out_on_purpleair(capsys, examples):
    f = examples / "purpleair-se-us-daily" / "DAILY90_r0_5km_processeddata_PA_AQS_Jan2021_Aug2023_Final.csv.gz"
    code, out, err = run(capsys, "calibrate", "compare", "--sensor", f"{f}:A_B_Avg", "--reference", f"{f}:conc",
                         "--rh", f"{f}:humidity_a", "--t", f"{f}:temp_Celsius", "--time-column", "DAILY",
                         "--site-column", "sensor_index", "--tz", "America/New_York", "--basis", "cf1", "--pollutant", "pm25",
                         "--validation", "site", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows[0]["kind"] == "fitted" and rows[-1]["candidate"] == "raw"
    assert "note: 16317, 25949 share one reference monitor: held out together as one site" in err
    assert "note: epa2021_fsm_atm skipped: it needs atm, the sensor column is cf1" in err


@pytest.mark.shared
def test_evaluate_on_shared_files(capsys, shared_dir):
    d = shared_dir / "data" / "sensortoolkit-toco"
    code, out, err = run(capsys, "calibrate", "evaluate", "--sensor", f"{d / 'toco_toucan_RT03_raw.csv'}:pm25",
                         "--reference", str(d / "airnowtech_example_reference_data.csv"), "--tz", "-05:00", "--json")
    assert code == 0, err
    assert [r["n"] for r in json.loads(out)] == [708, 28]  # local (EST) days
