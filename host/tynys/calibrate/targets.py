"""Pass/fail against EPA's performance targets and the EU data quality objectives (data in
``calibration/targets/``)."""

from __future__ import annotations

import math

from ..errors import TynysError
from .data import load

METRICS = ("slope", "intercept", "r2", "rmse", "nrmse", "sd", "cv")


def epa_targets(pollutant: str) -> dict:
    doc = load("targets/epa-nsim.json")
    if pollutant not in doc["targets"]:
        raise TynysError(f"no EPA targets for {pollutant!r}; known: {', '.join(doc['targets'])}")
    return doc["targets"][pollutant]


def unverified(pollutant: str) -> str | None:
    """Why the EPA targets for *pollutant* are not to be trusted yet, or None when their source was read."""
    if epa_targets(pollutant).get("verified", False):
        return None
    return (f"the EPA targets for {pollutant} are unverified (calibration/targets/epa-nsim.json: EPA's 2024 "
            "supplement was not read and their origin is not traced): the pass/FAIL verdict is provisional")


def _inside(value, bounds):
    lo, hi = bounds
    if lo is None and hi is None:
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def check(pollutant: str, stats: dict) -> dict:
    """Per-metric pass (True/False/None = not computable or no target) and the overall verdict.

    Error passes if RMSE or NRMSE passes, precision if SD or CV passes (EPA's alternatives);
    a group with no computable member (SD/CV with one sensor) does not count against the verdict
    but is reported as None.
    """
    t = epa_targets(pollutant)
    doc = load("targets/epa-nsim.json")
    per = {m: _inside(stats.get(m), t[m]) for m in METRICS}
    groups = {"bias": [per["slope"], per["intercept"]], "linearity": [per["r2"]]}
    for a, b in doc["alternatives"]:
        vals = [v for v in (per[a], per[b]) if v is not None]
        groups["error" if a == "rmse" else "precision"] = [any(vals)] if vals else [None]
    verdict = {g: (None if all(v is None for v in vs) else all(v for v in vs if v is not None)) for g, vs in groups.items()}
    known = [v for v in verdict.values() if v is not None]
    failed = [m for m, ok in per.items() if ok is False]
    for a, b in doc["alternatives"]:  # a metric whose alternative passes has not failed the target
        if per[a] or per[b]:
            failed = [m for m in failed if m not in (a, b)]
    return {"metrics": per, "groups": verdict, "failed": failed, "pass": bool(known) and all(known),
            "applies_to": t["applies_to"], "verified": bool(t.get("verified", False))}


def eu_objective(pollutant: str) -> dict:
    doc = load("targets/eu-dqo.json")
    if pollutant not in doc["objectives"]:
        raise TynysError(f"no EU data quality objective for {pollutant!r}; known: {', '.join(doc['objectives'])}")
    return doc["objectives"][pollutant]
