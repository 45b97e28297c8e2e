"""Honest validation: blocked leave-time-out and leave-site-out folds, out-of-fold predictions, scores.

A calibration fitted and scored on the same hours looks better than it will be next month or
at the next site. Folds here hold out contiguous blocks of time (neighbouring hours are nearly
the same air, so random folds leak) or whole sites (transferability).

    folds = blocked_folds(time, k=10)
    pred = cross_validate("mlr_rh", {"x": x, "rh": rh}, ref, folds)
"""

from __future__ import annotations

import numpy as np

from ..errors import TynysError
from . import models
from .metrics import regression_stats


def blocked_folds(time, k: int = 10) -> np.ndarray:
    """Fold id (0…k−1) per row: k contiguous blocks of (nearly) equal length in time order.

    Rows at the same time (co-located sensors pooled) always share a fold: the same hour of air
    must not be in training while it is being tested.
    """
    time = np.asarray(time)
    uniq, inv = np.unique(time, return_inverse=True)
    if len(uniq) < k:
        raise TynysError(f"{k}-fold blocked validation needs at least {k} distinct times; have {len(uniq)}")
    return (np.arange(len(uniq)) * k // len(uniq))[inv.ravel()].astype(np.int64)


def group_folds(groups) -> tuple[np.ndarray, list]:
    """Leave-one-group-out: fold id per row and the group of each fold (sites, sensors)."""
    names, inv = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    if len(names) < 2:
        raise TynysError(f"leave-site-out needs at least 2 sites; have {len(names)}")
    return inv.astype(np.int64), names.tolist()


def shared_reference_sites(labels, time, reference, *, share: float = 0.5) -> tuple[np.ndarray, list[list[str]]]:
    """Sensors paired with the same reference monitor are one site for leave-site-out.

    Held-out sensor B is not a new site if sensor A beside it, in training, was paired with the
    very same reference values: its test hours leak. Two labels are one site when their
    reference values are identical at *share* or more of the intervals both have (at least 3);
    different monitors agree to the last digit far less often (≤ 2 % of days in the PurpleAir SE
    US data, where sensors at one monitor agree on 56-92 %). Returns the site per row (merged
    labels joined by ``+``) and the merged groups. One loop step per pair of labels, not per row.
    """
    labels = np.asarray(labels).astype(str)
    time, reference = np.asarray(time), np.asarray(reference, float)
    names, inv = np.unique(labels, return_inverse=True)
    series = [(time[inv == g], reference[inv == g]) for g in range(len(names))]
    root = list(range(len(names)))

    def find(i):
        while root[i] != i:
            i = root[i]
        return i

    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            _, a, b = np.intersect1d(series[i][0], series[j][0], return_indices=True)
            if len(a) >= 3 and np.mean(series[i][1][a] == series[j][1][b]) >= share:
                root[find(j)] = find(i)
    groups: dict[int, list[str]] = {}
    for g, name in enumerate(names.tolist()):
        groups.setdefault(find(g), []).append(name)
    site_of = np.array(["+".join(groups[find(g)]) for g in range(len(names))], dtype=object)
    return site_of[inv].astype(str), [m for m in groups.values() if len(m) > 1]


def cross_validate(name: str, data: dict, y, folds) -> np.ndarray:
    """Out-of-fold predictions: each fold predicted by the model fitted on all other folds.

    Linear models use per-fold sums of squares and cross-products (Gram matrices), so k folds
    cost one pass over the data; the others refit per fold.
    """
    y = np.asarray(y, float)
    folds = np.asarray(folds)
    ok = models.valid_rows(name, data, y)
    pred = np.full(len(y), np.nan)
    k = int(folds.max()) + 1
    if name in models.LINEAR_TERMS:
        X = models._design(name, {kk: np.asarray(v, float) for kk, v in data.items() if v is not None})
        X, yy, f = X[ok], y[ok], folds[ok]
        p = X.shape[1]
        G = np.zeros((k, p, p))
        b = np.zeros((k, p))
        for j in range(p):  # per column, not per row: bincount sums by fold
            b[:, j] = np.bincount(f, weights=X[:, j] * yy, minlength=k)
            for i in range(j, p):
                G[:, i, j] = G[:, j, i] = np.bincount(f, weights=X[:, i] * X[:, j], minlength=k)
        n = np.bincount(f, minlength=k)
        need = max(24, 10 * p)
        train_n = n.sum() - n
        if (train_n < need).any():
            from .colocation import require_pairs
            require_pairs(int(train_n.min()), need, f"cross-validating {name}")
        beta = np.linalg.solve(G.sum(0) - G, (b.sum(0) - b)[..., None])[..., 0]
        pred[np.flatnonzero(ok)] = np.einsum("ij,ij->i", X, beta[f])
        return pred
    for j in range(k):
        test = folds == j
        train = ~test
        coef = models.fit(name, {kk: (np.asarray(v, float)[train] if v is not None else None) for kk, v in data.items()},
                          y[train])
        pred[test] = models.predict(name, coef, {kk: (np.asarray(v, float)[test] if v is not None else None)
                                                 for kk, v in data.items()})
    return pred


def score(reference, predicted) -> dict:
    """EPA-style statistics of a corrected series against the reference (rows with both values)."""
    r, p = np.asarray(reference, float), np.asarray(predicted, float)
    ok = np.isfinite(r) & np.isfinite(p)
    s = regression_stats(r[ok], p[ok])
    s["mae"] = float(np.mean(np.abs(p[ok] - r[ok])))
    s["coverage"] = float(ok.sum() / len(r) * 100)
    return s


def fit_validated(name: str, data: dict, y, time, *, interval: str = "1h") -> tuple[dict, dict]:
    """Fit *name* on all pairs and score it out of sample: ``(coefficients, metrics)``.

    The metrics (r2 slope intercept rmse nrmse n) come from blocked leave-time-out predictions
    (up to 10 contiguous blocks of at least 24 pairs each), which is what a calibration
    profile records as its expected performance.
    """
    coef = models.fit(name, data, y, interval=interval)
    folds = blocked_folds(time, min(10, max(2, len(np.asarray(y)) // 24)))
    scored = score(y, cross_validate(name, data, y, folds))
    metrics = {k: v for k, v in scored.items() if k in ("r2", "slope", "intercept", "rmse", "nrmse", "n")}
    metrics["validation"] = "blocked leave-time-out"
    return coef, metrics
