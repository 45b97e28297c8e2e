"""bench/run.py's comparison harness: sides alternate, figures and ratios come from the runs
(a fake clock makes each side cost a known time, so the arithmetic is checked exactly)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest

pytestmark = pytest.mark.host

RUN = Path(__file__).resolve().parents[2] / "bench" / "run.py"


@pytest.fixture
def run_mod():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_compare_alternates_sides_and_prints_median_best_and_fraction_of_the_ceiling(run_mod, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(run_mod.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(run_mod.time, "process_time", lambda: clock[0] / 2)  # half of it on the CPU
    order = []

    def side(name, cost):
        def prepare():
            clock[0] += 100.0  # set-up is not timed
            return lambda: (order.append(name), clock.__setitem__(0, clock[0] + cost.pop(0)))
        return prepare

    out = io.StringIO()
    report = run_mod.Report(out=out)
    times = report.compare(
        "ingest", {"tynys": side("tynys", [2.0, 2.0, 4.0]), "baseline": side("baseline", [8.0, 8.0, 8.0]),
                   "ceiling": side("ceiling", [1.0, 1.0, 1.0])},
        work=100, per="records", repeats=3, baseline="baseline", ceiling="ceiling")
    assert order == ["tynys", "baseline", "ceiling", "baseline", "ceiling", "tynys", "ceiling", "tynys", "baseline"]
    assert times == {"tynys": [2.0, 2.0, 4.0], "baseline": [8.0, 8.0, 8.0], "ceiling": [1.0, 1.0, 1.0]}
    assert report.cpu == {"tynys": [1.0, 1.0, 2.0], "baseline": [4.0, 4.0, 4.0], "ceiling": [0.5, 0.5, 0.5]}
    lines = out.getvalue().splitlines()
    assert lines[0] == "ingest [tynys]: 50 records/s (median; best 50; best by CPU time 100, 3 runs)"
    assert lines[1] == "ingest [baseline]: 12.5 records/s (median; best 12.5; best by CPU time 25, 3 runs)"
    assert lines[3] == "ingest: tynys / baseline: 4 x (median of 3 rounds; range 2..4; by CPU time 4)"
    assert lines[4] == "ingest: fraction of the ceiling (tynys / ceiling): 0.5 (median of 3 rounds; range 0.25..0.5; by CPU time 0.5)"


def test_peak_memory_is_measured_in_a_child_per_side(run_mod):
    def big():
        return lambda: bytearray(64 << 20)

    def small():
        keep = bytearray(64 << 20)  # allocated in set-up: not counted
        return lambda: keep

    out = io.StringIO()
    peaks = run_mod.Report(out=out).peak_memory("alloc", {"big": big, "small": small}, baseline="small")
    assert peaks["big"] > 60 << 20 and peaks["small"] < 8 << 20
    assert "alloc peak memory: big / small" in out.getvalue()
