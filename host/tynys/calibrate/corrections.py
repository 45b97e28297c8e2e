"""Published corrections, read from ``calibration/corrections/*.json`` and applied by name.

    from tynys.calibrate import corrections
    corrections.apply("barkjohn2021", x=pa_cf1, basis="cf1", rh=rh_raw)       # µg/m³
    corrections.apply("epa2021_fsm_atm", x=pa_atm, basis="atm", rh=rh_raw)
    corrections.apply("aan803_alg4", we_mv=we, t_c=t, params=sheet)           # ppb

Each file names its citation, the Plantower output it was fitted on (``basis``: ``cf1`` or
``atm``; ``we_ae_mv`` for electrochemical), its inputs and test vectors. The equation *forms*
(piecewise polynomial with RH, κ-Köhler, AAN 803) are code here; every coefficient is data.
Test vectors come in two kinds: cases worked from the published equation, and cases whose
``from`` names an independent source (another implementation run on the inputs, or its
published output) in the file's ``test_vectors.sources``.
A correction applied to the wrong basis is refused: ATM and CF=1 differ by up to a factor 1.5.
"""

from __future__ import annotations

import numpy as np

from ..errors import TynysError
from .data import load, load_all

BASES = {"cf1": "Plantower CF=1 (standard particle)", "atm": "Plantower ATM (atmospheric environment)"}


class BasisError(TynysError):
    """A correction was given inputs of the wrong kind (ATM where CF=1 is required, or missing RH)."""


def catalogue() -> dict[str, dict]:
    """Every published correction by name (the JSON documents)."""
    return load_all("corrections")


def get(name: str) -> dict:
    """A correction by name, or by a name it had before (``aliases``: profiles stored under it still apply)."""
    cat = catalogue()
    if name not in cat:
        renamed = [doc for doc in cat.values() if name in doc.get("aliases", ())]
        if renamed:
            return renamed[0]
        raise TynysError(f"unknown correction {name!r}; known: {', '.join(cat)} (tynys calibrate corrections)")
    return cat[name]


def summary(doc: dict) -> dict:
    """The row ``tynys calibrate corrections`` prints for one correction."""
    return {"name": doc["name"], "pollutant": doc["pollutant"], "basis": doc["basis"],
            "inputs": list(doc["inputs"]), "status": doc.get("status", "as published"),
            "citation": doc["citation"], "doi": doc.get("doi"), "purpose": doc["purpose"]}


def apply(name: str, *, x=None, basis: str | None = None, rh=None, we_mv=None, ae_mv=None, t_c=None,
          no2_ppb=None, params: dict | None = None, allow_unverified: bool = False) -> np.ndarray:
    """Apply the correction *name* to arrays; returns the corrected series (NaN outside its domain)."""
    doc = get(name)
    if doc.get("status") == "unverified" and not allow_unverified:
        raise TynysError(f"{name} is marked unverified: {doc.get('status_note', '')} "
                         "Pass allow_unverified=True (CLI --allow-unverified) to use it anyway")
    form = doc["form"]
    if form in ("piecewise", "kappa_kohler"):
        x = _check_pm(doc, x, basis, rh)
        rh = np.asarray(rh, float) if rh is not None else np.zeros_like(x)
        return _piecewise(doc, x, rh) if form == "piecewise" else kappa_kohler(x, rh, doc["kappa_over_density"], doc["rh_clip"])
    if form == "aan803":
        return aan803(doc["algorithm"], we_mv=we_mv, ae_mv=ae_mv, t_c=t_c, no2_ppb=no2_ppb, params=params or {})
    raise TynysError(f"{name}: unknown form {form!r} in its data file")


def _check_pm(doc, x, basis, rh) -> np.ndarray:
    name, need = doc["name"], doc["basis"]
    if x is None:
        raise BasisError(f"{name} needs x = PM2.5 {BASES[need]}")
    if basis is None:
        raise BasisError(f"{name} needs to know which Plantower output x is: say basis 'cf1' or 'atm' "
                         f"(CLI --basis); it was fitted on {need} ({BASES[need]})")
    if basis != need:
        other = sorted(n for n, d in catalogue().items() if d.get("basis") == basis and d["pollutant"] == doc["pollutant"])
        raise BasisError(f"{name} was fitted on {need} ({BASES[need]}) but x is {basis} ({BASES.get(basis, basis)}); "
                         f"applying it would be wrong by up to 50 %. Use a correction made for {basis}: "
                         f"{', '.join(other) or '(none)'}")
    if "rh" in doc["inputs"] and rh is None:
        raise BasisError(f"{name} needs rh: {doc['inputs']['rh']}")
    return np.asarray(x, float)


def _equation(eq: dict, x, rh):
    return eq["const"] + eq["x"] * x + eq.get("x2", 0.0) * x * x + eq.get("rh", 0.0) * rh


def _piecewise(doc, x, rh) -> np.ndarray:
    eqs = doc["equations"]
    out = np.full(x.shape, np.nan)
    lower = np.full(x.shape, True)
    for r in doc["ranges"]:
        if "to" in r:
            upper = x <= r["to"] if r.get("to_inclusive") else x < r["to"]
        else:
            upper = np.full(x.shape, True)
        sel = lower & upper & np.isfinite(x)
        if "blend" in r:
            a, b = r["blend"]
            w = r["weight"][0] + r["weight"][1] * x
            val = w * _equation(eqs[b], x, rh) + (1 - w) * _equation(eqs[a], x, rh)
        else:
            val = _equation(eqs[r["use"]], x, rh)
        out = np.where(sel, val, out)
        lower = lower & ~upper
    lo, hi = (doc.get("domain") or [None, None])
    if lo is not None:
        out[x < lo] = np.nan
    if hi is not None:
        out[x > hi] = np.nan
    if doc.get("negative") == "zero":
        out = np.where(out < 0, 0.0, out)
    return out


def kappa_kohler(x, rh, kappa_over_density: float, rh_clip=(0, 99)) -> np.ndarray:
    """PM_dry = PM / (1 + (κ/ρ)/(100/RH − 1)) (Crilley et al. 2018), RH clipped to *rh_clip* [%]."""
    aw = np.clip(np.asarray(rh, float), *rh_clip) / 100.0
    return np.asarray(x, float) / (1.0 + kappa_over_density / (1.0 / aw - 1.0))


def temperature_factor(table, t_c) -> np.ndarray:
    """AAN 803 factor at *t_c*: linear between −30…50 °C points, saturated outside."""
    temps = load("alphasense/aan803-temperature.json")["temperatures_c"]
    return np.interp(np.asarray(t_c, float), temps, table)


def aan803(algorithm: int, *, we_mv, ae_mv=None, t_c, no2_ppb=None, params: dict) -> np.ndarray:
    """Alphasense AAN 803 algorithm 1–4: raw WE/AE [mV] and T [°C] -> gas [ppb].

    *params* (from the sensor's calibration sheet): ``sensor_model`` (``so2-a4``/``so2-b4``),
    ``we_e_mv``, ``ae_e_mv`` (board offsets), ``we_0_mv``, ``ae_0_mv`` (sensor zeros),
    ``sensitivity_mv_ppb``, optional ``no2_cross_mv_ppb`` with *no2_ppb*, and ``n_t``/``k_t``/
    ``kp_t``/``kpp_t_mv`` to override a table.
    """
    tables = load("alphasense/aan803-temperature.json")["tables"]
    model = params.get("sensor_model")
    if model not in tables:
        raise TynysError(f"AAN 803 needs params['sensor_model'], one of {', '.join(tables)}; got {model!r}")
    missing = [k for k in ("we_e_mv", "we_0_mv", "sensitivity_mv_ppb") + (("ae_e_mv",) if algorithm != 4 else ())
               + (("ae_0_mv",) if algorithm in (2, 3) else ()) if k not in params]
    if missing:
        raise TynysError(f"AAN 803 algorithm {algorithm} needs sensor parameters {', '.join(missing)} "
                         "(from the sensor's calibration sheet)")
    key = {1: "n_t", 2: "k_t", 3: "kp_t", 4: "kpp_t_mv"}[algorithm]
    table = params.get(key, tables[model].get(key))
    if table is None:
        raise TynysError(f"AAN 803 table {key} for {model} is not in calibration/alphasense (no verified source); "
                         f"pass it per sensor as params['{key}'] (9 values, -30..50 °C)")
    f = temperature_factor(table, t_c)
    we_t = np.asarray(we_mv, float) - params["we_e_mv"]
    if algorithm != 4:
        if ae_mv is None:
            raise TynysError(f"AAN 803 algorithm {algorithm} needs ae_mv (auxiliary electrode)")
        ae_t = np.asarray(ae_mv, float) - params["ae_e_mv"]
    if algorithm == 1:
        we_c = we_t - f * ae_t
    elif algorithm == 2:
        we_c = we_t - f * (params["we_0_mv"] / params["ae_0_mv"]) * ae_t
    elif algorithm == 3:
        we_c = we_t - (params["we_0_mv"] - params["ae_0_mv"]) - f * ae_t
    elif algorithm == 4:
        we_c = we_t - params["we_0_mv"] - f
    else:
        raise TynysError(f"AAN 803 has algorithms 1-4, not {algorithm}")
    if no2_ppb is not None and params.get("no2_cross_mv_ppb"):
        we_c = we_c - params["no2_cross_mv_ppb"] * np.asarray(no2_ppb, float)
    return we_c / params["sensitivity_mv_ppb"]


def check_vectors(name: str) -> list[tuple[float, float]]:
    """(computed, expected) for each test vector of *name* (used by the tests and ``corrections --check``);
    :func:`independent_cases` says which came from an independent source."""
    doc = get(name)
    out = []
    for case in doc["test_vectors"]["cases"]:
        if doc["form"] == "aan803":
            got = apply(name, we_mv=case["we_mv"], ae_mv=case.get("ae_mv"), t_c=case["t_c"],
                        no2_ppb=case.get("no2_ppb"), params=case["params"], allow_unverified=True)
        else:
            got = apply(name, x=np.array([case["x"]], float), basis=doc["basis"],
                        rh=np.array([case.get("rh", 0.0)], float), allow_unverified=True)
        exp = case["out"]
        out.append((float(np.asarray(got).ravel()[0]), float("nan") if exp is None else float(exp)))
    return out


def independent_cases(name: str) -> list[bool]:
    """Per test vector of *name*: True when it comes from a source named in ``test_vectors.sources``."""
    tv = get(name)["test_vectors"]
    return [case.get("from") in tv.get("sources", {}) for case in tv["cases"]]


def vector_summary(name: str) -> dict:
    """``{"vectors": "9 ok (6 independent)"}``, or the worst error when a vector is missed (``corrections --check``)."""
    pairs = check_vectors(name)
    err = max((abs(a - b) for a, b in pairs if not (np.isnan(a) and np.isnan(b))), default=0.0)
    ok = err <= get(name)["test_vectors"]["atol"]
    n = sum(independent_cases(name))
    return {"vectors": f"{len(pairs)} ok ({n} independent)" if ok else f"max error {err:.3g}"}


def read_sheet(path=None, items=()) -> dict | None:
    """An electrochemical sensor's calibration sheet: a JSON object file and/or ``KEY=VALUE`` items
    (numbers where they read as numbers); None when neither is given."""
    import json
    from pathlib import Path
    out = {}
    if path:
        try:
            out = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise TynysError(f"cannot read the sensor sheet {path}: {e}; write a JSON object such as "
                             '{"sensor_model": "so2-b4", "we_e_mv": 270, ...}') from None
    for item in items:
        k, sep, v = item.partition("=")
        if not sep:
            raise TynysError(f"cannot read --param {item!r}: write KEY=VALUE, e.g. we_e_mv=270")
        try:
            out[k.strip()] = float(v)
        except ValueError:
            out[k.strip()] = v.strip()
    return out or None
