"""Evaluate co-located sensors against a reference the way EPA's reports do, per averaging interval.

    from tynys.calibrate.evaluate import evaluate
    ev = evaluate({"RT01": (t1, pm1), "RT02": (t2, pm2)}, (ref_t, ref_pm), pollutant="pm25")
    ev.rows      # one row per interval and sensor, plus a deployment row: r2 slope intercept rmse nrmse n …

Each row says whether the sensor meets EPA's targets (``pass``; ``failed`` lists the metrics
that miss) at that interval; ``targets_apply`` marks the interval the targets are defined for
(24 h for PM, 1 h for SO2); ``targets_verified`` is False where the targets' source was not read
(PM10, SO2: a note says the verdict is provisional). SD/CV come from the deployment.

24-h intervals are local days of *tz* (midnight to midnight standard time, as EPA/600/R-20/280
and regulatory daily means define them), UTC days without one (:mod:`.colocation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import TynysError
from .colocation import INTERVALS, average, colocate, days_label, recording_interval
from .inputs import POLLUTANTS, Reading, day_zone, matched, pollutant_of, read_source, spec_pollutant
from .metrics import bootstrap, deployment_error, expanded_uncertainty, precision, regression_stats, uptime
from .targets import check, epa_targets, eu_objective, unverified

MIN_PAIRS = 3


@dataclass
class Evaluation:
    pollutant: str
    rows: list[dict]
    pairs: dict = field(default_factory=dict)  # (interval, sensor) -> Pairs
    notes: list[str] = field(default_factory=list)
    days: str = "UTC"  # what a 24-h interval is: "UTC" days or "<zone> standard time" days


def evaluate(sensors: dict, reference: tuple, *, pollutant: str = "pm25", intervals=None, tz: str | None = None,
             n_boot: int = 0, u_ref: float = 0.0) -> Evaluation:
    """*sensors*: ``{label: (time, values)}``; *reference*: ``(time, values)``; arrays, UTC seconds;
    *tz*: the zone whose standard-time days make the 24-h intervals (None: UTC days)."""
    targets = epa_targets(pollutant)
    intervals = list(intervals or targets["reported"])
    ref_t, ref_v = (np.asarray(a) for a in reference)
    if not len(sensors):
        raise TynysError("no sensor series to evaluate")
    slowest = max([recording_interval(ref_t)] + [recording_interval(np.asarray(t)) for t, _ in sensors.values()])
    ev = Evaluation(pollutant, [], days=days_label(tz))
    doubt = unverified(pollutant)
    if doubt:
        ev.notes.append(doubt)
    try:
        eu = eu_objective(pollutant)
    except TynysError:
        eu = None
    for iv in intervals:
        sec = INTERVALS[iv]
        if sec < slowest:
            ev.notes.append(f"{iv}: skipped, the data are recorded every {slowest // 3600} h")
            continue
        if sec == 86400:
            ev.notes.append(f"{iv}: days run midnight to midnight {ev.days}" +
                            (" (no time zone given: name the site's with --day-tz for local days)" if tz is None else ""))
        per, grid = [], {}
        for label, (t, v) in sensors.items():
            p = colocate(t, v, ref_t, ref_v, iv, tz=tz)
            ev.pairs[(iv, label)] = p
            if len(p) < MIN_PAIRS:
                ev.notes.append(f"{iv} {label}: only {len(p)} co-located intervals (need {MIN_PAIRS}); "
                                "check that the files overlap in time and the time zone")
                continue
            st = regression_stats(p.reference, p.sensor)
            # EPA's uptime is the sensor's own valid intervals over the test period: a reference gap is not downtime.
            own_t, own_v, _ = average(t, v, sec, tz=tz)
            st["uptime"] = uptime(own_t, own_v, sec, start=int(p.time[0]), end=int(p.time[-1]))
            if n_boot:
                ci = bootstrap(p.reference, p.sensor, n_boot=n_boot, block=24 if iv == "1h" else 1)
                st.update({f"{k}_ci": list(v) for k, v in ci.items()})
            if eu and eu["interval"] == iv:
                st["eu_w_percent"] = expanded_uncertainty(p.reference, p.sensor, eu["limit_value"], u_ref)["w_percent"]
            per.append((label, st))
            grid[label] = p
        if not per:
            continue
        times = np.unique(np.concatenate([p.time for p in grid.values()]))
        mat = np.full((len(grid), len(times)), np.nan)
        refv = np.full(len(times), np.nan)
        for i, p in enumerate(grid.values()):
            j = np.searchsorted(times, p.time)
            mat[i, j] = p.sensor
            refv[j] = p.reference
        prec = precision(mat)
        dep = deployment_error(mat, refv)
        for label, st in per:
            st.update({"sd": prec["sd"], "cv": prec["cv"]})
            verdict = check(pollutant, st)
            ev.rows.append({"interval": iv, "sensor": label, **{k: st[k] for k in ("r2", "slope", "intercept", "rmse",
                            "nrmse", "n", "uptime", "sd", "cv")}, **{k: v for k, v in st.items() if k.endswith("_ci") or k == "eu_w_percent"},
                            "targets_apply": iv == targets["applies_to"], "targets_verified": verdict["verified"],
                            "pass": verdict["pass"], "failed": verdict["failed"]})
        if len(per) > 1:
            dep_stats = {"rmse": dep["rmse"], "nrmse": dep["nrmse"], "sd": prec["sd"], "cv": prec["cv"]}
            ev.rows.append({"interval": iv, "sensor": "deployment", "r2": None, "slope": None, "intercept": None,
                            "rmse": dep["rmse"], "nrmse": dep["nrmse"], "n": dep["n"], "uptime": None,
                            "sd": prec["sd"], "cv": prec["cv"], "targets_apply": iv == targets["applies_to"],
                            "targets_verified": doubt is None, "pass": None, "failed": check(pollutant, dep_stats)["failed"]})
    if not ev.rows:
        raise TynysError("nothing to evaluate: " + "; ".join(ev.notes or ["no co-located intervals"]))
    return ev


def evaluate_files(sensors, reference: str, *, rh: str | None = None, correction: str | None = None,
                   basis: str | None = None, pollutant: str | None = None, intervals=None, n_boot: int = 0,
                   reading: Reading = Reading(), allow_unverified: bool = False) -> Evaluation:
    """:func:`evaluate` on files: *sensors* (``FILE[:COLUMN]`` each) against *reference*, each sensor
    with its own reference site (:func:`tynys.calibrate.inputs.matched`: a multi-site reference file
    pairs by site name, and a sensor without its site is refused, never dropped). *correction* (a
    published one, with *basis* and the raw *rh*) is applied first."""
    sensors = [sensors] if isinstance(sensors, str) else list(sensors)
    pol = spec_pollutant(pollutant, *sensors[:1], reference)
    srcs = [read_source(s, pol, reading) for s in sensors]
    pol = pol or (srcs[0].name if srcs[0].name in POLLUTANTS else None)
    ref = read_source(reference, pol, reading, what="reference")
    pol = pollutant_of(pol, srcs[0], ref)
    series = {label: tv for s in srcs for label, tv in s.series.items()}
    refs = matched(list(series), ref, "reference")
    if correction:
        hum = matched(list(series), read_source(rh, "rh", reading, what="rh"), "rh") if rh else {}
        series = {label: (t, _corrected(t, v, hum.get(label), correction, basis, allow_unverified))
                  for label, (t, v) in series.items()}
    tz = day_zone(reading, *srcs, ref)
    groups: dict[int, list[str]] = {}  # sensors sharing one reference series are one deployment
    for label in series:
        groups.setdefault(id(refs[label]), []).append(label)
    out = None
    read_notes = list(dict.fromkeys(n for src in (*srcs, ref) for n in src.notes))
    for labels in groups.values():
        ev = evaluate({k: series[k] for k in labels}, refs[labels[0]], pollutant=pol, intervals=intervals,
                      n_boot=n_boot, tz=tz)
        if out is None:
            out = ev
            continue
        out.rows += ev.rows
        out.pairs.update(ev.pairs)
        out.notes += [n for n in ev.notes if n not in out.notes]
    out.notes = read_notes + out.notes
    return out


def _corrected(t, v, rh, correction: str, basis: str | None, allow: bool) -> np.ndarray:
    """*correction* applied to one sensor series, its RH averaged onto the sensor's own times."""
    from . import corrections
    rh_v = None
    if rh is not None:
        rt, rv = rh
        if len(rt) == len(t) and np.array_equal(rt, t):
            rh_v = rv
        else:
            step = recording_interval(t)
            at, av, _ = average(rt, rv, step)
            slot = t // step * step
            rh_v = np.full(len(t), np.nan)
            if len(at):
                j = np.minimum(np.searchsorted(at, slot), len(at) - 1)
                rh_v = np.where(at[j] == slot, av[j], np.nan)
    return corrections.apply(correction, x=v, basis=basis, rh=rh_v, allow_unverified=allow)
