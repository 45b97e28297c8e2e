"""Drift alarms with a stated false-alarm rate: self-starting regression CUSUMs on daily residuals.

A sensor is compared with a co-located reference day by day (24-h means over the hours both
report, at least 75 % of them). The calibration model, per sensor::

    ȳ_d = o + g·x̄_d (+ β·c_d) + ε_d      Var ε_d = s_a² + s_r²·(g·x̄_d)²,  ε an AR(1) plus white noise

- **Sensor on reference.** The reference is the accurate instrument, so the sensor is regressed on
  it: the other way round (reference on sensor) shrinks the slope by the sensor's noise (regression
  dilution) and turns every rise of the pollution level into a residual that looks like drift.
- **Two error components** (Rocke & Lorenzato, Technometrics 37, 176, 1995): an additive part and
  one that grows with the level, fitted by maximum likelihood. A gain drift is multiplicative and
  shows most on polluted days; an offset drift is additive and shows most on clean days.
- **Autocorrelation.** Daily residuals carry weather (humidity, aerosol composition) from one day
  to the next, on top of errors that last a day. Modelled as an AR(1) plus white noise (an ARMA(1,
  1): Staudenmayer & Buonaccorsi, JASA 100, 841, 2005), with φ and the persistent share from the
  lag-1 and lag-2 autocorrelations (each bias-corrected by (1 + 3ρ)/n, Kendall, Biometrika 41,
  403, 1954); the CUSUMs watch its one-step innovations, the residual-chart approach for
  autocorrelated data (Alwan & Roberts, J. Bus. Econ. Stat. 6, 87, 1988; Lu & Reynolds, J. Qual.
  Technol. 33, 316, 2001).
- **The fit's own error.** Each day is predicted by a calibration fitted only on earlier days and
  standardised by its prediction error, which includes the fit's uncertainty at that day's level:
  large when the level is far from the levels fitted on. These are recursive residuals (Brown,
  Durbin & Evans, J. R. Stat. Soc. B 37, 149, 1975), the regression form of a self-starting CUSUM
  (Hawkins, The Statistician 36, 299, 1987). The calibration is refitted every week on all days
  up to a guard band before the day watched (28 days for PM, 7 for SO2: so a new drift is judged
  against data it has not touched), starting from the first *baseline_days*; while few days
  estimate the error SD, the standardised residuals are t-distributed and mapped to normal ones
  (:func:`_t_to_normal`). A fixed 30-day fit instead carries its error into every later day, and
  the CUSUM adds it up (Jones, Champ & Rigdon, J. Qual. Technol. 36, 95, 2004, show how strongly
  estimated parameters shorten a CUSUM's in-control run length). The price: a drift not caught
  within a few weeks is slowly absorbed by the refits.
- **Two rules**, each a two-sided weighted CUSUM (Yashchin, Technometrics 31, 321, 1989) of the
  standardised residuals e_d: ``S = max(0, S + w_d·(±e_d − k))``, alarm when S > h. The *gain*
  rule weighs a day by w = s_r·m/σ (the share of its error that scales with the level m), the
  *offset* rule by w = s_a/σ; w² sums to 1 over the two. With w ≤ 1 a day weighs at most as much
  as in the plain CUSUM: on ideal independent N(0, 1) days a rule alarms no more often than the
  plain CUSUM with the same k, h (:func:`siegmund_arl`; checked by simulation in the tests).
  Real residuals are not ideal (estimated parameters), so k and h are chosen by simulation.
- **Covariates with a prior.** An SO2 cell's zero follows the AAN 803 temperature factor k''_T(T)
  only typically; c_d = k''_T/S [ppb] enters with a prior on β from the datasheet's spread, so a
  calibration made in one season is not trusted blindly in the next (:func:`aan803_zero_term`).

Thresholds (k, h) and their measured in-control average run length (ARL, days between false
alarms per sensor) and detection delays are data: ``calibration/drift/<pollutant>.json``, measured
by ``bench/bench_drift.py`` on :mod:`tynys.calibrate.synthetic` over level regimes ×1–×3.

Everything is vectorised over sensors: arrays are ``(sensors, days)``; one sensor is one row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import TynysError
from ..timeutil import iso, period_starts
from .colocation import COMPLETENESS, recording_interval
from .data import load

DAY = 86400
RULES = ("gain", "offset")
WARM_UP = 14   # days the innovations filter runs before the days it reports (θ¹⁴ is negligible)


class DriftDataError(TynysError):
    """Too little or unusable co-located data to watch for drift: the message says what is needed."""


# --- daily pairs ---

def daily_pairs(time, sensor, reference, *, covariates: dict | None = None, tz=None,
                completeness: float = COMPLETENESS) -> dict:
    """24-h means of *sensor* and *reference* over the hours both report, ≥ *completeness* of a day.

    *time* is int64 UTC seconds shared by the rows of *sensor*/*reference* (1-D for one sensor,
    ``(sensors, times)`` for many); *covariates* ``{name: array like sensor}`` are averaged over the
    same hours. Days are those of *tz*'s standard time (None: UTC). Returns ``day`` (start of each
    day, every day from the first to the last, gaps included), ``index`` (days since the first),
    ``x`` (reference), ``y`` (sensor) and ``covariates``, each ``(sensors, days)`` with NaN where a
    day is incomplete.
    """
    t = np.asarray(time, np.int64)
    y, x = np.atleast_2d(np.asarray(sensor, float)), np.atleast_2d(np.asarray(reference, float))
    if x.shape != y.shape or x.shape[-1] != len(t):
        raise DriftDataError(f"sensor {y.shape}, reference {x.shape} and time ({len(t)},) must line up")
    if len(t) < 2:
        raise DriftDataError("drift needs a co-located series, not a single time")
    order = np.argsort(t, kind="stable")
    t, x, y = t[order], x[:, order], y[:, order]
    cov = {k: np.atleast_2d(np.asarray(v, float))[:, order] for k, v in (covariates or {}).items()}
    ok = np.isfinite(x) & np.isfinite(y)
    for v in cov.values():
        ok &= np.isfinite(v)
    step = recording_interval(t)
    starts = period_starts(t, DAY, tz)
    first = np.concatenate([[0], np.flatnonzero(np.diff(starts)) + 1])
    uniq = starts[first]
    n = np.add.reduceat(ok.astype(float), first, axis=1)
    need = completeness * DAY / step - 1e-9

    def mean(v):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n >= need, np.add.reduceat(np.where(ok, v, 0.0), first, axis=1) / n, np.nan)

    index = np.rint((uniq - uniq[0]) / DAY).astype(np.int64)  # a 25-h standard day stays one day
    days = index[-1] + 1

    def grid(v):
        out = np.full((v.shape[0], days), np.nan)
        out[:, index] = v
        return out

    day = uniq[0] + DAY * np.arange(days, dtype=np.int64)
    day[index] = uniq
    return {"day": day, "index": np.arange(days), "x": grid(mean(x)), "y": grid(mean(y)),
            "covariates": {k: grid(mean(v)) for k, v in cov.items()}}


# --- the calibration fit ---

@dataclass
class Fit:
    """A calibration fitted on some days, per sensor (arrays of length sensors).

    ``beta`` (sensors, p): intercept o, slope g, then one coefficient per covariate; ``cov``
    (sensors, p, p) their covariance (autocorrelation-inflated, priors included); ``s_a2``, ``s_r2``
    the two error components; ``phi`` and ``share`` the daily AR(1)-plus-noise errors; ``n`` days used.
    """

    beta: np.ndarray
    cov: np.ndarray
    s_a2: np.ndarray
    s_r2: np.ndarray
    phi: np.ndarray
    share: np.ndarray   # share of the standardised error that is the persistent AR(1) part (the rest is white)
    n: np.ndarray

    @property
    def long_run(self) -> np.ndarray:
        """Variance of a long mean of the standardised errors relative to independent ones."""
        return 1 + self.share * 2 * self.phi / (1 - self.phi)

    def innovations(self):
        """(θ, σ²) of the ARMA(1, 1) that an AR(1) plus white noise is: z_t − φz_{t−1} = a_t − θa_{t−1}."""
        phi, w = self.phi, 1 - self.share
        g0 = self.share * (1 - phi * phi) + w * (1 + phi * phi)
        r = phi * w / g0                                   # −(lag-1 autocorrelation of z_t − φz_{t−1})
        with np.errstate(invalid="ignore", divide="ignore"):
            theta = np.where(r > 1e-9, (1 - np.sqrt(np.maximum(1 - 4 * r * r, 0.0))) / (2 * r), 0.0)
        return theta, g0 / (1 + theta * theta)

    def sd(self, x) -> np.ndarray:
        """Residual SD at reference level *x* (sensors, days) [sensor units]."""
        m = self.beta[:, 1:2] * x
        return np.sqrt(self.s_a2[:, None] + self.s_r2[:, None] * m * m)


def _design(x, covs) -> np.ndarray:
    return np.stack([np.ones_like(x), x, *covs], axis=-1)   # (sensors, days, p)


def _error_components(r, m, use, iters: int = 6):
    """ML fit of Var r = a + b·m² (a ≥ floor, b ≥ 0) by Fisher scoring: r² regressed on (1, m²)
    with weights 1/σ⁴ (the Gaussian likelihood's quasi-likelihood form)."""
    r2 = np.where(use, r * r, 0.0)
    m2 = np.where(use, m * m, 0.0)
    cnt = use.sum(1)
    mean_r2 = r2.sum(1) / cnt
    floor = 1e-3 * mean_r2 + 1e-12
    a, b = mean_r2.copy(), np.zeros_like(mean_r2)
    for _ in range(iters):
        w = np.where(use, 1.0 / (a[:, None] + b[:, None] * m2) ** 2, 0.0)
        sw, sm, smm = w.sum(1), (w * m2).sum(1), (w * m2 * m2).sum(1)
        sr, srm = (w * r2).sum(1), (w * r2 * m2).sum(1)
        det = sw * smm - sm * sm
        with np.errstate(invalid="ignore", divide="ignore"):
            a_new = (smm * sr - sm * srm) / det
            b_new = (sw * srm - sm * sr) / det
        flat = ~(b_new > 0) | ~np.isfinite(b_new)      # no level dependence: constant variance
        b_new = np.where(flat, 0.0, b_new)
        a_new = np.where(flat, sr / sw, a_new)
        low = a_new < floor                               # no additive part: proportional variance
        with np.errstate(invalid="ignore", divide="ignore"):
            b_low = np.where(smm > 0, (srm - floor * sm) / smm, 0.0)
        a = np.where(low, floor, a_new)
        b = np.where(low, np.maximum(b_low, 0.0), b_new)
    return a, b


def fit(x, y, use, *, covariates=(), prior_sd=(), errors: str = "ar1+noise", iters: int = 3) -> Fit:
    """Weighted least squares of sensor *y* on reference *x* (and *covariates*) over days where *use*.

    Alternates the coefficients and the two error components (iteratively reweighted), then
    estimates the day-to-day memory of the standardised residuals (*errors*, one of
    :data:`ERROR_MODELS`). *prior_sd* gives each covariate a zero-mean Gaussian prior [its unit per
    covariate unit]; intercept and slope have none.
    """
    x = np.asarray(x, float)
    covs = [np.asarray(c, float) for c in covariates]
    use = np.asarray(use, bool) & np.isfinite(x) & np.isfinite(y)
    for c in covs:
        use &= np.isfinite(c)
    cnt = use.sum(1)
    p = 2 + len(covs)
    if (cnt < p + 5).any():
        raise DriftDataError(f"the calibration period has {int(cnt.min())} complete days; at least {p + 5} are needed")
    X = np.where(use[..., None], _design(np.where(use, x, 0.0), [np.where(use, c, 0.0) for c in covs]), 0.0)
    Y = np.where(use, y, 0.0)
    prior = np.zeros((p, p))
    for j, sd in enumerate(prior_sd):
        prior[2 + j, 2 + j] = 1.0 / sd ** 2
    w = use.astype(float)
    for _ in range(iters):
        A = np.einsum("nd,ndi,ndj->nij", w, X, X) + prior
        beta = np.linalg.solve(A, np.einsum("nd,ndi,nd->ni", w, X, Y)[..., None])[..., 0]
        r = np.where(use, Y - np.einsum("ndi,ni->nd", X, beta), 0.0)
        m = beta[:, 1:2] * np.where(use, x, 0.0)
        a, b = _error_components(r, m, use)
        w = np.where(use, 1.0 / (a[:, None] + b[:, None] * m * m), 0.0)
    phi, share = _ar1_plus_noise(r * np.sqrt(w), use, errors)
    f = Fit(beta=beta, cov=np.empty(0), s_a2=a, s_r2=b, phi=phi, share=share, n=cnt)
    infl = f.long_run
    dof = cnt / np.maximum(cnt - p * infl, cnt / 2)   # residuals under-estimate the error by the fit's share
    f.s_a2, f.s_r2 = a * dof, b * dof
    A = np.einsum("nd,ndi,ndj->nij", w / dof[:, None], X, X) / infl[:, None, None] + prior
    f.cov = np.linalg.inv(A)
    return f


# How the daily errors' memory is modelled before the CUSUMs: "ar1+noise" (the rules' choice, an
# ARMA(1, 1)); "ar1" and "white" (none) are kept so bench/bench_drift.py can show why.
ERROR_MODELS = ("ar1+noise", "ar1", "white")


def _ar1_plus_noise(z, use, errors: str = "ar1+noise"):
    """φ and the persistent share s of standardised residuals z modelled as an AR(1) plus white noise
    (an AR(1) measured with error is an ARMA(1, 1); Staudenmayer & Buonaccorsi, JASA 100, 841, 2005):
    lag-k autocorrelation s·φᵏ, so φ = ρ₂/ρ₁ and s = ρ₁/φ (moments; each ρ bias-corrected by
    (1 + 3ρ)/n as for a lag-1 estimate, Kendall 1954). A plain AR(1) when ρ₂ is not positive.
    *errors* "ar1" forces s = 1 (φ = ρ₁), "white" φ = 0 (no prewhitening)."""
    if errors not in ERROR_MODELS:
        raise ValueError(f"errors must be one of {', '.join(ERROR_MODELS)}, not {errors!r}")
    z = np.where(use, z, 0.0)
    cnt = use.sum(1)
    den = (z * z).sum(1)

    def rho(k):
        both = use[:, k:] & use[:, :-k]
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.nan_to_num(np.where(both, z[:, k:] * z[:, :-k], 0).sum(1) / den)
        return r + (1 + 3 * r) / cnt

    r1, r2 = np.clip(rho(1), 0.0, 0.9), rho(2)
    if errors != "ar1+noise":
        phi = r1 if errors == "ar1" else np.zeros_like(r1)
        return phi, (phi > 0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.where((r2 > 0) & (r1 > 0.05), np.clip(r2 / r1, r1, 0.9), r1)
        share = np.where(phi > 0, np.clip(r1 / phi, 0.0, 1.0), 0.0)
    return phi, share


# --- standardised recursive residuals ---

def residuals(x, y, *, covariates=(), prior_sd=(), baseline_days: int = 30, refit_every: int = 7,
              guard_days: int = 28, errors: str = "ar1+noise") -> dict:
    """Each day's standardised, prewhitened prediction residual ``e`` (≈ N(0, 1) while nothing drifts).

    Days before *baseline_days* calibrate only (``e`` NaN). From then on the calibration is refitted
    every *refit_every* days on all complete days before the day watched minus *guard_days*.
    Also returns ``r`` [sensor units], ``sd`` (its error SD), ``m`` (g·x), ``w_gain``/``w_offset``
    (the rules' weights), ``vfit`` (the fit's variance of each prediction), ``long_run`` (the
    errors' long-run variance factor) and ``slope``.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    covs = [np.asarray(c, float) for c in covariates]
    ns, nd = x.shape
    out = {k: np.full((ns, nd), np.nan) for k in ("e", "r", "sd", "m", "w_gain", "w_offset", "vfit", "long_run", "slope")}
    if nd <= baseline_days:
        raise DriftDataError(f"drift watching needs more than the {baseline_days} calibration days; have {nd} days")
    day = np.arange(nd)
    for d0 in range(baseline_days, nd, refit_every):
        use = np.broadcast_to(day < max(d0 - guard_days, baseline_days), (ns, nd))
        f = fit(x, y, use, covariates=covs, prior_sd=prior_sd, errors=errors)
        lo, hi = max(d0 - WARM_UP, 0), min(d0 + refit_every, nd)
        X = _design(x[:, lo:hi], [c[:, lo:hi] for c in covs])
        r = y[:, lo:hi] - np.einsum("ndi,ni->nd", X, f.beta)
        sd = f.sd(x[:, lo:hi])
        a, Xa, var = _innovations(f, r / sd, X / sd[..., None])
        vfit = np.einsum("ndi,nij,ndj->nd", Xa, f.cov, Xa)   # the fit's share of each innovation's error
        keep, sl = slice(d0 - lo, None), slice(d0, hi)
        nu = np.maximum(f.n / f.long_run - f.beta.shape[1], 3.0)[:, None]   # the error SD's effective df
        out["e"][:, sl] = _t_to_normal(a / np.sqrt(var + vfit), nu)[:, keep]
        out["r"][:, sl], out["sd"][:, sl] = r[:, keep], sd[:, keep]
        out["m"][:, sl] = f.beta[:, 1:2] * x[:, sl]
        out["vfit"][:, sl] = np.einsum("ndi,nij,ndj->nd", X[:, keep], f.cov, X[:, keep])
        out["w_gain"][:, sl] = np.sqrt(f.s_r2)[:, None] * np.abs(out["m"][:, sl]) / sd[:, keep]
        out["w_offset"][:, sl] = np.sqrt(f.s_a2)[:, None] / sd[:, keep]
        out["long_run"][:, sl], out["slope"][:, sl] = f.long_run[:, None], f.beta[:, 1:2]
    return out


def _t_to_normal(t, nu):
    """Student-t values with *nu* degrees of freedom to standard normal ones (Wallace, Ann. Math.
    Stat. 30, 1124, 1959): z = √(ν·ln(1 + t²/ν))·(8ν + 1)/(8ν + 3). A residual standardised by an
    error SD estimated from few days is t-distributed; as the days add up it becomes normal. As in
    Hawkins's self-starting CUSUM, this keeps the first months' false-alarm rate where it is later."""
    return np.sign(t) * np.sqrt(nu * np.log1p(t * t / nu)) * (8 * nu + 1) / (8 * nu + 3)


def _innovations(f: Fit, z, Xz):
    """One-step innovations of standardised residuals *z* under the fit's AR(1)-plus-noise errors,
    the same filter applied to the standardised design rows *Xz*, and each innovation's variance.
    The recursion restarts (unconditional, variance 1) after a missing day. Loops over days, every
    sensor at once."""
    theta, s2 = f.innovations()
    phi = f.phi
    a, Xa, var = np.full(z.shape, np.nan), np.full(Xz.shape, np.nan), np.ones(z.shape)
    prev_z, prev_X = np.full(z.shape[0], np.nan), np.full(Xz[:, 0].shape, np.nan)
    prev_a, prev_Xa = np.zeros(z.shape[0]), np.zeros(Xz[:, 0].shape)
    for d in range(z.shape[1]):
        now = np.isfinite(z[:, d])
        cont = now & np.isfinite(prev_z)            # yesterday seen: filter; else start again
        a[:, d] = np.where(cont, z[:, d] - phi * np.nan_to_num(prev_z) + theta * prev_a, z[:, d])
        Xa[:, d] = np.where(cont[:, None], Xz[:, d] - phi[:, None] * np.nan_to_num(prev_X) + theta[:, None] * prev_Xa,
                            Xz[:, d])
        var[:, d] = np.where(cont, s2, 1.0)
        prev_z, prev_X = np.where(now, z[:, d], np.nan), np.where(now[:, None], Xz[:, d], np.nan)
        prev_a, prev_Xa = np.where(now, np.nan_to_num(a[:, d]), 0.0), np.where(now[:, None], np.nan_to_num(Xa[:, d]), 0.0)
    return a, Xa, var


# --- the CUSUM and its run length ---

def weighted_cusum(e, w, k: float, h: float, *, restart: bool = True) -> dict:
    """Two-sided weighted CUSUM ``S± = max(0, S± + w·(±e − k))`` along days, alarm when S > h.

    NaN days leave S unchanged. With *restart* S returns to 0 after an alarm (so alarms over a long
    in-control run count false alarms); otherwise it keeps its value. Returns ``up``/``down``
    (S, sensors × days) and ``up_alarm``/``down_alarm`` (boolean masks).
    """
    e, w = np.asarray(e, float), np.asarray(w, float)
    ns, nd = e.shape
    out = {}
    for side, sign in (("up", 1.0), ("down", -1.0)):
        s = np.zeros(ns)
        path = np.zeros((ns, nd))
        hit = np.zeros((ns, nd), bool)
        step = np.nan_to_num(w * (sign * e - k))
        for d in range(nd):   # over days (a few hundred), every sensor at once
            s = np.maximum(0.0, s + step[:, d])
            hit[:, d] = s > h
            path[:, d] = s
            if restart:
                s[hit[:, d]] = 0.0
        out[side], out[f"{side}_alarm"] = path, hit
    return out


def siegmund_arl(k: float, h: float, mu: float = 0.0) -> float:
    """Siegmund's approximation to a one-sided CUSUM's ARL for N(μ, 1) steps (Siegmund,
    *Sequential Analysis*, Springer 1985; the form in Montgomery, *Introduction to Statistical
    Quality Control*, ch. 9): ARL ≈ (exp(−2Δb) + 2Δb − 1)/(2Δ²), Δ = μ − k, b = h + 1.166; b² when Δ = 0."""
    delta, b = mu - k, h + 1.166
    if abs(delta) < 1e-9:
        return b * b
    return (np.exp(-2 * delta * b) + 2 * delta * b - 1) / (2 * delta * delta)


# --- rules as data ---

def rules(pollutant: str) -> dict:
    """The drift rules for *pollutant* from ``calibration/drift/<pollutant>.json``."""
    try:
        return load(f"drift/{pollutant}.json")
    except TynysError:
        raise TynysError(f"no drift rules for {pollutant!r}: calibration/drift has "
                         f"{', '.join(sorted(known_pollutants())) or 'none'}") from None


def known_pollutants() -> list[str]:
    from .data import calibration_dir
    return sorted(p.stem for p in (calibration_dir() / "drift").glob("*.json"))


def arl_text(days: float) -> str:
    """An ARL for people: ``711 days``; beyond ten years (a handful of alarms in the simulation) ``over 10 years``."""
    return "over 10 years" if days > 3650 else f"{days:.0f} days"


def describe(pollutant: str) -> list[str]:
    """One line per rule with its thresholds, in-control ARL and detection delay (for --help and docs)."""
    doc = rules(pollutant)
    lines = []
    for name in RULES:
        r = doc["rules"][name]
        d = r["delay_days"]
        quiet = r.get("delay_days_half_noise")
        lines.append(f"{pollutant} {name} rule (k={r['k']:g}, h={r['h']:g}): a false alarm once in {arl_text(r['arl_days'])}; "
                     f"{r['drift']['label']}: alarm after {d['mean']:.0f} days on average, 90 % within {d['p90']:.0f}"
                     + (f" (at half the noise {quiet['mean']:.0f} and {quiet['p90']:.0f})" if quiet else ""))
        bound = r.get("information_bound")
        if bound:   # what no rule can beat at this noise (bench/bench_drift_bound.py)
            one, four = bound["one_drift_watched"], bound["four_drifts_watched"]
            lines.append(f"  bound: an ideal test knowing every parameter needs {one['mean']:g} days on average "
                         f"(90 % within {one['p90']:.0f}) watching only this drift, {four['mean']:g} "
                         f"(90 % within {four['p90']:.0f}) watching gain and offset both ways")
    lines.append(f"{pollutant} both rules: {doc['false_alarms_per_sensor_year']:.2f} false alarms per sensor-year "
                 f"({doc['measured']['summary']})")
    if "field" in doc:
        lines.append(f"{pollutant} both rules: {doc['field']['alarms_per_sensor_year']:g} alarms per sensor-year {doc['field']['label']}")
    return lines


# --- one node: alarms ---

@dataclass
class DriftAlarm:
    """A calibration drift alarm: which rule, when it fired, since when, how big, and how often it lies."""

    node: str
    rule: str           # gain | offset
    direction: str      # up | down
    time: int           # start of the day the CUSUM crossed h
    since: int          # estimated start of the drift (the day after the CUSUM last stood at 0)
    statistic: float
    arl_days: float     # in-control average run length of this rule (days between false alarms)
    estimate: dict      # {"size", "low", "high", "unit", "what"}: the drift since *since*, 95 % interval
    message: str

    def as_dict(self) -> dict:
        d = asdict(self)
        d["time"], d["since"] = iso(self.time), iso(self.since)
        return d


def _estimate(rule: str, res: dict, i: int, lo: int, hi: int, unit: str) -> dict:
    """WLS estimate of the drift over days lo..hi of sensor *i*: the relative gain change
    (r = δ·m) or the offset in reference units (r = Δ·g), with a 95 % interval from the daily
    errors (AR(1)-inflated) and the calibration fit's variance."""
    sl = slice(lo, hi + 1)
    r, sd, m, vfit = (res[k][i, sl] for k in ("r", "sd", "m", "vfit"))
    infl, g = res["long_run"][i, hi], res["slope"][i, hi]
    ok = np.isfinite(r)
    r, sd, m, vfit = r[ok], sd[ok], m[ok], vfit[ok]
    base = m if rule == "gain" else np.full_like(m, g)
    a = base / sd ** 2 / np.sum(base * base / sd ** 2)
    size = float(np.sum(a * r))
    se = float(np.sqrt(infl / np.sum(base * base / sd ** 2) + np.sum(a * np.sqrt(vfit)) ** 2))
    scale, what, u = (100.0, "gain change", "%") if rule == "gain" else (1.0, "offset", unit)
    return {"what": what, "unit": u, "size": round(scale * size, 2), "low": round(scale * (size - 1.96 * se), 2),
            "high": round(scale * (size + 1.96 * se), 2), "days": int(ok.sum())}


def settings(doc: dict, pairs: dict, *, baseline_days: int | None = None) -> dict:
    """Keyword arguments of :func:`residuals` for the rules *doc* on daily *pairs* (covariates checked)."""
    method = doc["method"]
    names = list(doc.get("covariates", {}))
    got = sorted(pairs["covariates"])
    if sorted(names) != got:
        raise DriftDataError(f"{doc['name']} drift rules need covariates {', '.join(names) or '(none)'}; got "
                             f"{', '.join(got) or '(none)'}" + (": pass the temperature and the sensor sheet" if names else ""))
    return dict(covariates=[pairs["covariates"][k] for k in names], prior_sd=[doc["covariates"][k]["prior_sd"] for k in names],
                baseline_days=baseline_days or method["baseline_days"], refit_every=method["refit_every_days"],
                guard_days=method["guard_days"])


def rule_alarms(res: dict, doc: dict, *, restart: bool = True) -> dict:
    """``{rule: {"up": mask, "down": mask, "S_up": ..., "S_down": ...}}`` over sensors × days for the rules *doc*."""
    out = {}
    for rule in RULES:
        r = doc["rules"][rule]
        cs = weighted_cusum(res["e"], res[f"w_{rule}"], r["k"], r["h"], restart=restart)
        out[rule] = {"up": cs["up_alarm"], "down": cs["down_alarm"], "S_up": cs["up"], "S_down": cs["down"]}
    return out


def watch(node: str, time, sensor, reference, *, pollutant: str = "pm25", covariates: dict | None = None,
          tz=None, baseline_days: int | None = None) -> list[DriftAlarm]:
    """Drift alarms for one co-located node, by the rules of *pollutant* (``calibration/drift``).

    *sensor* is the node's reading (raw or corrected, any linear scale of the reference), *reference*
    the co-located reference on the same *time* grid [the pollutant's unit]; *covariates*
    ``{name: array}`` must be the ones the rules name (SO2: ``aan803_kpp_t``, from
    :func:`aan803_zero_term`). Each rule reports its first alarm in each direction.
    """
    doc = rules(pollutant)
    pairs = daily_pairs(time, sensor, reference, covariates=covariates, tz=tz,
                        completeness=doc["method"]["daily_completeness"])
    kw = settings(doc, pairs, baseline_days=baseline_days)
    x, y = pairs["x"], pairs["y"]
    base = kw["baseline_days"]
    complete = int(np.isfinite(x[0, :base]).sum())
    need = max(7, int(np.ceil(doc["method"]["min_baseline_share"] * base - 1e-9)))
    if complete < need:
        raise DriftDataError(f"the first {base} days have {complete} complete days (≥ 75 % of hours with both sensor and "
                             f"reference); at least {need} are needed to calibrate before watching")
    res = residuals(x, y, **kw)
    found = _first_alarms(res, doc)
    alarms = []
    for rule, side, d, since, stat in found:
        r = doc["rules"][rule]
        est = _estimate(rule, res, 0, since, d, doc["unit"])
        word = {"up": "reads high", "down": "reads low"}[side]
        size = f"{est['what']} {est['size']:+g} {est['unit']} (95 % {est['low']:g}..{est['high']:g})"
        alarms.append(DriftAlarm(
            node, rule, side, int(pairs["day"][d]), int(pairs["day"][since]), round(float(stat), 2), r["arl_days"], est,
            f"{node} {word} against the reference since {iso(int(pairs['day'][since]))[:10]}: {size}; "
            f"{rule} rule (in-control ARL {arl_text(r['arl_days'])} per sensor): "
            "refit the calibration (tynys calibrate fit) or check the sensor"))
    return sorted(alarms, key=lambda a: a.time)


def _first_alarms(res: dict, doc: dict) -> list[tuple]:
    """(rule, side, day, since, statistic) of the first alarm of each rule and direction (sensor 0)."""
    found = []
    for rule, sides in rule_alarms({k: v[:1] for k, v in res.items()}, doc, restart=False).items():
        for side in ("up", "down"):
            hit = np.flatnonzero(sides[side][0])
            if len(hit):
                d = int(hit[0])
                path = sides[f"S_{side}"][0]
                zeros = np.flatnonzero(path[:d] <= 0)
                lo = int(zeros[-1] + 1) if len(zeros) else 0
                since = lo + _change_point(res["e"][0, lo:d + 1], res[f"w_{rule}"][0, lo:d + 1], side)
                found.append((rule, side, d, since, path[d]))
    return found


def _change_point(e, w, side: str) -> int:
    """Where a step most likely began within the CUSUM's last excursion: the start t maximising
    the standardised sum ±Σ_{t..end} w·e / √Σ w² (the maximum-likelihood change point of a mean
    shift, Hinkley, Biometrika 58, 509, 1971). The CUSUM's last zero alone reaches back too far
    when k is small."""
    sign = 1.0 if side == "up" else -1.0
    we = np.nan_to_num(w * e)[::-1].cumsum()[::-1]
    ww = np.nan_to_num(w * w)[::-1].cumsum()[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(ww > 0, sign * we / np.sqrt(ww), -np.inf)
    return int(np.argmax(score))


def aan803_zero_term(t_c, sheet: dict) -> np.ndarray:
    """The AAN 803 algorithm-4 zero term k''_T(T)/S [ppb] of an Alphasense cell: the temperature
    part of its zero that the published table removes, the covariate of the SO2 drift rules."""
    from .corrections import temperature_factor
    tables = load("alphasense/aan803-temperature.json")["tables"]
    model = sheet.get("sensor_model")
    if model not in tables or "sensitivity_mv_ppb" not in sheet:
        raise TynysError(f"the SO2 drift rules need the sensor sheet's sensor_model (one of {', '.join(tables)}) and "
                         "sensitivity_mv_ppb")
    return temperature_factor(sheet.get("kpp_t_mv", tables[model]["kpp_t_mv"]), t_c) / sheet["sensitivity_mv_ppb"]
