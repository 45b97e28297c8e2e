"""Fitting a calibration profile on co-located pairs — from files or from the store — with one
summary either way: the equation, the raw sensor's scores and the model's out-of-sample scores.

    from tynys.calibrate import fitting, inputs
    data = inputs.colocated("RT01.csv:pm25", "airnowtech.csv", rh="RT01.csv:rh", reading=inputs.Reading(tz="-05:00"))
    profile, summary = fitting.fit_colocated(data, "mlr_rh", node="rt01", channel="pm.pm25_cf1")
    summary["equation"], summary["raw"]["rmse"], summary["validated"]["rmse"]
"""

from __future__ import annotations

import numpy as np

from ..timeutil import iso
from . import models
from .colocation import days_label
from .inputs import Colocated
from .profiles import Profile, profile_from_fit
from .validation import fit_validated, score

SCORES = ("n", "r2", "slope", "intercept", "rmse", "nrmse")


def fit_profile(model: str, data: dict, y, time, *, node: str, channel: str, inputs: dict, reference: str,
                interval: str, unit: str = "", day_tz: str | None = None, valid_from: int | None = None,
                valid_to: int | None = None) -> tuple[Profile, dict]:
    """Fit *model* on ``data`` (x, rh, t_c) against *y* at *time*; the profile (version not yet set)
    and its summary: ``pairs``, ``from``, ``to``, ``equation``, ``raw`` and ``validated`` scores."""
    coef, metrics = fit_validated(model, data, y, time, interval=interval)
    raw = {k: v for k, v in score(y, data["x"]).items() if k in SCORES}
    p = profile_from_fit(node, channel, model, coef, time, inputs=inputs, reference=reference, metrics=metrics,
                         valid_from=iso(valid_from) if valid_from is not None else None,
                         valid_to=iso(valid_to) if valid_to is not None else None, interval=interval, unit=unit)
    p.fitted_on["raw"] = raw
    t = np.asarray(time)
    summary = {"pairs": int(len(t)), "from": iso(t.min()), "to": iso(t.max()), "interval": interval, "unit": unit,
               "equation": models.equation(model, coef), "raw": raw, "validated": metrics}
    if interval == "24h":  # provenance: which days the daily means were made on
        p.fitted_on["days"] = summary["days"] = days_label(day_tz)
    return p, summary


def fit_colocated(data: Colocated, model: str, *, node: str, channel: str, valid_from: int | None = None,
                  valid_to: int | None = None) -> tuple[Profile, dict]:
    """:func:`fit_profile` on pairs read from files (:func:`tynys.calibrate.inputs.colocated`)."""
    inputs = {"x": channel} | ({"rh": "th.rh"} if data.rh is not None else {}) | \
        ({"t_c": "th.t_c"} if data.t_c is not None else {})
    return fit_profile(model, data.data(), data.y, data.time, node=node, channel=channel, inputs=inputs,
                       reference=data.reference, interval=data.interval, unit=data.unit, day_tz=data.day_tz,
                       valid_from=valid_from, valid_to=valid_to)
