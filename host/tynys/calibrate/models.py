"""Calibration models fitted against a reference: reference ≈ f(sensor, RH, T).

    from tynys.calibrate import models
    coef = models.fit("mlr_rh", {"x": pa_cf1, "rh": rh}, reference)
    corrected = models.predict("mlr_rh", coef, {"x": pa_cf1_new, "rh": rh_new})

| name | equation | inputs |
|---|---|---|
| ``ols`` | y = a + b·x | x |
| ``deming`` | orthogonal (Deming, δ = 1) line through (x, y): noise in x does not flatten b | x |
| ``mlr_rh`` | y = a + b·x + c·RH | x, rh |
| ``mlr_rh_t`` | y = a + b·x + c·RH + d·T | x, rh, t_c |
| ``kappa`` | y = a + b·x / (1 + k/(100/RH − 1)), k = κ/ρ fitted on a grid 0…1 | x, rh |
| ``piecewise`` | y = a + b·x + c·max(0, x − x₀), x₀ fitted (continuous hinge) | x |

Coefficients are a plain dict (what a calibration profile stores). Fitting refuses with too
little data: at least 24 pairs and 10 per coefficient.
"""

from __future__ import annotations

import numpy as np

from ..errors import TynysError
from .colocation import require_pairs
from .metrics import deming

KAPPA_GRID = np.linspace(0.0, 1.0, 101)
RH_MAX = 95.0  # κ growth diverges at 100 %: cap RH where the sensors' own RH is unreliable anyway


def _design(name, data):
    x = np.asarray(data["x"], float)
    cols = [np.ones_like(x), x]
    if name in ("mlr_rh", "mlr_rh_t"):
        cols.append(np.asarray(data["rh"], float))
    if name == "mlr_rh_t":
        cols.append(np.asarray(data["t_c"], float))
    return np.column_stack(cols)


LINEAR_TERMS = {"ols": ("intercept", "slope"), "mlr_rh": ("intercept", "slope", "rh"),
                "mlr_rh_t": ("intercept", "slope", "rh", "t_c")}
NEEDS = {"ols": ("x",), "deming": ("x",), "mlr_rh": ("x", "rh"), "mlr_rh_t": ("x", "rh", "t_c"),
         "kappa": ("x", "rh"), "piecewise": ("x",)}
N_PARAMS = {"ols": 2, "deming": 2, "mlr_rh": 3, "mlr_rh_t": 4, "kappa": 3, "piecewise": 4}
NAMES = tuple(NEEDS)


def _check(name, data):
    if name not in NEEDS:
        raise TynysError(f"unknown model {name!r}; use one of {', '.join(NAMES)}")
    missing = [k for k in NEEDS[name] if data.get(k) is None]
    if missing:
        raise TynysError(f"model {name} needs {', '.join(missing)} (e.g. --rh FILE:COLUMN for rh)")


def valid_rows(name, data, y) -> np.ndarray:
    ok = np.isfinite(np.asarray(y, float))
    for k in NEEDS[name]:
        ok &= np.isfinite(np.asarray(data[k], float))
    return ok


def _kappa_growth(rh, k):
    aw = np.clip(rh, 0.0, RH_MAX) / 100.0
    return 1.0 + np.multiply.outer(k, aw / (1.0 - aw)) if np.ndim(k) else 1.0 + k * aw / (1.0 - aw)


def fit(name: str, data: dict, y, *, interval: str = "1h") -> dict:
    """Fit model *name* on ``data`` (``x``, ``rh``, ``t_c`` arrays) against the reference *y*."""
    _check(name, data)
    ok = valid_rows(name, data, y)
    require_pairs(int(ok.sum()), max(24, 10 * N_PARAMS[name]), f"fitting {name}", interval)
    d = {k: np.asarray(v, float)[ok] for k, v in data.items() if v is not None and k in NEEDS[name]}
    y = np.asarray(y, float)[ok]
    if name in LINEAR_TERMS:
        beta = np.linalg.lstsq(_design(name, d), y, rcond=None)[0]
        return dict(zip(LINEAR_TERMS[name], map(float, beta)))
    x = d["x"]
    if name == "deming":
        slope, intercept = deming(x, y, 1.0)
        return {"intercept": float(intercept), "slope": float(slope), "delta": 1.0}
    if name == "kappa":
        z = x / _kappa_growth(d["rh"], KAPPA_GRID)  # (grid, n): dried sensor value per candidate k
        zm, ym = z.mean(axis=1, keepdims=True), y.mean()
        b = ((z - zm) * (y - ym)).sum(1) / ((z - zm) ** 2).sum(1)
        a = ym - b * zm[:, 0]
        sse = ((y - a[:, None] - b[:, None] * z) ** 2).sum(1)
        i = int(np.argmin(sse))
        return {"intercept": float(a[i]), "slope": float(b[i]), "kappa_over_density": float(KAPPA_GRID[i])}
    if name == "piecewise":
        best = None
        for x0 in np.unique(np.quantile(x, np.linspace(0.1, 0.9, 33))):  # 33 candidates, not rows
            X = np.column_stack([np.ones_like(x), x, np.maximum(0.0, x - x0)])
            beta, *_ = np.linalg.lstsq(X, y, rcond=None)
            sse = float(np.sum((y - X @ beta) ** 2))
            if best is None or sse < best[0]:
                best = (sse, x0, beta)
        _, x0, beta = best
        return {"intercept": float(beta[0]), "slope": float(beta[1]), "slope_change": float(beta[2]), "breakpoint": float(x0)}
    raise AssertionError(name)


def predict(name: str, coef: dict, data: dict) -> np.ndarray:
    """Corrected values from fitted *coef* (NaN where an input is missing)."""
    _check(name, data)
    x = np.asarray(data["x"], float)
    if name in LINEAR_TERMS:
        return _design(name, data) @ np.array([coef[k] for k in LINEAR_TERMS[name]])
    if name == "deming":
        return coef["intercept"] + coef["slope"] * x
    if name == "kappa":
        return coef["intercept"] + coef["slope"] * x / _kappa_growth(np.asarray(data["rh"], float), coef["kappa_over_density"])
    if name == "piecewise":
        return coef["intercept"] + coef["slope"] * x + coef["slope_change"] * np.maximum(0.0, x - coef["breakpoint"])
    raise AssertionError(name)


def _num(v: float, lead: bool = False) -> str:
    text = f"{v:.4g}"
    if lead:
        return text
    return f"− {text[1:]}" if text.startswith("-") else f"+ {text}"


def equation(name: str, coef: dict, *, y: str = "reference", x: str = "sensor") -> str:
    """The fitted equation as text: ``reference = 2.44 + 0.7109·sensor + 0.02353·RH``."""
    if name in LINEAR_TERMS or name == "deming":
        terms = [_num(coef["intercept"], lead=True), f"{_num(coef['slope'])}·{x}"]
        terms += [f"{_num(coef[k])}·{label}" for k, label in (("rh", "RH"), ("t_c", "T")) if k in coef]
        return f"{y} = " + " ".join(terms)
    if name == "kappa":
        return (f"{y} = {_num(coef['intercept'], lead=True)} {_num(coef['slope'])}·{x} / (1 + k/(100/RH − 1)), "
                f"k = {coef['kappa_over_density']:.4g}")
    if name == "piecewise":
        return (f"{y} = {_num(coef['intercept'], lead=True)} {_num(coef['slope'])}·{x} "
                f"{_num(coef['slope_change'])}·max(0, {x} − {coef['breakpoint']:.4g})")
    raise TynysError(f"unknown model {name!r}; use one of {', '.join(NAMES)}")
