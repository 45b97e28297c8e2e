"""Watching co-located sensors for drift: calibrate each on a baseline, then run drift alarms on
what follows and refit on a rolling window.

Two methods (*method*):

- ``self-starting`` (default): the rules of ``calibration/drift/<pollutant>.json``
  (:func:`tynys.calibrate.alarms.watch`), whose false-alarm rate and detection delay are stated
  and were measured through seasons that change the pollution level ×1–×3.
- ``fixed-baseline``: the earlier CUSUM and KS alarms on residuals of a fixed baseline fit
  (:func:`tynys.calibrate.drift.detect_drift`), kept for comparison; no run length is stated for them.

    from tynys.calibrate import inputs, watch
    data = inputs.colocated("node.csv:so2", "station.csv:so2", reading=inputs.Reading(tz="UTC"))
    for w in watch.watch(data, baseline_days=30):
        w.summary()          # 'osk-so2: 90 days watched after a 30-day baseline ...: 2 alarms'
        w.alarms, w.refit    # drift.Alarm list; rolling refit (end, n, slope, intercept, r2)

Each sensor is watched on its own (its own baseline fit; alarms name it). A sensor whose baseline
covers (almost) all its data has nothing to watch: :attr:`Watch.enough` is False and the summary
says so, rather than an empty list that reads as "no drift".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import TynysError
from ..timeutil import iso
from . import alarms, drift, models
from .inputs import Colocated

DAY = 86400
BASELINE_DAYS = 30.0
REFIT_WINDOW_DAYS = 14
REFIT_EVERY_DAYS = 7
MIN_WATCHED_DAYS = 7  # the alarms judge daily residuals: a week after the baseline before they can say anything
METHODS = ("self-starting", "fixed-baseline")


@dataclass
class Watch:
    """One sensor watched for drift."""

    sensor: str
    interval: str
    unit: str
    baseline: tuple[int, int]  # [start, end) of the calibration baseline
    end: int  # the last interval watched (start)
    calibration: dict  # OLS reference = intercept + slope·sensor on the baseline
    baseline_n: int  # intervals in the baseline
    watched_n: int  # intervals after it
    alarms: list = field(default_factory=list)  # drift.Alarm
    refit: dict = field(default_factory=dict)  # rolling refit: end, n, slope, intercept, r2
    refit_window_days: int = REFIT_WINDOW_DAYS
    problem: str | None = None  # why this sensor could not be watched (its neighbours in the files still are)

    @property
    def watched_days(self) -> float:
        return max(0.0, (self.end - self.baseline[1]) / DAY + (1 if self.interval == "24h" else 1 / 24))

    @property
    def enough(self) -> bool:
        return self.problem is None and self.watched_days >= MIN_WATCHED_DAYS

    def summary(self) -> str:
        base_days = (self.baseline[1] - self.baseline[0]) / DAY
        head = (f"{self.sensor}: baseline {iso(self.baseline[0])[:16]} .. {iso(self.baseline[1])[:16]} "
                f"({base_days:g} days, {self.baseline_n} {self.interval} pairs)")
        after = f"{self.watched_days:.1f} days ({self.watched_n} {self.interval} pairs) after it"
        if self.problem:
            return f"{head if self.baseline_n else self.sensor}: not watched: {self.problem}"
        if not self.enough:
            return (f"{head} covers most of the data ({self.baseline_n} of {self.baseline_n + self.watched_n} pairs): "
                    f"only {after}, too few to judge drift (the alarms need {MIN_WATCHED_DAYS} days); "
                    "shorten --baseline-days or co-locate longer")
        watched = f"{head}; watched {after}, to {iso(self.end)[:16]}"
        if not self.alarms:
            return f"{watched}: no drift alarm"
        return f"{watched}: {len(self.alarms)} alarm(s), the first on {iso(self.alarms[0].time)[:10]}"

    def refit_rows(self) -> list[dict]:
        f = self.refit
        return [{"window_end": iso(int(e)), "n": int(n), "slope": float(b), "intercept": float(a), "r2": float(r)}
                for e, n, b, a, r in zip(f.get("end", []), f.get("n", []), f.get("slope", []), f.get("intercept", []),
                                         f.get("r2", [])) if np.isfinite(b)]

    def as_dict(self) -> dict:
        return {"sensor": self.sensor, "interval": self.interval, "unit": self.unit,
                "baseline": {"from": iso(self.baseline[0]), "to": iso(self.baseline[1]), "n": self.baseline_n,
                             "calibration": self.calibration},
                "watched": {"n": self.watched_n, "to": iso(self.end), "enough": self.enough, "problem": self.problem},
                "summary": self.summary(), "alarms": [a.as_dict() for a in self.alarms],
                "refit": {"window_days": self.refit_window_days, "rows": self.refit_rows()}}


def watch(data: Colocated, *, baseline_days: float = BASELINE_DAYS, shift: float | None = None,
          names: dict | None = None, refit_window_days: int = REFIT_WINDOW_DAYS,
          refit_every_days: int = REFIT_EVERY_DAYS, method: str = "self-starting", sheet: dict | None = None,
          alone: bool | None = None) -> list[Watch]:
    """Watch each sensor of *data*: an OLS calibration on its first *baseline_days*, drift alarms
    after that by *method* (see the module), and a rolling refit (*refit_window_days* ending every
    *refit_every_days*). *shift* (``fixed-baseline`` only) is the smallest drift worth an alarm, in
    the pollutant's unit. *sheet* is an SO2 cell's calibration sheet (``sensor_model``,
    ``sensitivity_mv_ppb``): the SO2 rules need it, with the temperature in *data*. *names*
    renames sensors in the output (``{label: node id}``). A sensor too short or gappy to calibrate
    is refused when it is the only one; among several it is reported (:attr:`Watch.problem`) and
    the others are watched. *alone* overrides "the only one" (a part of a larger run is not)."""
    if not len(data):
        raise TynysError("no co-located pairs to watch: " + "; ".join(data.notes or ["check the files overlap in time"]))
    if method not in METHODS:
        raise TynysError(f"unknown drift method {method!r}; use one of {', '.join(METHODS)}")
    if method == "self-starting":
        if shift is not None:
            raise TynysError("a minimum shift sets the fixed-baseline CUSUM's k; the self-starting rules keep the "
                             "thresholds their stated false-alarm rate was measured with: drop it, or use the "
                             "fixed-baseline method")
        if data.pollutant not in alarms.known_pollutants():
            raise TynysError(f"no self-starting drift rules for {data.pollutant} (calibration/drift has "
                             f"{', '.join(alarms.known_pollutants())}): use the fixed-baseline method")
    out = []
    for label in data.sensors:
        sel = data.site == label
        t, x, y = data.time[sel], data.x[sel], data.y[sel]
        if not len(t):
            continue
        name = (names or {}).get(label, label)
        start = int(t.min())
        base_end = start + int(baseline_days * DAY)
        train = t < base_end
        one = len(data.sensors) == 1 if alone is None else alone
        try:
            coef, problem = models.fit("ols", {"x": x[train]}, y[train], interval=data.interval), None
        except TynysError as e:
            if one:
                raise
            coef, problem = {}, str(e)
        w = Watch(name, data.interval, data.unit, (start, base_end), int(t.max()), coef, int(train.sum()),
                  int((~train).sum()), refit_window_days=refit_window_days, problem=problem)
        if w.enough and method == "self-starting":
            try:
                w.alarms = alarms.watch(name, t, x, y, pollutant=data.pollutant, covariates=_covariates(data, sel, sheet),
                                        tz=data.day_tz, baseline_days=round(baseline_days))
            except alarms.DriftDataError as e:
                if one:
                    raise
                w.problem = str(e)
        elif w.enough:
            corrected = models.predict("ols", coef, {"x": x})
            w.alarms = drift.detect_drift(name, t, corrected, y, baseline_end=base_end, shift=shift, tz=data.day_tz)
        w.refit = drift.rolling_refit(t, x, y, window=refit_window_days * DAY, step=refit_every_days * DAY,
                                      min_n=_min_refit(data.interval, refit_window_days))
        out.append(w)
    return out


def _covariates(data: Colocated, sel, sheet: dict | None) -> dict | None:
    """The covariates the pollutant's rules name, for the rows *sel* (SO2: the AAN 803 zero term)."""
    names = alarms.rules(data.pollutant).get("covariates", {})
    if not names:
        return None
    if data.t_c is None or not sheet:
        raise TynysError(f"the {data.pollutant} drift rules follow the cell's zero with temperature (AAN 803 k''_T): give the "
                         "temperature [°C] (--t FILE:COLUMN) and the sensor sheet (--params FILE, or --param "
                         "sensor_model=so2-b4 --param sensitivity_mv_ppb=0.30)")
    return {"aan803_kpp_t": alarms.aan803_zero_term(data.t_c[sel], sheet)}


def _min_refit(interval: str, window_days: int) -> int:
    """Pairs a rolling window needs: 75 % of its intervals (EPA's completeness rule), at least 3."""
    return max(3, int(0.75 * window_days * (24 if interval == "1h" else 1)))
