"""Canada's Air Quality Health Index: an additive formula of NO2, O3 and PM2.5 3-hour means.

    >>> from tynys.aqi import aqhi
    >>> r = aqhi.aqhi(no2=20, o3=30, pm25=10)        # ppb, ppb, ug/m3
    >>> float(r.concentration), float(r.index), r.category_names()[()]   # unrounded, rounded
    (3.72..., 4.0, 'Moderate risk')

AQHI = (10/10.4) * 100 * [(e^(b_NO2 NO2) - 1) + (e^(b_O3 O3) - 1) + (e^(b_PM PM2.5) - 1)], rounded to
a whole number; coefficients, units and categories from ``tables/canada-aqhi-2008.json``
(Stieb et al. 2008). All three pollutants are needed: there is no "highest sub-index" rule.
:func:`hourly` builds the 3-hour means (at least 2 of 3 hours each) from hourly series.
"""

from __future__ import annotations

import numpy as np

from . import averaging, tables, units
from .breakpoints import MISSING, NEGATIVE, OK, Scores, round_index

STANDARD = "canada-aqhi"


def _std(version=None) -> tables.Standard:
    return tables.load(STANDARD, version=version)


def aqhi(no2, o3, pm25, *, units_in: dict | None = None, temperature_c: float | None = None,
         version: str | None = None) -> Scores:
    """AQHI from 3-hour means (arrays broadcast together). *units_in* maps pollutant -> unit when
    they are not the formula's own (ppb, ppb, ug/m3); gases in ug/m3 need *temperature_c*.
    ``Scores.concentration`` holds the unrounded AQHI."""
    std = _std(version)
    f = std.data["formula"]
    given = dict(no2=no2, o3=o3, pm25=pm25)
    units_in = units_in or {}
    total = 0.0
    status = None
    for p, term in f["terms"].items():
        x = np.asarray(given[p], dtype=float)
        if p in units_in:
            x = units.convert(x, p, units_in[p], term["unit"], temperature_c=temperature_c)
        st = np.where(np.isnan(x), MISSING, np.where(x < 0, NEGATIVE, OK)).astype(np.int8)
        status = st if status is None else np.maximum(status, st)
        total = total + np.expm1(term["beta"] * x)
    raw = f["scale"] * np.asarray(total, dtype=float)
    raw = np.where(status == OK, raw, np.nan)
    idx = round_index(raw, std.index_rounding)
    return Scores(index=idx, category=std.category_of(idx), status=status, concentration=raw, standard=std)



def hourly(times, no2, o3, pm25, **kw) -> Scores:
    """AQHI for every hour of hourly series (time on the last axis), from trailing 3-hour means
    with at least 2 of the 3 hours of each pollutant."""
    averaging.check_hourly(times)
    avg = _std(kw.get("version")).data["averaging"]
    means = [averaging.rolling_mean(x, avg["hours"], avg["min_valid"]) for x in (no2, o3, pm25)]
    return aqhi(*means, **kw)
