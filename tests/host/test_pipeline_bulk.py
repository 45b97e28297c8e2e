"""The pipeline reads all nodes' windows at once and averages them together (numpy grouping);
what it gives must be exactly what reading and averaging node by node gives, on a city made to
hold the awkward cases: windows sent twice from two boots with different values, windows without
a value, gaps, 10- and 15-minute windows, mixed lengths, two raw channels (calibrated nodes use
``pm25_cf1``, the others ``pm25_atm``), corrected values, and a node without records. The one
read of several channels gives what a read per channel gives. On SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from factory import make_body
from numpy.testing import assert_array_equal

from tynys import pipeline
from tynys.aqi import averaging
from tynys.calibrate import stored
from tynys.keys import KeyFile
from tynys.pipeline.hourly import HOUR, SINGLE
from tynys.registry import add_node, parse_sensor
from tynys.store import NodeRows, Store

pytestmark = [pytest.mark.host, pytest.mark.backends]

T0 = 1_795_737_600  # 2026-11-27T00:00Z
SPAN = 48 * HOUR


@pytest.fixture(scope="module")
def city(tmp_path_factory, dbs):
    root = tmp_path_factory.mktemp("bulk")
    store = Store.open(dbs.new(root), synchronous="OFF")
    keys = KeyFile(root / "city.keys")
    rng = np.random.default_rng(7)
    sensors = [parse_sensor(s) for s in ("pm=pms5003", "th=sht3x", "so2=isb:so2-b4")]
    plans = {"n0": [300], "n1": [300], "n2": [600], "n3": [900], "n4": [300, 300, 300, 600], "n5": []}
    for nid, lengths in plans.items():
        add_node(store, keys, nid, lat=49.9, lon=82.6, sensors=sensors, key=bytes(32))
        t, seq = T0, 0
        with store.transaction():
            while lengths and t < T0 + SPAN:
                w = int(rng.choice(lengths))
                if rng.random() > 0.12:  # gaps: some hours fall below 75 %
                    pm = None if rng.random() < 0.05 else round(float(rng.gamma(4, 9)), 2)
                    store.insert_record(make_body(nid, seq, t0=t, window=w, channels={"pm.pm25_cf1": pm, "pm.pm25_atm": pm}),
                                        "", T0 + SPAN, "test", "")
                    if nid == "n1" and rng.random() < 0.2:  # sent again after a reboot, read differently
                        again = None if pm is None else pm + 1.37
                        store.insert_record(make_body(nid, seq, boot=1, t0=t, window=w,
                                                      channels={"pm.pm25_cf1": again, "pm.pm25_atm": again}),
                                            "", T0 + SPAN, "test", "")
                t, seq = t + w, seq + 1
    for nid in ("n0", "n1", "n4"):
        stored.use_correction(store, nid, "pm.pm25_cf1", "barkjohn2021")
    stored.apply(store)
    yield store
    store.close()


def _node_means(t0, t1, values, lo: int, hours: int, min_fraction: float = 0.75):
    """One node's hourly and 20-min means, as the pipeline computed them node by node."""
    out_h, out_s = np.full(hours, np.nan), np.full(3 * hours, np.nan)
    ok = np.isfinite(values)
    if not ok.any():
        return out_h, out_s
    t, inv = np.unique(t0, return_inverse=True)
    cnt = np.bincount(inv, weights=ok, minlength=len(t))
    with np.errstate(invalid="ignore"):
        v = np.bincount(inv, weights=np.where(ok, values, 0.0), minlength=len(t)) / cnt
    step = int(np.bincount(np.asarray(t1 - t0, np.int64)).argmax())
    for width, out in ((HOUR, out_h), (SINGLE, out_s)):
        if step > width or width % step:
            continue
        starts, means, _ = averaging.window_means(t, v, width, sample_s=step, min_fraction=min_fraction)
        at = (starts - lo) // width
        inside = (at >= 0) & (at < len(out))
        out[at[inside]] = means[inside]
    return out_h, out_s


def test_all_nodes_at_once_equal_node_by_node_exactly(city):
    h = pipeline.hourly(city, T0 + 24 * HOUR, T0 + SPAN)
    lo, k = int(h.hours[0]), len(h.hours)
    first = int(h.hours[h.start])
    assert [q.choices[0].channel for q in h.quantities] == ["pm.pm25_cf1", None]
    assert {c.channel for c in h.pm25.choices} == {"pm.pm25_cf1", "pm.pm25_atm", None}  # None: n5, no records
    checked = 0
    for q in h.quantities:
        for i, (node, c) in enumerate(zip(h.nodes, q.choices)):
            nan_h, nan_s = np.full(k, np.nan), np.full(3 * k, np.nan)
            raw, cor, windows, version = (nan_h, nan_s), (nan_h, nan_s), 0, np.zeros(k, np.int64)
            if c.raw is not None:
                s = city.series(node.id, c.raw, lo, lo + k * HOUR)
                raw = _node_means(s.t0, s.t1, s.mean, lo, k)
                windows = int((np.isfinite(s.mean) & (s.t0 >= first)).sum())
            if c.corrected is not None:
                v = city.corrected(node.id, c.corrected, lo, lo + k * HOUR)
                cor = _node_means(v.t0, v.t1, v.value, lo, k)
                np.maximum.at(version, (v.t0 - lo) // HOUR, v.version)
                windows = max(windows, int((np.isfinite(v.value) & (v.t0 >= first)).sum()))
            for got, want in zip((q.raw[i], q.singles_raw[i], q.corrected[i], q.singles_corrected[i], q.version[i]),
                                 (*raw, *cor, version)):
                assert_array_equal(got, want, strict=True)  # the same numbers to the last bit, NaN where NaN
            assert q.windows[i] == windows
            checked += np.isfinite(q.raw[i]).sum() + np.isfinite(q.corrected[i]).sum()
    assert checked > 200
    n = {nd.id: i for i, nd in enumerate(h.nodes)}
    assert np.isfinite(h.pm25.singles_raw[n["n2"]]).any() and not np.isfinite(h.pm25.singles_raw[n["n3"]]).any()
    assert not np.isfinite(h.pm25.raw[n["n5"]]).any() and np.isnan(h.pm25.raw).any()


def _same(got, want):
    for f in ("i", "t0", "t1", "value", "version"):
        assert_array_equal(getattr(got, f), getattr(want, f), strict=True)


def test_one_read_of_several_channels_equals_a_read_per_channel(city):
    ids = [n.id for n in city.nodes()][::-1]  # not in the store's order: i is the place in this list
    lo, hi = T0 + 6 * HOUR, T0 + 40 * HOUR
    raw, cor = ["pm.pm25_cf1", "pm.pm25_atm", "pm.pm10_cf1", "pm.nothing"], ["pm.pm25_cf1", "pm.pm25_atm"]
    got = city.channels_many(ids, raw, cor, lo, hi)
    assert set(got) == {("raw", c) for c in raw} | {("corrected", c) for c in cor}
    for c in raw:
        _same(got["raw", c], city.series_many(ids, c, lo, hi))
    for c in cor:  # node by node
        each = [(i, city.corrected(n, c, lo, hi)) for i, n in enumerate(ids)]
        _same(got["corrected", c], NodeRows(*(np.concatenate(x) for x in zip(*[
            (np.full(len(v.t0), i), v.t0, v.t1, v.value, v.version) for i, v in each]))))
    # the cases that make it a test: empty values kept as windows, two boots' copies, nothing at all
    r = got["raw", "pm.pm25_cf1"]
    assert np.isnan(r.value).any() and len(r) > len(np.unique(r.i * 2**32 + r.t0))
    assert len(got["corrected", "pm.pm25_cf1"]) and not len(got["raw", "pm.nothing"]) and not len(got["corrected", "pm.pm25_atm"])
    c = got["corrected", "pm.pm25_cf1"]  # corrections stored as NULL (no raw value) are windows with the profile's version
    assert np.isnan(c.value).any() and (c.version[np.isnan(c.value)] > 0).all()


def test_channels_read_beside_leave_the_means_alone(city):
    """*also* (the open data's PM10) comes in the same pass; here the calibrated nodes also read
    ``pm25_atm``, the raw channel of the others, so one channel is read in two groups of nodes."""
    t0, t1 = T0 + 24 * HOUR, T0 + SPAN
    plain = pipeline.hourly(city, t0, t1)
    h = pipeline.hourly(city, t0, t1, also=lambda c: ["pm.pm25_atm"] if c["pm25"].raw == "pm.pm25_cf1" else [])
    for a, b in zip(plain.quantities, h.quantities):
        for f in ("raw", "corrected", "version", "singles_raw", "singles_corrected", "windows"):
            assert_array_equal(getattr(b, f), getattr(a, f), strict=True)
    asked = [i for i, c in enumerate(h.pm25.choices) if c.raw == "pm.pm25_cf1"]
    assert sorted(h.nodes[i].id for i in asked) == ["n0", "n1", "n4"] and list(h.also) == ["pm.pm25_atm"]
    want = city.series_many([h.nodes[i].id for i in asked], "pm.pm25_atm", int(h.hours[0]), t1)
    want.i = np.array(asked)[want.i]
    _same(h.also["pm.pm25_atm"], want)
