"""Which correction? The raw sensor, every applicable published correction and fitted models on the
same co-located pairs under held-out validation, each scored against the best published correction
with a bootstrap interval, and a one-line recommendation that says when a gain is not significant.

    from tynys.calibrate import comparison, inputs
    data = inputs.colocated("pa.csv:A_B_Avg", "pa.csv:conc", rh="pa.csv:humidity_a", pollutant="pm25",
                            reading=inputs.Reading(time_column="DAILY", site_column="sensor_index", tz="UTC"))
    c = comparison.compare(data, validation="site", basis="cf1")
    c.rows            # one per candidate, lowest RMSE first, with delta_rmse and its 95 % interval
    c.recommendation  # 'barkjohn2021_sensortoolkit: ... not a significant gain ...'

**The interval.** ΔRMSE = RMSE(candidate) − RMSE(baseline) on the rows both have, where the
baseline is the published correction with the lowest RMSE (the raw sensor when none applies).
Its 95 % interval resamples whole groups with replacement — the held-out sites under
leave-site-out (a model's gain must hold across monitors, and the hours of one site are not
independent), calendar weeks under leave-time-out (pollution episodes last days) — and takes the
percentiles of ΔRMSE over ``n_boot`` resamples. A gain is *significant* when the whole interval is
below 0. With fewer than 5 groups no interval is given: there is too little to resample.

**Picking the best of several.** The recommendation takes the lowest RMSE of m fitted models; the
best of m looks better than it is (with six models tried, the chance that one shows a 95 % "gain"
by luck is far above 5 %). So the recommended model's gain is judged on a wider interval, at level
1 − (1 − 0.95)/m (Bonferroni: 99.2 % for six models), and the recommendation says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..cluster import map_parts
from ..errors import TynysError
from . import corrections, models, validation as val
from .inputs import Colocated

WEEK = 7 * 86400
MIN_GROUPS = 5


@dataclass
class Comparison:
    """The comparison table and what it means."""

    rows: list[dict]  # per candidate: kind, rmse, nrmse, r2, slope, intercept, bias, mae, n, delta_rmse, delta_rmse_ci …
    notes: list[str]
    validation: str  # 'leave-site-out' or '10-fold blocked leave-time-out'
    groups: int  # sites (or weeks) the interval resamples
    group_kind: str  # 'sites' or 'weeks'
    baseline: str  # the best published correction ('raw' when none applies)
    recommendation: str
    pollutant: str = ""
    unit: str = ""
    interval: str = ""
    pairs: int = 0
    sensors: int = 0
    level: float = 0.95
    best: dict = field(default_factory=dict)
    tried: int = 1  # fitted models the best was picked from
    best_ci: list | None = None  # the best fitted model's ΔRMSE interval at level 1 - (1 - level)/tried

    @property
    def family_level(self) -> float:
        """The level the best of :attr:`tried` fitted models is judged at (Bonferroni)."""
        return 1 - (1 - self.level) / self.tried


def published(data: Colocated, basis: str | None, notes: list[str]) -> dict[str, np.ndarray]:
    """The published corrections that apply to *data* (its pollutant, the sensor column's *basis*),
    applied; a note for each one skipped and why."""
    out = {}
    needs_basis = []
    for name, doc in corrections.catalogue().items():
        if doc["pollutant"] != data.pollutant:
            continue
        if doc["form"] == "aan803":
            notes.append(f"{name} not compared: it takes WE/AE millivolts and temperature, not {data.pollutant} "
                         "values (tynys calibrate apply --correction on a node)")
            continue
        if basis is None and doc["basis"] in corrections.BASES:
            needs_basis.append(name)
            continue
        if doc["basis"] != basis:
            notes.append(f"{name} skipped: it needs {doc['basis']}, the sensor column is {basis}")
            continue
        if "rh" in doc["inputs"] and data.rh is None:
            notes.append(f"{name} skipped: it needs --rh")
            continue
        out[name] = corrections.apply(name, x=data.x, basis=basis, rh=data.rh, allow_unverified=True)
        if doc.get("status") == "unverified":
            notes.append(f"{name} is marked unverified ({name}.json status_note): shown for comparison only")
    if needs_basis:
        notes.append(f"{', '.join(needs_basis)} skipped: say which Plantower output the sensor column is "
                     "(--basis cf1 or --basis atm); it is not read from the column's name")
    return out


def folds_for(data: Colocated, validation: str, k: int, notes: list[str]) -> tuple[np.ndarray, np.ndarray, str]:
    """Fold id per row, bootstrap group per row and the validation's name."""
    if validation == "site":
        sites, merged = val.shared_reference_sites(data.site, data.time, data.y)
        for m in merged:
            notes.append(f"{', '.join(m)} share one reference monitor: held out together as one site")
        if len(set(sites.tolist())) < 2:
            raise TynysError(f"leave-site-out needs sensors at 2 or more reference sites; these {len(data.sensors)} "
                             f"sensor(s) ({', '.join(data.sensors)}) were all paired with the same reference values "
                             "(one site): use --validation time")
        folds, _ = val.group_folds(sites)
        return folds, folds, "leave-site-out"
    if validation == "time":
        folds = val.blocked_folds(data.time, k)
        weeks = (data.time - data.time.min()) // WEEK
        return folds, np.unique(weeks, return_inverse=True)[1].ravel(), f"{k}-fold blocked leave-time-out"
    raise TynysError(f"unknown validation {validation!r}; use site or time")


def delta_rmse(y, pred, base, groups, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0):
    """ΔRMSE of *pred* against *base* (both predicting *y*) on the rows both have, and its bootstrap
    interval over *groups* (None with fewer than 5 groups). One pass of sums per group, then all
    resamples at once."""
    y, pred, base = (np.asarray(a, float) for a in (y, pred, base))
    ok = np.isfinite(y) & np.isfinite(pred) & np.isfinite(base)
    g = np.unique(np.asarray(groups)[ok], return_inverse=True)[1].ravel()
    ng = int(g.max()) + 1 if len(g) else 0
    sp = np.bincount(g, weights=(pred[ok] - y[ok]) ** 2, minlength=ng)
    sb = np.bincount(g, weights=(base[ok] - y[ok]) ** 2, minlength=ng)
    n = np.bincount(g, minlength=ng).astype(float)
    if n.sum() == 0:
        return float("nan"), None
    point = float(np.sqrt(sp.sum() / n.sum()) - np.sqrt(sb.sum() / n.sum()))
    if ng < MIN_GROUPS:
        return point, None
    idx = np.random.default_rng(seed).integers(0, ng, size=(n_boot, ng))
    nn = n[idx].sum(1)
    d = np.sqrt(sp[idx].sum(1) / nn) - np.sqrt(sb[idx].sum(1) / nn)
    lo, hi = np.percentile(d, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return point, (float(lo), float(hi))


def compare(data: Colocated, *, validation: str = "time", folds: int = 10, names=None, basis: str | None = None,
            n_boot: int = 2000, level: float = 0.95, seed: int = 0, cluster: str | None = None) -> Comparison:
    """Score raw, each applicable published correction and each fitted model (*names*, default all
    the inputs allow) on *data* under *validation* (``site`` or ``time``). *cluster*: each model's
    cross-validation a part on Dask workers (:mod:`tynys.cluster`), the same predictions."""
    if not len(data):
        raise TynysError("no co-located pairs to compare: " + "; ".join(data.notes or ["check the files overlap in time"]))
    notes: list[str] = []
    fold, groups, how = folds_for(data, validation, folds, notes)
    fixed = {"raw": data.x, **published(data, basis, notes)}
    inputs = data.data()
    names = list(names or [m for m in models.NAMES if all(inputs.get(k) is not None for k in models.NEEDS[m])])
    preds = dict(fixed)
    preds.update(zip(names, map_parts(val.cross_validate, names, inputs, data.y, fold, cluster=cluster)))
    rows = []
    for label, p in preds.items():
        kind = "raw" if label == "raw" else "published" if label in fixed else "fitted"
        s = val.score(data.y, p)
        rows.append({"candidate": label, "kind": kind, "validation": how if kind == "fitted" else "none (not fitted here)",
                     **{k: s[k] for k in ("rmse", "nrmse", "r2", "slope", "intercept", "bias", "mae", "n")}})
    pub = [r for r in rows if r["kind"] == "published"]
    baseline = min(pub, key=lambda r: r["rmse"])["candidate"] if pub else "raw"
    for r in rows:
        d, ci = delta_rmse(data.y, preds[r["candidate"]], preds[baseline], groups, n_boot=n_boot, level=level, seed=seed)
        r["delta_rmse"], r["delta_rmse_ci"] = d, list(ci) if ci else None
        r["significant"] = None if ci is None or r["candidate"] == baseline else bool(ci[1] < 0 or ci[0] > 0)
    rows.sort(key=lambda r: r["rmse"])
    ngroups = len(np.unique(groups))
    kind = "sites" if validation == "site" else "weeks"
    c = Comparison(rows, notes, how, ngroups, kind, baseline, "", data.pollutant, data.unit, data.interval, len(data),
                   len(data.sensors), level, tried=max(1, len(names)))
    if rows[0]["kind"] == "fitted" and rows[0]["delta_rmse_ci"] is not None:
        _, ci = delta_rmse(data.y, preds[rows[0]["candidate"]], preds[baseline], groups, n_boot=n_boot,
                           level=c.family_level, seed=seed)
        c.best_ci = list(ci)
    c.recommendation, c.best = _recommend(c)
    for r in rows:
        r["recommended"] = r["candidate"] == c.best.get("candidate")
    return c


def _recommend(c: Comparison) -> tuple[str, dict]:
    rows = {r["candidate"]: r for r in c.rows}
    best, base = c.rows[0], rows[c.baseline]
    unit = f" {c.unit}" if c.unit else ""

    def gain(r, ci=None, level=c.level):
        lo_hi = ci or r["delta_rmse_ci"]
        ci = f", {100 * level:.3g} % CI {lo_hi[0]:+.2f}…{lo_hi[1]:+.2f}" if lo_hi else ""
        return f"ΔRMSE {r['delta_rmse']:+.2f}{unit}{ci} over {c.groups} {c.group_kind}"

    if best["candidate"] == c.baseline:
        what = ("the best published correction;" if c.baseline != "raw" else
                "no published correction applies and")
        return f"{c.baseline}: {what} no fitted model does better under {c.validation} (RMSE {best['rmse']:.2f}{unit})", best
    picked = f"the best of {c.tried} fitted models"
    if best["significant"] and c.tried > 1 and c.best_ci is not None and c.best_ci[1] >= 0:
        return (f"{c.baseline}: {best['candidate']} has the lowest RMSE ({best['rmse']:.2f}{unit}) and its gain over "
                f"{c.baseline} is significant at {100 * c.level:g} % alone ({gain(best)}), but not as {picked} "
                f"({gain(best, c.best_ci, c.family_level)})" + (f"; {c.baseline} needs no fitting" if c.baseline != "raw"
                                                               else ""), base)
    if best["significant"]:
        return (f"{best['candidate']} ({best['kind']}, RMSE {best['rmse']:.2f}{unit}): better than {c.baseline} "
                + (f"({gain(best, c.best_ci, c.family_level)}: the interval for {picked})" if c.tried > 1 and c.best_ci else
                   f"({gain(best)})") + ", a significant gain", best)
    why = (f"too few {c.group_kind} ({c.groups}) to tell whether it is a real gain" if best["delta_rmse_ci"] is None else
           "not a significant gain")
    easy = f"; {c.baseline} needs no fitting" if c.baseline != "raw" else ""
    return (f"{c.baseline}: {best['candidate']} has the lowest RMSE ({best['rmse']:.2f}{unit}), but against "
            f"{c.baseline} ({gain(best)}) it is {why}{easy}", base)
