"""Closing the loop: what the host published for a simulated city against the air the scenario put
there, with the error each sensor model implies.

    from tynys.sim import loop
    r = loop.compare(store, plans, start, hours)    # after tynys.sim.run into store
    r.nodes     # per node and series: hours, bias, RMSE, the model's expected bias/RMSE, share in band
    r.city      # the same for the city's hourly values (median of the nodes)
    r.hours     # per node and hour: truth, published, implied, band (for the tests and a CSV)

Series, each hourly (mean of 5-minute windows, 75 % rule, as the host averages):

- ``raw cf1``: the nodes' PM2.5 CF=1 as stored;
- every published PM2.5 correction in calibration/corrections (CF=1 or ATM basis, the node's own
  RH), applied to the stored windows by the host's own functions (tynys.calibrate.corrections);
- ``published``: what the host's pipeline reports per node and hour (its stored profile's
  corrected values where a profile exists, else raw: tynys.pipeline), then its ``nowcast`` and
  US AQI (``aqi``, with the category);
- ``so2 aan803_alg4``: the SO2 cell through AAN 803 algorithm 4 with its own calibration sheet.

For each, *implied* is what the node's own sensor units (tynys.sim.models, the parameters the
simulation drew) read on average for the true air, pushed through the same correction: the
stated error of that node's published value, which differs from it only by the sensors' frame
noise (``within_noise``: the share of hours within :func:`tolerance` of it). The *band* is the
2.5-97.5 % range of (implied - truth) over N_UNITS units drawn from the models' spreads: the
error the models lead one to expect for any unit (``in_band``: the share of hours inside it; a
unit at the edge of the spread may fall outside it now and then). Nothing here compares with
zero error.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import pipeline
from ..aqi.averaging import window_means
from ..calibrate import corrections
from ..store import Store
from . import models, truth as _truth

N_UNITS = 300
HOUR = 3600
PM_CHANNELS = ("pm.pm25_cf1", "pm.pm25_atm", "th.rh", "th.t_c", "so2.we_mv", "so2.ae_mv")  # the typical node's
PMS_SAMPLED_S = 120  # a PMS slot's default sample_s (firmware/node/wiring.py POLICY): read in each window's last 2 min


def pm_corrections() -> dict[str, dict]:
    """The published PM2.5 corrections a PMS5003 node can take (CF=1 or ATM basis)."""
    return {n: d for n, d in corrections.catalogue().items()
            if d["pollutant"] == "pm25" and d["basis"] in ("cf1", "atm") and d.get("status") != "unverified"}


@dataclass
class Comparison:
    """Per node and series: hourly ``truth``, ``published``, ``implied``, ``lo``/``hi`` (band of
    implied - truth over the models' spread), and the summaries ``nodes`` and ``city``."""

    hours: np.ndarray
    node_ids: list[str]
    series: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    categories: dict[str, np.ndarray] = field(default_factory=dict)
    nodes: list[dict] = field(default_factory=list)
    city: list[dict] = field(default_factory=list)


def _hourly(t0, v, lo: int, n: int) -> np.ndarray:
    """Hourly means of window values on the axis [lo, lo + n h), the host's 75 % rule."""
    out = np.full(n, np.nan)
    ok = np.isfinite(v)
    if not ok.any():
        return out
    starts, means, _ = window_means(t0[ok], v[ok], HOUR, sample_s=300, min_fraction=0.75)
    at = (starts - lo) // HOUR
    keep = (at >= 0) & (at < n)
    out[at[keep]] = means[keep]
    return out


def _truth_samples(plan, t0: np.ndarray) -> dict[str, np.ndarray]:
    """The world at SAMPLE_S steps through each window (windows x samples)."""
    s = t0[:, None] + _truth.SAMPLE_S * (np.arange(_truth.WINDOW_S // _truth.SAMPLE_S) + 0.5)
    return {q: _truth.world_at(plan.world, q, s) for q in ("pm25", "pm10", "rh", "t_c", "so2_ppb", "no2_ppb")}


def _channels(units: dict, x: dict) -> dict[str, np.ndarray]:
    """Window means of the node's channels that a unit (parameters as numbers, or (N, 1, 1) arrays
    for N units at once) reports for the true air *x* (windows x samples), noise-free. The PMS
    is read only in the last PMS_SAMPLED_S of each window (it sleeps before: the firmware's duty
    cycle), the others throughout."""
    k = max(1, x["pm25"].shape[-1] * PMS_SAMPLED_S // _truth.WINDOW_S)
    pm = models.pms(units["pm"], x["pm25"][..., -k:], x["pm10"][..., -k:], x["rh"][..., -k:])
    th = models.sht3x(units["th"], x["t_c"], x["rh"])
    e = models.isb(units["so2"], x["so2_ppb"], x["no2_ppb"], x["t_c"])
    return {"pm.pm25_cf1": pm["pm25_cf1"].mean(axis=-1), "pm.pm25_atm": pm["pm25_atm"].mean(axis=-1),
            "th.rh": th["rh"].mean(axis=-1), "th.t_c": th["t_c"].mean(axis=-1),
            "so2.we_mv": e["we_mv"].mean(axis=-1), "so2.ae_mv": e["ae_mv"].mean(axis=-1)}


def _series(ch: dict, corr: dict, so2_unit: dict) -> dict[str, np.ndarray]:
    """Each series this module compares, from window means of the channels (the host corrects
    window means, then averages hours)."""
    out = {"raw cf1": ch["pm.pm25_cf1"], "raw atm": ch["pm.pm25_atm"]}
    for name, doc in corr.items():
        out[name] = corrections.apply(name, x=ch["pm.pm25_cf1" if doc["basis"] == "cf1" else "pm.pm25_atm"],
                                      basis=doc["basis"], rh=ch["th.rh"])
    out["so2 aan803_alg4"] = _alg4(ch["so2.we_mv"], ch["th.t_c"], so2_unit)
    return out


def _alg4(we, t_c, u: dict) -> np.ndarray:
    """AAN 803 algorithm 4 with the cell's own sheet (tynys.sim.models.sheet) and no NO2 (the node
    has no NO2 sensor)."""
    g = u["isb_gain_mv_na"]
    return (np.asarray(we, float) - u["we_e"] - u["we_zero_na"] * g - models.kpp(t_c)) / (u["sensitivity_na_ppm"] * g / 1000.0)


def _per_hour(v: np.ndarray) -> np.ndarray:
    """Hourly means of values on the truth's regular window axis (last axis)."""
    return v.reshape(*v.shape[:-1], -1, HOUR // _truth.WINDOW_S).mean(axis=-1)


def compare(store: Store, plans, start: int, hours: int, *, n_units: int = N_UNITS, seed: int = 1) -> Comparison:
    """Compare what *store* holds for the planned nodes with their truth (see the module docstring)."""
    with warnings.catch_warnings():  # hours without a value (NowCast's first, an index's incomplete) stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return _compare(store, plans, start, hours, n_units, seed)


def _compare(store: Store, plans, start: int, hours: int, n_units: int, seed: int) -> Comparison:
    end = start + hours * HOUR
    t = _truth.windows(plans, start, hours)
    hours_axis, true_h = t.hourly()
    n_h = len(hours_axis)
    corr = pm_corrections()
    own_names = ["raw cf1", "raw atm", *corr, "so2 aan803_alg4"]
    names = own_names + ["published pm25", "published so2", "nowcast", "aqi"]
    out = Comparison(hours_axis, [p.node for p in plans])
    for s in names:
        out.series[s] = {k: np.full((len(plans), n_h), np.nan) for k in ("truth", "published", "implied", "lo", "hi")}
    rng = np.random.default_rng([seed, 31])
    pop_units = {slot: {k: v[:, None, None] for k, v in models.draws(u["model"], rng, n_units).items()}
                 for slot, u in plans[0].units.items()}
    pop_so2 = {k: v[:, :, 0] for k, v in pop_units["so2"].items()}
    h = pipeline.hourly(store, start, end, nodes=[p.node for p in plans])
    at = {n.id: k for k, n in enumerate(h.nodes)}
    cols = pipeline.node_columns(h, ("us-epa",))
    rep = h.reported
    pops = {"published pm25": [], "published so2": []}  # per node: the spread's hourly values
    for i, p in enumerate(plans):
        unit = {s: u["params"] for s, u in p.units.items()}
        own_ch = _channels(unit, _truth_samples(p, t.t0))
        pop_ch = _channels(pop_units, {q: t.values[q][i][:, None] for q in t.values})  # window means suffice here
        own, pop = _series(own_ch, corr, unit["so2"]), _series(pop_ch, corr, pop_so2)
        w = store.windows(p.node, PM_CHANNELS, start, end)
        pub = _series(w.mean, corr, unit["so2"])
        k = at[p.node]
        for name, pollutant, col in (("published pm25", "pm25", "pm25"), ("published so2", "so2", "so2_ppb")):
            q = getattr(h, pollutant)
            prof = _latest_profile(store, p.node, q.choices[k].corrected)
            raw = q.choices[k].raw  # the raw channel the pipeline reports where nothing is corrected
            own[name] = prof.apply({key: own_ch[c] for key, c in prof.inputs.items()}) if prof else own_ch.get(raw, np.nan * t.t0)
            pop[name] = pop[_same_as(prof, raw)] if _same_as(prof, raw) in pop else \
                prof.apply({key: pop_ch[c] for key, c in prof.inputs.items()}) if prof else pop_ch.get(raw)
            out.series[name]["published"][i] = np.asarray(cols[col], float)[k, rep]
        for name in own_names + ["published pm25", "published so2"]:
            s = out.series[name]
            truth_h = true_h["so2_ppb" if "so2" in name else "pm25"][i]
            s["truth"][i] = truth_h
            if name in pub:
                s["published"][i] = _hourly(w.t0, pub[name], start, n_h)
            s["implied"][i] = _per_hour(np.broadcast_to(own[name], t.t0.shape).astype(float))
            if pop[name] is not None:
                band = _per_hour(pop[name]) - truth_h
                s["lo"][i], s["hi"][i] = np.nanpercentile(band, 2.5, axis=0), np.nanpercentile(band, 97.5, axis=0)
            if name.startswith("published"):
                pops[name].append(_per_hour(pop[name]) if pop[name] is not None else np.full((n_units, n_h), np.nan))
    # NowCast and the index: the pipeline's index code on the truth, on what the node's units imply
    # and on the units of the models' spread
    idx = lambda pm, so2: _us_aqi(h, _padded(pm, h), _padded(so2, h))  # noqa: E731
    tr = idx(true_h["pm25"], true_h["so2_ppb"])
    im = idx(out.series["published pm25"]["implied"], out.series["published so2"]["implied"])
    order = [at[p.node] for p in plans]
    for key, col in (("nowcast", "nowcast_pm25"), ("aqi", "aqi")):
        s = out.series[key]
        s["published"][:] = np.asarray(cols[col], float)[order][:, rep]
        s["truth"][:] = np.asarray(tr[col], float)[:, rep]
        s["implied"][:] = np.asarray(im[col], float)[:, rep]
    for i in range(len(plans)):
        sp = idx(pops["published pm25"][i], pops["published so2"][i])
        for key, col in (("nowcast", "nowcast_pm25"), ("aqi", "aqi")):
            band = np.asarray(sp[col], float)[:, rep] - out.series[key]["truth"][i]
            out.series[key]["lo"][i], out.series[key]["hi"][i] = np.nanpercentile(band, 2.5, axis=0), np.nanpercentile(band, 97.5, axis=0)
    out.categories = {"published": np.asarray(cols["aqi_category"], dtype=object)[order][:, rep],
                      "truth": np.asarray(tr["aqi_category"], dtype=object)[:, rep]}
    out.nodes = _summaries(out, names, out.node_ids)
    out.city = _city(h, true_h)
    return out


def _same_as(prof, raw: str | None) -> str | None:
    """The series a node's published values are, for the spread of units: a published correction
    by its name (the SO2 sheet: each unit its own), the raw channel where nothing is corrected;
    None for a fitted model (its coefficients are then applied to the spread's units too)."""
    if prof is None:
        return {"pm.pm25_cf1": "raw cf1", "pm.pm25_atm": "raw atm"}.get(raw)
    name = prof.model.split(":", 1)[1] if prof.model.startswith("correction:") else None
    return "so2 aan803_alg4" if name == "aan803_alg4" else name


def _latest_profile(store, node: str, channel: str | None):
    """The newest calibration profile of *node*'s *channel* (what the pipeline's corrected values came from)."""
    if channel is None:
        return None
    from ..calibrate.stored import profiles
    found = [sp for sp in profiles(store, node, channel)]
    return max(found, key=lambda sp: sp.profile.version).profile if found else None


def _us_aqi(h, pm25: np.ndarray, so2: np.ndarray) -> dict:
    """The pipeline's US AQI columns (with NowCast) for hourly PM2.5 and SO2 on its hour axis; a row
    measures SO2 where it has any SO2 value (as the pipeline says of a node)."""
    rows = np.ones(pm25.shape[0], dtype=bool)
    return pipeline.index_columns(h.hours, {"pm25": pm25, "so2": so2}, {}, ("us-epa",),
                                  {"pm25": rows, "so2": np.isfinite(so2).any(axis=1)})


def _padded(v: np.ndarray, h) -> np.ndarray:
    """Truth on the pipeline's hour axis (its look-back hours before the start have none)."""
    out = np.full((v.shape[0], len(h.hours)), np.nan)
    out[:, h.reported] = v[:, : len(h.hours) - h.start]
    return out


def _stats(pub, truth, implied=None, lo=None, hi=None, tol=None) -> dict:
    ok = np.isfinite(pub) & np.isfinite(truth)
    if not ok.any():
        return {"hours": 0}
    d = pub[ok] - truth[ok]
    row = {"hours": int(ok.sum()), "truth_mean": float(truth[ok].mean()), "bias": float(d.mean()),
           "rmse": float(np.sqrt(np.mean(d * d)))}
    if implied is not None and np.isfinite(implied[ok]).any():
        # hours the published series has and the implied one lacks: a correction's domain edge
        # (LRAPA's 65 ug/m3) crossed by noise; counted apart
        e = implied[ok] - truth[ok]
        fin = np.isfinite(e)
        gap = np.abs(pub[ok] - implied[ok])[fin]
        row.update(expected_bias=float(e[fin].mean()), expected_rmse=float(np.sqrt(np.mean(e[fin] ** 2))),
                   noise_max=float(gap.max()), within_noise=float(np.mean(gap <= tolerance(implied[ok][fin]))),
                   domain_edge_hours=int((~fin).sum()))
    if lo is not None and np.isfinite(lo[ok]).any():
        slack = 0.0 if tol is None else tol(truth[ok])
        row["in_band"] = float(np.mean((d >= lo[ok] - slack) & (d <= hi[ok] + slack)))
    return row


def tolerance(value: np.ndarray) -> np.ndarray:
    """How far an hour's published value may stray from the *value* its units imply by frame noise
    and rounding alone: 3 % + 0.5 (ug/m3, ppb or index points). Averaging the frames of 12 windows
    leaves far less (0.1-0.4 %); the slack covers integer frames near zero and the corrections'
    nonlinearity over a window's spread."""
    return 0.03 * np.abs(value) + 0.5


def _agree(a, b) -> float | None:
    """Share of hours whose AQI category is the same (hours where both have one)."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    both = np.array([isinstance(x, str) and bool(x) and isinstance(y, str) and bool(y) for x, y in zip(a, b)], dtype=bool)
    return float(np.mean(a[both] == b[both])) if both.any() else None


def _summaries(out: Comparison, names, ids) -> list[dict]:
    rows = []
    for i, node in enumerate(ids):
        for name in names:
            s = out.series[name]
            row = {"node": node, "series": name,
                   **_stats(s["published"][i], s["truth"][i], s["implied"][i], s["lo"][i], s["hi"][i], tolerance)}
            if name == "aqi":
                row["category_agreement"] = _agree(out.categories["published"][i], out.categories["truth"][i])
            rows.append(row)
    return rows


def _city(h, true_h) -> list[dict]:
    """The city's hourly values (median of the nodes, the host's rule) against the median of the
    nodes' truth, and the AQI category agreement."""
    _, cols = pipeline.city_columns(h, ("us-epa",), districts=False)
    rep = h.reported
    city_truth = np.nanmedian(true_h["pm25"], axis=0)[None]
    tr = _us_aqi(h, _padded(city_truth, h), _padded(np.nanmedian(true_h["so2_ppb"], axis=0)[None], h))
    pub = lambda k: np.asarray(cols[k], float)[0, rep]  # noqa: E731
    rows = [{"node": "city", "series": "published", **_stats(pub("pm25"), city_truth[0])},
            {"node": "city", "series": "nowcast", **_stats(pub("nowcast_pm25"), np.asarray(tr["nowcast_pm25"], float)[0, rep])},
            {"node": "city", "series": "aqi", **_stats(pub("aqi"), np.asarray(tr["aqi"], float)[0, rep]),
             "category_agreement": _agree(np.asarray(cols["aqi_category"], dtype=object)[0, rep],
                                          np.asarray(tr["aqi_category"], dtype=object)[0, rep])}]
    return rows
