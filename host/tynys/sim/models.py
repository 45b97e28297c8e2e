"""How the virtual city's sensors err: one model per sensor family, its parameters as data with
their sources (``models/*.json``, format ``tynys-sensor-model/1``), drawn per unit.

    from tynys.sim import models
    unit = models.draw("pms5003", rng)          # this unit's gain, offset, kappa, ... (seeded)
    models.typical("pms5003")                   # the median unit (the simulators' defaults)
    cf1 = models.pms(unit, pm25, pm10, rh)      # what it reads, noise-free (numpy, vectorised)

The sensor simulators (firmware/ports/unix/sim/) apply the same equations frame by frame, with
noise, on the virtual node; these numpy twins state what a unit reads on average, so the truth
and what the host publishes can be compared with the error the model implies (tynys.sim.loop).
A parameter is ``{"value": v}`` (every unit), ``{"normal": [mean, sd]}``, ``{"lognormal":
[median, sigma_log]}`` or ``{"uniform": [low, high]}``, each with its unit, meaning and source.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from ..calibrate.corrections import temperature_factor
from ..calibrate.data import load as load_calibration
from ..errors import TynysError

DIR = Path(__file__).resolve().parent / "models"
FORMAT = "tynys-sensor-model/1"
RH_MAX = 99.0  # growth diverges at 100 %: the simulators cap RH here
DENSITY_RATIO = 1.65  # particle / water density in the kappa-Koehler mass growth (Crilley et al. 2018)
# Which model a slot's sensor type follows (config type, or type:model for the ISB).
FOR_TYPE = {"pms5003": "pms5003", "pms7003": "pms5003", "pmsa003": "pms5003", "pms5003t": "pms5003",
            "sds011": "sds011", "sps30": "sps30", "sht3x": "sht3x", "isb:so2-b4": "isb-so2-b4"}


class ModelError(TynysError):
    """A sensor model that is missing or malformed."""


def names() -> list[str]:
    return sorted(p.stem for p in DIR.glob("*.json"))


@functools.lru_cache(maxsize=None)
def _load(name: str) -> dict:
    path = DIR / f"{name}.json"
    if not path.exists():
        raise ModelError(f"no sensor model {name!r}; there are {', '.join(names())}")
    doc = json.loads(path.read_text())
    if doc.get("format") != FORMAT:
        raise ModelError(f"{path}: format {doc.get('format')!r}, expected {FORMAT}")
    for k, p in doc["parameters"].items():
        kinds = [d for d in ("value", "normal", "lognormal", "uniform") if d in p]
        if len(kinds) != 1 or not p.get("source"):
            raise ModelError(f"{path}: parameter {k} needs exactly one of value/normal/lognormal/uniform and a source")
    return doc


def load(name: str) -> dict:
    """The model's document (title, equations, parameters with unit, meaning and source)."""
    return json.loads(json.dumps(_load(name)))  # a copy: callers may not change the cache


def typical(name: str) -> dict[str, float]:
    """The median unit: every parameter at its median (mean, middle of its range)."""
    out = {}
    for k, p in _load(name)["parameters"].items():
        if "value" in p:
            out[k] = float(p["value"])
        elif "normal" in p:
            out[k] = float(p["normal"][0])
        elif "lognormal" in p:
            out[k] = float(p["lognormal"][0])
        else:
            out[k] = float(sum(p["uniform"]) / 2)
    return out


def draw(name: str, rng: np.random.Generator, **fixed) -> dict[str, float]:
    """One unit's parameters, drawn from the model's spreads (*fixed*: values that override)."""
    out = {}
    for k, p in _load(name)["parameters"].items():
        if k in fixed:
            out[k] = float(fixed[k])
        elif "value" in p:
            out[k] = float(p["value"])
        elif "normal" in p:
            out[k] = float(rng.normal(*p["normal"]))
        elif "lognormal" in p:
            out[k] = float(p["lognormal"][0] * np.exp(rng.normal(0.0, p["lognormal"][1])))
        else:
            out[k] = float(rng.uniform(*p["uniform"]))
    return {k: round(v, 6) for k, v in out.items()}


def draws(name: str, rng: np.random.Generator, n: int, **fixed) -> dict[str, np.ndarray]:
    """*n* units' parameters as arrays (for the spread of what the model implies)."""
    units = [draw(name, rng, **fixed) for _ in range(n)]
    return {k: np.array([u[k] for u in units]) for k in units[0]}


# -- what a unit reads, noise-free (the simulators add the noise) --------------------------------

def growth(rh, kappa, rh_deliquescence):
    """Mass growth factor of particles at RH [%]: kappa-Koehler (Crilley et al. 2018 form) above
    the deliquescence RH, 1 below it."""
    rh = np.minimum(np.asarray(rh, float), RH_MAX)
    with np.errstate(divide="ignore"):
        g = 1.0 + (np.asarray(kappa, float) / DENSITY_RATIO) / (100.0 / np.maximum(rh, 1e-9) - 1.0)
    return np.where(rh >= rh_deliquescence, g, 1.0)


def atm(cf1, u: dict):
    """Plantower's ATM output from its CF=1 output (Wallace: equal below ~28, 2/3 above ~78)."""
    cf1 = np.asarray(cf1, float)
    f = np.clip((cf1 - u["atm_knee_cf1"]) / (u["atm_full_cf1"] - u["atm_knee_cf1"]), 0.0, 1.0)
    return cf1 * (1.0 - f * (1.0 - u["atm_ratio_high"]))


def _age(u: dict) -> float:
    return u.get("age_days", 0.0) / 365.25


def pms(u: dict, pm25, pm10, rh) -> dict[str, np.ndarray]:
    """PMS5003 CF=1 and ATM PM1/PM2.5/PM10 [ug/m3] for true dry PM2.5, PM10 and RH."""
    g = u["gain"] * u["scale"] * growth(rh, u["kappa"], u["rh_deliquescence"])
    fine = np.maximum(0.0, g * np.asarray(pm25, float) + u["offset"] + (u["drift_per_year"] + u["dust_per_year"]) * _age(u))
    coarse = np.maximum(0.0, np.asarray(pm10, float) - np.asarray(pm25, float))
    cf = {"pm1_cf1": fine * u["pm1_fraction"], "pm25_cf1": fine,
          "pm10_cf1": fine * u["pm10_extrapolation"] + g * u["coarse_detection"] * coarse}
    return cf | {k.replace("cf1", "atm"): atm(v, u) for k, v in cf.items()}


def sds011(u: dict, pm25, pm10, rh) -> dict[str, np.ndarray]:
    g = u["gain"] * u["scale"] * growth(rh, u["kappa"], u["rh_deliquescence"])
    pm25 = np.asarray(pm25, float)
    coarse = np.maximum(0.0, np.asarray(pm10, float) - pm25)
    return {"pm25": np.maximum(0.0, g * pm25 + u["offset"]),
            "pm10": np.maximum(0.0, g * (pm25 + u["coarse_detection"] * coarse) + u["offset"])}


def sps30(u: dict, pm25, pm10, rh) -> dict[str, np.ndarray]:
    g = u["gain"] * growth(rh, u["kappa"], u["rh_deliquescence"])
    pm25 = np.asarray(pm25, float)
    fine = np.maximum(0.0, g * pm25 + u["offset"])
    coarse = np.maximum(0.0, np.asarray(pm10, float) - pm25)
    return {"pm1": fine * u["pm1_fraction"], "pm25": fine,
            "pm10": fine * u["pm10_extrapolation"] + g * u["coarse_detection"] * coarse}


def sht3x(u: dict, t_c, rh) -> dict[str, np.ndarray]:
    return {"t_c": np.asarray(t_c, float) + u["t_offset"], "rh": np.clip(np.asarray(rh, float) + u["rh_offset"], 0.0, 100.0)}


def kpp(t_c) -> np.ndarray:
    """AAN 803's typical SO2-B4 zero shift k''T [mV] at t_c (algorithm 4)."""
    table = load_calibration("alphasense/aan803-temperature.json")["tables"]["so2-b4"]
    return temperature_factor(table["kpp_t_mv"], t_c)


def sensitivity_factor(u: dict, t_c):
    """The cell's sensitivity at t_c as a share of its 20 degC value (datasheet points, linear)."""
    t = np.clip(np.asarray(t_c, float), -20.0, 50.0)
    cold = u["sens_m20"] + (1.0 - u["sens_m20"]) * (t + 20.0) / 40.0
    return np.where(t <= 20.0, cold, 1.0 + (u["sens_50"] - 1.0) * (t - 20.0) / 30.0)


def isb(u: dict, so2, no2, t_c) -> dict[str, np.ndarray]:
    """SO2-B4 on an ISB: WE and AE [mV] for true SO2 and NO2 [ppb] at t_c [degC]."""
    age = _age(u)
    s20 = u["sensitivity_na_ppm"] * u["isb_gain_mv_na"] / 1000.0 * (1.0 + u["sens_drift_per_year"] * age)
    s = s20 * sensitivity_factor(u, t_c)
    we = (u["we_e"] + u["we_zero_na"] * u["isb_gain_mv_na"] + u["zero_t_scale"] * kpp(t_c)
          + s * (np.asarray(so2, float) + u["no2_cross"] * np.asarray(no2, float)) + s20 * u["zero_drift_ppb_per_year"] * age)
    ae = u["ae_e"] + u["ae_zero_na"] * u["isb_gain_mv_na"] + 0.0 * np.asarray(t_c, float)
    return {"we_mv": we, "ae_mv": ae}


def sheet(u: dict) -> dict:
    """The cell's calibration sheet as made (AAN 803 parameters for tynys calibrate apply)."""
    g = u["isb_gain_mv_na"]
    return {"sensor_model": "so2-b4", "we_e_mv": round(u["we_e"], 3), "ae_e_mv": round(u["ae_e"], 3),
            "we_0_mv": round(u["we_zero_na"] * g, 3), "ae_0_mv": round(u["ae_zero_na"] * g, 3),
            "sensitivity_mv_ppb": round(u["sensitivity_na_ppm"] * g / 1000.0, 6),
            "no2_cross_mv_ppb": round(u["no2_cross"] * u["sensitivity_na_ppm"] * g / 1000.0, 6)}
