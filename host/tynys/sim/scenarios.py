"""What each simulated node's air does: the sensor simulators' ``world`` table (docs/drivers.md,
"Simulators") per node, from a named scenario over a city layout, the same for the same seed.

    tables = worlds("plume", load("oskemen"), place(city, 5), start=1795737600, hours=24, seed=1)
    tables[0]  # {"seed": 1001, "noise": 0.03, "start": 1795737600, "t": [0, 600, ...],
               #  "pm25": [...], "pm10": [...], "so2_ppb": [...], "no2_ppb": [...], "t_c": [...], "rh": [...]}

Units: ``t`` [s after ``start``], a row every STEP_S; ``pm25`` and ``pm10`` [ug/m3], the true
dry PM2.5 and PM10 a reference monitor would see (the particle simulators' sensor models make
their readings from them, tynys.sim.models); ``so2_ppb`` and ``no2_ppb`` [ppb] (NO2 reaches the
SO2 cell's working electrode); ``t_c`` [degC]; ``rh`` [%]. Diurnal shapes follow local time (the city's
UTC offset); the scenario sets the weather, not the calendar (a winter inversion in July is
still a winter inversion).

Scenarios:

- ``clean``: a clean summer day. PM2.5 from a regional background and traffic, diluted by a deep
  daytime mixed layer; SO2 at background.
- ``plume``: an autumn day with the city's SO2 point sources (the smelter first) and a wind that
  veers through the day, so their plumes sweep over the districts at different hours.
- ``inversion``: a winter day under a temperature inversion: coal stoves in the private-house
  districts fired in the morning and evening, traffic, and a shallow night-time mixed layer in
  which PM2.5 builds up; SO2 rises with the stove smoke.
- ``smog``: ``inversion`` and ``plume`` together, as on Oskemen's worst winter days: the stove
  smoke under the shallow layer and the point sources' plumes in a light wind (the plumes'
  stability classes stay those of ``plume``: a simplification).

Particulates (every scenario): a regional background, plus a box model per node for the local
emissions (stoves x the district's ``stoves`` factor, traffic x its ``traffic`` factor, each
with a diurnal profile below) mixed into a layer of height h(t), relaxing towards
C_eq = E * 100 m / h(t) with time constant ``tau_h``; a seeded per-node factor (log-normal,
10 %) and a slow AR(1) wobble (8 %) make nodes of one district differ. PM10 adds a regional
coarse fraction and road dust raised by traffic (more in winter, when roads are gritted); NO2 is
a background plus exhaust (in step with the traffic's PM2.5) and a little from coal stoves. These
ratios are assumptions chosen for plausible levels (winter NO2 of 10-60 ppb in the centre), not
an inventory.

SO2 plumes (``plume``): a steady-state Gaussian plume per source with ground reflection,
C = Q / (pi u sy sz) exp(-y^2 / 2 sy^2) exp(-H^2 / 2 sz^2) at the node's downwind distance x and
crosswind distance y, with Briggs' urban dispersion curves (sy, sz as functions of x) for a
stability class set by the hour (unstable by day, stable at night). Simplifications: flat
ground (Oskemen's and Almaty's valleys and hills are ignored), no plume rise beyond the
source's fixed effective height, no lid from an inversion, no chemistry or deposition, the
plume's travel time is ignored (each 10-minute row is a new steady state), and the sources'
rates are illustrative (see the layouts' ``sources_note``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import TynysError
from .city import City, Place

STEP_S = 600  # a row of the world table every 10 minutes; the simulators interpolate linearly
NOISE = 0.03  # the sensor simulators' relative noise (docs/drivers.md)
M_SO2 = 64.066  # g/mol
V_M0 = 22.414  # L/mol of an ideal gas at 0 degC, 1 atm

# Diurnal profiles by local hour (value at hh:00, interpolated between), relative to their mean.
# Traffic: night low, rush hours 08-09 and 17-18 (the shape of city traffic counts).
TRAFFIC = (0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1.0, 1.6, 1.9, 1.5, 1.1, 1.0,
           1.0, 1.0, 1.1, 1.3, 1.6, 1.9, 1.8, 1.3, 1.0, 0.8, 0.6, 0.4)
# Stoves: fired in the morning and the evening, smouldering overnight, low at midday.
STOVES = (0.8, 0.7, 0.6, 0.6, 0.7, 1.0, 1.6, 2.0, 1.8, 1.2, 0.8, 0.6,
          0.5, 0.5, 0.5, 0.6, 0.9, 1.4, 1.8, 2.0, 1.9, 1.6, 1.3, 1.0)
# Mixing: 0 for the night-time layer, 1 for the afternoon's (the sun lifts it from ~08 to ~18).
MIXING = (0, 0, 0, 0, 0, 0, 0, 0.05, 0.2, 0.45, 0.7, 0.9,
          1.0, 1.0, 0.95, 0.8, 0.55, 0.3, 0.12, 0.05, 0, 0, 0, 0)
# Pasquill stability class by local hour for the plume scenario (a sunny autumn day, clear night).
STABILITY = ("EF",) * 6 + ("D", "D", "C", "C") + ("AB",) * 5 + ("C", "C", "D", "D") + ("EF",) * 5
# Briggs' urban dispersion curves, x downwind [m]: sy = ay x (1 + 0.0004 x)^-1/2,
# sz = az x (1 + bz x)^pz. Briggs, G. A. (1973), "Diffusion estimation for small emissions",
# ATDL contribution 79, NOAA (doi:10.2172/5118833); as tabulated in Hanna, Briggs & Hosker (1982),
# "Handbook on Atmospheric Diffusion", DOE/TIC-11223.
BRIGGS_URBAN = {"AB": (0.32, 0.24, 0.001, 0.5), "C": (0.22, 0.20, 0.0, 0.0),
                "D": (0.16, 0.14, 0.0003, -0.5), "EF": (0.11, 0.08, 0.0015, -0.5)}


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    t_c: tuple[float, float]  # air temperature at dawn (07 local), at mid-afternoon (15) [degC]
    rh: tuple[float, float]  # relative humidity at dawn, at mid-afternoon [%]
    mixing_m: tuple[float, float]  # mixed-layer height at night, in the afternoon [m]
    tau_h: float  # how fast the layer forgets its particles (ventilation, deposition) [h]
    pm_regional: float  # regional background PM2.5, arriving well mixed [ug/m3]
    stoves: float  # stove PM2.5 at the profile's mean, district factor 1 [ug/m3 at 100 m]
    traffic: float  # traffic PM2.5 likewise [ug/m3 at 100 m]
    so2_ppb: float  # SO2 background [ppb]
    so2_per_stove_pm: float = 0.0  # SO2 from coal stoves [ppb per ug/m3 of stove PM2.5]
    plumes: bool = False  # add the city's point sources' SO2 plumes
    wind_ms: tuple[float, float] = (1.5, 4.5)  # wind speed at night, in the afternoon [m/s]
    coarse_regional: float = 4.0  # coarse PM (PM10 - PM2.5) arriving well mixed [ug/m3]
    coarse_per_traffic_pm: float = 1.5  # road dust raised by traffic [ug/m3 per ug/m3 of traffic PM2.5]
    no2_ppb: float = 3.0  # NO2 background [ppb]
    no2_per_traffic_pm: float = 2.0  # NO2 from exhausts [ppb per ug/m3 of traffic PM2.5]
    no2_per_stove_pm: float = 0.1  # NO2 from coal stoves [ppb per ug/m3 of stove PM2.5]


SCENARIOS = {s.name: s for s in (
    Scenario("clean", "a clean summer day: regional background and traffic, deep daytime mixing",
             t_c=(14, 26), rh=(75, 38), mixing_m=(300, 1500), tau_h=2, pm_regional=5, stoves=0, traffic=10,
             so2_ppb=2),
    Scenario("plume", "an autumn day: the smelter's and power plants' SO2 plumes sweep the city as the wind veers",
             t_c=(2, 12), rh=(85, 55), mixing_m=(150, 900), tau_h=3, pm_regional=6, stoves=6, traffic=6,
             so2_ppb=3, plumes=True),
    Scenario("inversion", "a winter inversion: stove smoke morning and evening builds up under a shallow night layer",
             t_c=(-24, -14), rh=(88, 72), mixing_m=(80, 450), tau_h=3, pm_regional=10, stoves=45, traffic=10,
             so2_ppb=4, so2_per_stove_pm=0.12, wind_ms=(0.8, 2.0), coarse_per_traffic_pm=2.5),
    Scenario("smog", "a winter smog day (Oskemen's worst kind): the inversion's stove smoke and the point sources' plumes",
             t_c=(-24, -14), rh=(88, 72), mixing_m=(80, 450), tau_h=3, pm_regional=10, stoves=45, traffic=10,
             so2_ppb=4, so2_per_stove_pm=0.12, plumes=True, wind_ms=(0.8, 2.0), coarse_per_traffic_pm=2.5),
)}


class ScenarioError(TynysError):
    """An unknown scenario or an impossible span."""


def scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown scenario {name!r}: use one of {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def diurnal(profile, hour):
    """A 24-value hourly profile at local hours *hour* (array, any real), periodic."""
    return np.interp(np.asarray(hour, float) % 24, np.arange(25), np.append(profile, profile[0]))


def _day_shape(hour):
    """0 at 07:00, 1 at 15:00 local (cosine up over 8 h, down over 16 h): temperature's day."""
    h = np.asarray(hour, float) % 24
    up = (h >= 7) & (h <= 15)
    since = np.where(h > 15, h - 15, h + 9)  # hours since 15:00
    return np.where(up, 0.5 - 0.5 * np.cos(np.pi * (h - 7) / 8), 0.5 + 0.5 * np.cos(np.pi * since / 16))


def briggs_urban(x, cls):
    """(sy, sz) [m] at downwind distances x [m] for stability classes *cls* (arrays, broadcast)."""
    x = np.asarray(x, float)
    ay, az, bz, pz = (np.vectorize(lambda c, i=i: BRIGGS_URBAN[c][i])(cls) for i in range(4))
    return ay * x / np.sqrt(1 + 0.0004 * x), az * x * (1 + bz * x) ** pz


def gaussian_plume(q_gs, height_m, x, y, u, cls):
    """Ground-level concentration [ug/m3] of a source of q_gs [g/s] released at height_m [m],
    at downwind x [m] and crosswind y [m], wind u [m/s], stability class cls (arrays, broadcast);
    0 upwind."""
    x = np.asarray(x, float)
    down = x > 1.0
    xs = np.where(down, x, 1.0)
    sy, sz = briggs_urban(xs, cls)
    c = q_gs * 1e6 / (np.pi * u * sy * sz) * np.exp(-np.square(y) / (2 * sy * sy)) * np.exp(-height_m ** 2 / (2 * sz * sz))
    return np.where(down, c, 0.0)


def ugm3_to_ppb(c, t_c):
    """SO2 ug/m3 -> ppb at air temperature t_c [degC] and 1 atm."""
    return np.asarray(c) * V_M0 * (np.asarray(t_c) + 273.15) / 273.15 / M_SO2


def plume_ppb(city: City, places: list[Place], hour, t_c) -> np.ndarray:
    """SO2 [ppb] from all the city's sources at each node (columns) and local hour (rows)."""
    hour = np.asarray(hour, float)[:, None]
    wind_from = np.radians(city.plume["wind_from_deg_local_midnight"] + city.plume["veer_deg_per_h"] * hour)
    dx, dy = -np.sin(wind_from), -np.cos(wind_from)  # where the wind blows to (x east, y north)
    rx, ry = city.xy([p.lat for p in places], [p.lon for p in places])
    u = np.maximum(1.0, _wind(hour, SCENARIOS["plume"].wind_ms))
    cls = np.array(STABILITY)[np.floor(hour % 24).astype(int)]
    total = np.zeros(np.broadcast_shapes(hour.shape, rx.shape))
    for s in city.sources:
        sx, sy = city.xy(s.lat, s.lon)
        ex, ey = rx - sx, ry - sy  # source -> node [m]
        x = ex * dx + ey * dy
        y = ex * dy - ey * dx
        total += gaussian_plume(s.so2_gs, s.height_m, x, y, u, cls)
    return ugm3_to_ppb(total, t_c)


def _wind(hour, wind_ms):
    return wind_ms[0] + (wind_ms[1] - wind_ms[0]) * diurnal(MIXING, hour)


def _relax(c_eq, step_s, tau_s, c0):
    """The mixed layer's concentration following C_eq (rows: time) with time constant tau_s:
    dC/dt = (C_eq - C) / tau, solved exactly for C_eq held over each step."""
    k = 1.0 - math.exp(-step_s / tau_s)
    out = np.empty_like(c_eq)
    c = c0
    for i in range(len(c_eq)):  # a recurrence in time, vectorised over the nodes
        c = c + (c_eq[i] - c) * k
        out[i] = c
    return out


def worlds(name: str, city: City, places: list[Place], start: int, hours: float, seed: int = 1) -> list[dict]:
    """One ``world`` table per place for scenario *name*, from *start* [Unix s] for *hours*."""
    sc = scenario(name)
    if not 0 < hours <= 24 * 366:
        raise ScenarioError(f"{hours} hours: simulate between 1 hour and a year")
    t = np.arange(0, int(hours * 3600) + STEP_S + 1, STEP_S)  # one row past the end
    hour = ((start + t + city.utc_offset_s) % 86400) / 3600.0
    n = len(places)
    rng = np.random.default_rng([seed, 7])
    site = rng.lognormal(0.0, 0.10, n)  # a node's own surroundings: a busier corner, a sheltered yard
    wob = np.empty((len(t), n))  # slow, seeded wobble (AR(1), an hour's memory)
    w = rng.normal(0.0, 0.08, n)
    rho = math.exp(-STEP_S / 3600)
    for i in range(len(t)):
        w = rho * w + math.sqrt(1 - rho * rho) * rng.normal(0.0, 0.08, n)
        wob[i] = w
    dist = [city.district(p.district) for p in places]
    stoves = np.array([d.stoves for d in dist]) * site
    traffic = np.array([d.traffic for d in dist]) * site
    layer = 100.0 / (sc.mixing_m[0] + (sc.mixing_m[1] - sc.mixing_m[0]) * diurnal(MIXING, hour))[:, None]
    eq_stove = sc.stoves * diurnal(STOVES, hour)[:, None] * stoves * np.exp(wob) * layer
    eq_traffic = sc.traffic * diurnal(TRAFFIC, hour)[:, None] * traffic * np.exp(0.5 * wob) * layer
    tau = sc.tau_h * 3600
    pm_stove = _relax(eq_stove, STEP_S, tau, eq_stove[0])
    pm_traffic = _relax(eq_traffic, STEP_S, tau, eq_traffic[0])
    pm25 = sc.pm_regional * np.exp(0.5 * wob) + pm_stove + pm_traffic
    pm10 = pm25 + sc.coarse_regional * np.exp(0.5 * wob) + sc.coarse_per_traffic_pm * pm_traffic
    no2 = sc.no2_ppb + sc.no2_per_traffic_pm * pm_traffic + sc.no2_per_stove_pm * pm_stove
    shape = _day_shape(hour)[:, None]
    t_c = sc.t_c[0] + (sc.t_c[1] - sc.t_c[0]) * shape + rng.normal(0.0, 0.4, n)  # a node's microclimate
    rh = np.clip(sc.rh[0] + (sc.rh[1] - sc.rh[0]) * shape + rng.normal(0.0, 2.0, n), 5, 100)
    so2 = sc.so2_ppb + sc.so2_per_stove_pm * pm_stove
    if sc.plumes:
        so2 = so2 + plume_ppb(city, places, hour, t_c)
    r = lambda a, j: np.round(a[:, j], 1).tolist()  # noqa: E731
    return [{"seed": seed * 1000 + j + 1, "noise": NOISE, "start": int(start), "t": t.tolist(),
             "pm25": r(pm25, j), "pm10": r(pm10, j), "so2_ppb": r(so2, j), "no2_ppb": r(no2, j), "t_c": r(t_c, j),
             "rh": r(rh, j)} for j in range(n)]
