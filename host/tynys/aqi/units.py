"""Concentration units: ppb/ppm <-> ug/m3/mg/m3 at a stated temperature and pressure.

    >>> from tynys.aqi.units import convert
    >>> convert([100.0], "so2", "ppb", "ug/m3", temperature_c=25)   # US EPA reference, 25 degC
    array([261.86...])

ug/m3 = ppb x M x p / (R x T) x 1e-3, with M the molar mass [g/mol] from ``tables/pollutants.json``
(NIST), p [Pa] and T [K]. Mass <-> mass and ppb <-> ppm need no temperature. Particles have no
molar mass: asking for ppb of PM is an error, not a number.
"""

from __future__ import annotations

import numpy as np

from .tables import AqiError, _pollutants, normalise_unit, pollutant_facts, pollutant_id

_MASS = {"ug/m3": 1.0, "mg/m3": 1000.0}  # in ug/m3
_MIXING = {"ppb": 1.0, "ppm": 1000.0}  # in ppb


def ugm3_per_ppb(pollutant: str, temperature_c: float, pressure_pa: float | None = None) -> float:
    """ug/m3 of *pollutant* per ppb at *temperature_c* [degC] and *pressure_pa* [Pa] (default 101325)."""
    facts = pollutant_facts(pollutant)
    if facts["molar_mass"] is None:
        raise AqiError(f"{facts['name']} is measured by mass; it has no ppb (use ug/m3)")
    p = _pollutants()["standard_pressure_pa"] if pressure_pa is None else float(pressure_pa)
    t_k = float(temperature_c) + 273.15
    if not (t_k > 0 and p > 0):
        raise AqiError(f"temperature {temperature_c} degC and pressure {p} Pa are not physical")
    return facts["molar_mass"] * p / (_pollutants()["gas_constant"] * t_k) * 1e-3


def needs_temperature(from_unit: str, to_unit: str) -> bool:
    """Whether converting between these units needs a temperature (mass <-> mixing ratio)."""
    a, b = normalise_unit(from_unit), normalise_unit(to_unit)
    return (a in _MASS) != (b in _MASS)


def convert(values, pollutant: str, from_unit: str, to_unit: str,
            temperature_c: float | None = None, pressure_pa: float | None = None) -> np.ndarray:
    """*values* of *pollutant* in *from_unit* expressed in *to_unit* (float64 array)."""
    x = np.asarray(values, dtype=float)
    a, b = normalise_unit(from_unit), normalise_unit(to_unit)
    if a == b:
        return x
    if a in _MASS and b in _MASS:
        return x * (_MASS[a] / _MASS[b])
    if a in _MIXING and b in _MIXING:
        return x * (_MIXING[a] / _MIXING[b])
    if temperature_c is None:
        raise AqiError(
            f"converting {pollutant_id(pollutant)} from {a} to {b} needs a temperature: "
            f"name one (e.g. --temperature 25 for US EPA, 20 for EU/UK)"
        )
    k = ugm3_per_ppb(pollutant, temperature_c, pressure_pa)
    if a in _MIXING:  # -> mass
        return x * (_MIXING[a] * k / _MASS[b])
    return x * (_MASS[a] / k / _MIXING[b])
