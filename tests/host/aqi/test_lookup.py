"""Indices by table lookup equal the reference arithmetic (row search, interpolation, rounding)
on every breakpoint of every quantising table of every standard version, just beside each one,
and on random values, including the ones the lookup hands back (missing, negative, implausible,
beyond the table)."""

import zlib

import numpy as np
import pytest

from tynys.aqi import breakpoints, tables

pytestmark = pytest.mark.host

TABLES = [(std, t) for sid in tables.standards() for std in tables.versions(sid) if std.kind == "breakpoints"
          for t in std.tables.values()]


def values_for(t, rng) -> np.ndarray:
    step = t.step
    edges = np.concatenate([t.lo, t.hi[np.isfinite(t.hi)]])
    near = edges[:, None] + step * np.array([-1, -0.5, -0.5001, -0.4999, -1e-9, 0, 1e-9, 0.4999, 0.5, 0.5001, 1])
    top = float(np.nanmax(edges))
    rand = np.concatenate([rng.uniform(0, top * 1.2, 20000), rng.gamma(1.5, top / 10, 20000),
                           np.round(rng.uniform(0, top, 5000), t.decimals)])
    odd = np.array([np.nan, -1e-9, -0.0, -5.0, np.inf, -np.inf, 1e12, top * 1.0000001])
    return np.concatenate([near.ravel(), rand, odd])


def same(a, b) -> bool:
    return np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("std, t", TABLES, ids=[f"{s.id}-{s.version}-{t.key}" for s, t in TABLES])
def test_lookup_equals_the_reference_on_breakpoints_and_random_values(std, t):
    rng = np.random.default_rng(zlib.crc32(f"{std.id}{std.version}{t.key}".encode()))
    c = values_for(t, rng)
    fast = breakpoints.score(c, t, std)
    ref = breakpoints.score(c, t, std, lookup=False)
    for name in ("index", "category", "status", "concentration"):
        assert same(getattr(fast, name), getattr(ref, name)), name
    none = np.full(c.shape, np.nan)
    assert same(none if fast.bound is None else fast.bound, none if ref.bound is None else ref.bound)


def test_the_quantising_tables_use_the_lookup():
    looked = [t.key for std, t in TABLES if isinstance(breakpoints._plan(t, std, True), breakpoints._Lookup)]
    us = tables.load("us-epa", version="2024")
    assert isinstance(breakpoints._plan(us.table("pm25", "24h"), us, True), breakpoints._Lookup)
    assert len(looked) >= len(TABLES) // 2
    china = tables.load("china", version="2012")
    assert not isinstance(breakpoints._plan(china.table("pm25", "24h"), china, True), breakpoints._Lookup)  # no quantisation


def test_shapes_and_blocks_do_not_change_results():
    us = tables.load("us-epa", version="2024")
    t = us.table("pm25", "24h")
    c = np.random.default_rng(1).gamma(1.6, 14.0, (3, 40001))
    c[0, 5] = np.nan
    a = breakpoints.score(c, t, us)
    b = breakpoints.score(c.ravel(), t, us)
    assert a.index.shape == (3, 40001) and same(a.index.ravel(), b.index) and same(a.status.ravel(), b.status)
