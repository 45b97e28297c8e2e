"""The table files: they load, their versions follow each other, every breakpoint scores as its
row says (generated from the data), and a sample typed in here from the sources agrees — so a
wrong table cannot pass by checking itself."""

import datetime as dt
import math
from fractions import Fraction

import numpy as np
import pytest

from tynys.aqi import breakpoints, tables
from tynys.aqi.tables import AqiError

pytestmark = pytest.mark.host

BREAKPOINT_VERSIONS = [(s, v.version) for s in tables.standards() for v in tables.versions(s) if v.kind == "breakpoints"]
ALL_TABLES = [(s, v, key) for s, v in BREAKPOINT_VERSIONS for key in tables.load(s, version=v).tables]


def test_every_file_loads_with_sources_and_a_kind():
    assert set(tables.standards()) == {"us-epa", "eea", "kz", "uk-daqi", "india-naqi", "china", "canada-aqhi"}
    for sid in tables.standards():
        for std in tables.versions(sid):
            assert std.sources() and all(s["ref"] and s["url"] and s["confidence"] for s in std.sources())
            assert std.kind in ("breakpoints", "ratio", "formula")
            assert std.categories


def test_versions_follow_each_other_and_are_chosen_by_date():
    us = tables.versions("us-epa")
    assert [(v.version, str(v.effective_from), str(v.effective_to)) for v in us] == [
        ("2013", "2013-03-18", "2015-12-28"), ("2015", "2015-12-28", "2024-05-06"), ("2024", "2024-05-06", "None")]
    assert tables.load("us-epa", at="2024-05-05").version == "2015"
    assert tables.load("us-epa", at="2024-05-06").version == "2024"
    assert tables.load("us-epa", at=dt.date(2014, 1, 1)).version == "2013"
    assert tables.load("china", at="2026-02-28").version == "2012"
    assert tables.load("china", at="2026-03-01").version == "2026"
    assert tables.load("us-epa", version="2015").version == "2015"
    # Undated versions: used by name only, unless they are the standard's only version.
    assert tables.load("eea", version="2021").effective_from is None
    assert tables.load("canada-aqhi", at="1990-01-01").version == "2008"
    assert tables.load("kz", at="2001-01-01").version == "2022"


def test_select_splits_a_series_by_the_version_in_force():
    t = np.array([1714953600 - 3600, 1714953600, 1714953600 + 3600])  # around 2024-05-06 00:00 UTC
    parts = tables.select("us-epa", t)
    assert [(s.version, m.tolist()) for s, m in parts] == [("2015", [True, False, False]), ("2024", [False, True, True])]
    assert [(s.version, m) for s, m in tables.select("us-epa", t, version="2013")] == [("2013", None)]


@pytest.mark.parametrize("call, message", [
    (lambda: tables.load("us"), "unknown standard 'us'; use one of canada-aqhi, china, eea, india-naqi, kz, uk-daqi, us-epa"),
    (lambda: tables.load("us-epa", version="1999"), "us-epa has no version '1999'; it has 2013, 2015, 2024"),
    (lambda: tables.load("us-epa", at="2010-01-01"),
     "no us-epa table is known to be in force on 2010-01-01 (2013 from 2013-03-18, 2015 from 2015-12-28, "
     "2024 from 2024-05-06); name a version to score anyway"),
    (lambda: tables.load("eea", at="2023-01-01"),
     "no eea table is known to be in force on 2023-01-01 (2024 from 2024-12-10); versions with no verified date "
     "(2021) are used only when named; name a version to score anyway"),
    (lambda: tables.load("us-epa", at="yesterday"), "cannot read the date 'yesterday'; use YYYY-MM-DD or Unix seconds"),
    (lambda: tables.load("us-epa", version="2024").table("pm25", "1h"),
     "us-epa 2024 has no pm25 table for period '1h'; it has 24h (for hourly PM use `tynys aqi nowcast`, which weighs the last 12 hours)"),
    (lambda: tables.load("eea", version="2024").table("co", "8h"), "eea 2024 has no table for co; it covers no2, o3, pm10, pm25, so2"),
    (lambda: tables.pollutant_id("pm1"), "unknown pollutant 'pm1'; use one of pm25, pm10, tsp, so2, no2, no, o3, co, nh3, h2s, hcho, phenol, pb, bap"),
    (lambda: tables.normalise_unit("ppt"), "unknown unit 'ppt'; use ug/m3, mg/m3, ppb or ppm"),
])
def test_wrong_names_get_a_message_listing_what_exists(call, message):
    with pytest.raises(AqiError) as e:
        call()
    assert str(e.value) == message


def test_pollutant_names_people_type_are_understood():
    assert [tables.pollutant_id(n) for n in ("PM2.5", "pm2_5", "PM10", "SO2", "formaldehyde")] == ["pm25", "pm25", "pm10", "so2", "hcho"]
    assert [tables.normalise_unit(u) for u in ("µg/m³", "ug/m3", "mg/m³", "PPB")] == ["ug/m3", "ug/m3", "mg/m3", "ppb"]


def test_category_lists_align_across_versions_of_a_standard():
    # index._put relies on it when one series spans two versions.
    for sid in tables.standards():
        names = {tuple(c.name for c in v.categories) for v in tables.versions(sid)}
        assert len(names) == 1, sid


def test_a_broken_table_is_refused_when_loaded():
    doc = {"unit": "ug/m3", "quantise": "truncate", "decimals": 1, "averaging": {},
           "rows": [[0.0, 9.0, 0, 50], [9.3, 35.4, 51, 100]]}  # a 0.3 gap truncation cannot close
    with pytest.raises(AssertionError, match="pm25/24h: gap wider than 0.1"):
        tables._read_table("pm25/24h", doc, {}, {})
    doc["rows"] = [[0.0, 9.0, 0, 50], [8.0, 35.4, 51, 100]]
    with pytest.raises(AssertionError, match="rows overlap"):
        tables._read_table("pm25/24h", doc, {}, {})


# --- every breakpoint of every table, generated from the data -----------------------------

def _exact(std, table, r, c):
    """Index of concentration *c* in row *r*, in exact rational arithmetic (an independent
    reimplementation of the interpolation and rounding rules, for cross-checking the floats)."""
    q = _quantised(table, c)
    lo, hi = Fraction(str(table.lo[r])), table.hi[r]
    ilo, ihi = Fraction(str(table.ilo[r])), Fraction(str(table.ihi[r]))
    if math.isinf(hi):
        return None if ilo != ihi else float(ilo)
    hi = Fraction(str(hi))
    x = ilo + (ihi - ilo) * (max(q, lo) - lo) / (hi - lo) if hi > lo else ilo
    rule = std.index_rounding
    return float({"half-up": math.floor(x + Fraction(1, 2)), "ceil": math.ceil(x), "none": x}[rule])


def _expected_at(std, table, r, at_hi):
    ilo, ihi, hi = table.ilo[r], table.ihi[r], table.hi[r]
    if math.isinf(hi) and ilo != ihi:
        return None  # open top row with an index range: category only
    return float(ihi if at_hi else ilo)


@pytest.mark.parametrize("sid, version, key", ALL_TABLES)
def test_every_breakpoint_scores_as_its_row_says(sid, version, key):
    std = tables.load(sid, version=version)
    t = std.tables[key]
    los = [t.lo[r] for r in range(len(t.lo))]
    his = [t.hi[r] for r in range(len(t.hi)) if np.isfinite(t.hi[r])]
    s_lo = breakpoints.score(los, t, std)
    s_hi = breakpoints.score(his, t, std)
    shared = t.quantise == "none"  # continuous rows: a shared edge belongs to the lower row
    for r, got in enumerate(s_lo.index):
        want = _expected_at(std, t, r - 1, at_hi=True) if shared and r > 0 else _expected_at(std, t, r, at_hi=False)
        if want is None:
            assert np.isnan(got) and s_lo.status[r] == breakpoints.ABOVE
            assert std.categories[s_lo.category[r]].lo <= t.ilo[r]
        else:
            assert got == want, f"{key} row {r} lower bound {los[r]}"
    for r, got in enumerate(s_hi.index):
        assert got == _expected_at(std, t, r, at_hi=True), f"{key} row {r} upper bound {his[r]}"
    # Just past each finite upper bound: the next row (or the table's 'above' rule).
    step = t.step if t.quantise != "none" else 0
    past = [h + (step or 0.01) for h in his]
    s_past = breakpoints.score(past, t, std)
    for r, got in enumerate(s_past.index):
        if r + 1 < len(t.lo):
            want = _exact(std, t, r + 1, past[r])
            assert (np.isnan(got) if want is None else got == want), f"{key} just above {his[r]}"
        else:
            rule = t.above["rule"]
            if rule == "extrapolate":
                assert breakpoints.score([his[r] * 1.1], t, std).index[0] > t.ihi[-1]
            elif rule == "fixed":
                assert got == t.above["index"]
            else:
                assert np.isnan(got)
                assert s_past.status[r] == (breakpoints.USE_OTHER if rule == "use" else breakpoints.ABOVE)
    # Just below the first row of a table that does not start at zero: its 'below' rule.
    if t.lo[0] > 0:
        s_under = breakpoints.score([t.lo[0] - (step or 0.01)], t, std)
        assert np.isnan(s_under.index[0])
        assert s_under.status[0] == (breakpoints.USE_OTHER if t.below["rule"] == "use" else breakpoints.BELOW)


# --- a sample typed in from the sources (not from the JSON) --------------------------------

TYPED = {
    # EPA-454/B-24-002 Table 6
    ("us-epa", "2024", "pm25/24h"): [(9.0, 50), (9.1, 51), (35.4, 100), (35.5, 101), (55.4, 150), (55.5, 151),
                                     (125.4, 200), (125.5, 201), (225.4, 300), (225.5, 301), (325.4, 500)],
    ("us-epa", "2024", "pm10/24h"): [(54, 50), (55, 51), (154, 100), (155, 101), (254, 150), (255, 151), (354, 200),
                                     (355, 201), (424, 300), (425, 301), (604, 500)],
    ("us-epa", "2024", "o3/8h"): [(0.054, 50), (0.055, 51), (0.070, 100), (0.071, 101), (0.085, 150), (0.086, 151),
                                  (0.105, 200), (0.106, 201), (0.200, 300)],
    ("us-epa", "2024", "o3/1h"): [(0.125, 101), (0.164, 150), (0.165, 151), (0.204, 200), (0.205, 201), (0.404, 300),
                                  (0.405, 301), (0.604, 500)],
    ("us-epa", "2024", "co/8h"): [(4.4, 50), (4.5, 51), (9.4, 100), (9.5, 101), (12.4, 150), (12.5, 151), (15.4, 200),
                                  (15.5, 201), (30.4, 300), (30.5, 301), (50.4, 500)],
    ("us-epa", "2024", "so2/1h"): [(35, 50), (36, 51), (75, 100), (76, 101), (185, 150), (186, 151), (304, 200)],
    ("us-epa", "2024", "so2/24h"): [(305, 201), (604, 300), (605, 301), (1004, 500)],
    ("us-epa", "2024", "no2/1h"): [(53, 50), (54, 51), (100, 100), (101, 101), (360, 150), (361, 151), (649, 200),
                                   (650, 201), (1249, 300), (1250, 301), (2049, 500)],
    # EPA-454/B-18-007 Table 5 (and python-aqi for 2013)
    ("us-epa", "2015", "pm25/24h"): [(12.0, 50), (12.1, 51), (150.4, 200), (150.5, 201), (250.4, 300), (250.5, 301),
                                     (350.4, 400), (350.5, 401), (500.4, 500)],
    ("us-epa", "2015", "pm10/24h"): [(424, 300), (425, 301), (504, 400), (505, 401), (604, 500)],
    ("us-epa", "2015", "so2/24h"): [(604, 300), (605, 301), (804, 400), (805, 401), (1004, 500)],
    ("us-epa", "2013", "o3/8h"): [(0.059, 50), (0.060, 51), (0.075, 100), (0.076, 101), (0.095, 150), (0.096, 151),
                                  (0.115, 200), (0.116, 201), (0.374, 300)],
    # EEA band edges (a value on an edge is the lower band)
    ("eea", "2024", "pm25/1h"): [(5, 1), (5.01, 2), (15, 2), (15.01, 3), (50, 3), (50.01, 4), (90, 4), (90.01, 5),
                                 (140, 5), (140.01, 6)],
    ("eea", "2024", "pm10/1h"): [(15, 1), (15.1, 2), (45, 2), (120, 3), (195, 4), (270, 5), (270.1, 6)],
    ("eea", "2024", "no2/1h"): [(10, 1), (25, 2), (60, 3), (100, 4), (150, 5), (150.1, 6)],
    ("eea", "2024", "o3/1h"): [(60, 1), (100, 2), (120, 3), (160, 4), (180, 5), (180.1, 6)],
    ("eea", "2024", "so2/1h"): [(20, 1), (40, 2), (125, 3), (190, 4), (275, 5), (275.1, 6)],
    # UK DAQI (rounded to whole ug/m3 first)
    ("uk-daqi", "2012", "pm25/24h"): [(11, 1), (11.4, 1), (11.5, 2), (23, 2), (24, 3), (35, 3), (36, 4), (41, 4), (42, 5),
                                      (47, 5), (48, 6), (53, 6), (54, 7), (58, 7), (59, 8), (64, 8), (65, 9), (70, 9), (71, 10)],
    ("uk-daqi", "2012", "no2/1h"): [(67, 1), (68, 2), (134, 2), (135, 3), (600, 9), (601, 10)],
    # CPCB
    ("india-naqi", "2014", "pm25/24h"): [(30, 50), (31, 51), (45, 75), (60, 100), (61, 101), (90, 200), (91, 201),
                                         (120, 300), (121, 301), (250, 400), (251, None)],
    ("india-naqi", "2014", "pm10/24h"): [(50, 50), (51, 51), (100, 100), (101, 101), (250, 200), (251, 201), (350, 300),
                                         (351, 301), (430, 400), (431, None)],
    ("india-naqi", "2014", "co/8h"): [(1.0, 50), (1.1, 51), (2.0, 100), (2.1, 101), (10, 200), (10.1, 201)],
    # HJ 633-2012 Table 1 (continuous, IAQI rounded up) and HJ 633-2026
    ("china", "2012", "pm25/24h"): [(35, 50), (36, 52), (75, 100), (80, 107), (115, 150), (150, 200), (250, 300),
                                    (350, 400), (500, 500), (501, None)],
    ("china", "2012", "so2/1h"): [(150, 50), (500, 100), (650, 150), (800, 200), (801, None)],
    ("china", "2026", "pm25/24h"): [(35, 50), (60, 100), (80, 119), (115, 150)],
    ("china", "2026", "pm10/24h"): [(50, 50), (120, 100), (250, 150)],
    ("china", "2026", "so2/1h"): [(800, 200), (900, 200)],
    ("china", "2026", "o3/8h"): [(265, 200), (800, 300), (801, 300)],
}


@pytest.mark.parametrize("sid, version, key", sorted(TYPED))
def test_tables_agree_with_values_typed_from_the_sources(sid, version, key):
    std = tables.load(sid, version=version)
    conc, want = zip(*TYPED[(sid, version, key)])
    got = breakpoints.score(list(conc), std.tables[key], std).index
    assert [None if np.isnan(g) else g for g in got] == list(want)


@pytest.mark.parametrize("sid, version, key", ALL_TABLES)
def test_random_concentrations_match_exact_rational_arithmetic(sid, version, key):
    """Float arithmetic (truncation of 9.0999999..., half-up at x.5, ceiling at whole numbers) gives
    what exact rationals give, for 400 values per table at and beyond the table's precision."""
    std = tables.load(sid, version=version)
    t = std.tables[key]
    top = t.hi[np.isfinite(t.hi)][-1]
    rng = np.random.default_rng(abs(hash(key)) % 2**32)
    on_grid = np.round(rng.uniform(t.lo[0], top, 200), t.decimals)
    finer = np.round(rng.uniform(t.lo[0], top, 200), t.decimals + 2)
    c = np.concatenate([on_grid, finer])
    got = breakpoints.score(c, t, std).index
    for x, g in zip(c, got):
        qx = _quantised(t, x)
        row = next(i for i in range(len(t.lo)) if np.isinf(t.hi[i]) or qx <= Fraction(str(t.hi[i])))
        want = _exact(std, t, row, float(x))
        assert (np.isnan(g) if want is None else g == want), f"{key} {x!r}"


def _quantised(t, c):
    q = Fraction(str(float(c))) * 10 ** t.decimals
    q = {"truncate": math.floor(q), "half-up": math.floor(q + Fraction(1, 2)),
         "half-even": round(q), "none": q}[t.quantise]
    return Fraction(q) / 10 ** t.decimals


def test_every_combine_rule_is_documented_in_its_table_file():
    # How several periods of one pollutant make its index is a rule or a convention: the data says which.
    for sid in tables.standards():
        for std in tables.versions(sid):
            note = std.data.get("combine_note", "").upper()
            for pollutant in std.data.get("combine", {}):
                assert pollutant.upper() in note, (std.name, pollutant)

