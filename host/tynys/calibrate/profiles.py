"""Versioned calibration profiles: which model and coefficients correct which node's sensor, when.

A profile is one JSON file ``<dir>/<node>/<sensor>/v<version>.json``::

    {"schema": "tynys-calibration-profile/1", "node": "osk-01", "sensor": "pm.pm25_cf1", "version": 2,
     "model": "mlr_rh", "coefficients": {"intercept": 1.9, "slope": 0.52, "rh": -0.05},
     "inputs": {"x": "pm.pm25_cf1", "rh": "th.rh"}, "valid_from": "2026-03-01T00:00:00Z", "valid_to": null,
     "fitted_on": {"reference": "Kazhydromet Oskemen No. 1", "from": "…", "to": "…", "n": 720, "interval": "1h"},
     "metrics": {"rmse": 2.4, "r2": 0.81, "validation": "10-fold blocked"}, "created": "…"}

``model`` is a fitted model (:mod:`tynys.calibrate.models`) or ``correction:<name>`` for a
published correction. Profiles are never edited: a refit is a new version. Applying picks, for
each time, the highest version whose validity interval covers it; the corrected series comes
back beside the raw one with the version used per value (raw is never overwritten).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TynysError
from ..timeutil import iso, parse_time
from . import corrections, models

SCHEMA = "tynys-calibration-profile/1"


def seconds(text: str | None) -> int | None:
    """ISO 8601 UTC text (as profiles hold it) -> seconds since 1970; None stays None."""
    return None if text is None else parse_time(text)


@dataclass
class Profile:
    node: str
    sensor: str
    model: str
    coefficients: dict
    valid_from: str
    valid_to: str | None = None
    inputs: dict = field(default_factory=lambda: {"x": "x"})
    fitted_on: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    unit: str = ""  # of the corrected values (µg/m³, ppb); "" in profiles written before it was recorded
    version: int = 0
    created: str = ""
    schema: str = SCHEMA

    def covers(self, time) -> np.ndarray:
        t = np.asarray(time)
        lo, hi = seconds(self.valid_from), seconds(self.valid_to)
        return (t >= lo) & (t < hi if hi is not None else True)

    def apply(self, data: dict) -> np.ndarray:
        """Corrected values for input arrays keyed like ``inputs`` (x, rh, t_c …)."""
        if self.model.startswith("correction:"):
            name = self.model.split(":", 1)[1]
            return corrections.apply(name, x=data.get("x"), basis=self.coefficients.get("basis"), rh=data.get("rh"),
                                     we_mv=data.get("we_mv"), ae_mv=data.get("ae_mv"), t_c=data.get("t_c"),
                                     no2_ppb=data.get("no2_ppb"), params=self.coefficients.get("params"),
                                     allow_unverified=bool(self.coefficients.get("allow_unverified")))
        return models.predict(self.model, self.coefficients, data)


def read_profile(path) -> Profile:
    """One profile JSON file (as ``ProfileStore`` and ``tynys calibrate profiles --export`` write them)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise TynysError(f"cannot read the profile {path}: {e}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise TynysError(f"{path}: not a calibration profile (schema {doc.get('schema') if isinstance(doc, dict) else None!r}, "
                         f"expected {SCHEMA})")
    try:
        return Profile(**doc)
    except TypeError as e:
        raise TynysError(f"{path}: not a calibration profile ({e})") from None


class ProfileStore:
    """A folder of profile JSON files."""

    def __init__(self, root):
        self.root = Path(root)

    def _dir(self, node, sensor) -> Path:
        for part in (node, sensor):
            if not part or "/" in part or part.startswith("."):
                raise TynysError(f"invalid node or sensor name {part!r} for a profile")
        return self.root / node / sensor

    def list(self, node: str, sensor: str) -> list[Profile]:
        d = self._dir(node, sensor)
        out = []
        for p in sorted(d.glob("v*.json"), key=lambda p: int(p.stem[1:])):
            doc = json.loads(p.read_text())
            if doc.get("schema") != SCHEMA:
                raise TynysError(f"{p}: not a calibration profile (schema {doc.get('schema')!r}, expected {SCHEMA})")
            out.append(Profile(**doc))
        return out

    def save(self, profile: Profile) -> Profile:
        """Write *profile* as the next version; existing versions are never touched."""
        d = self._dir(profile.node, profile.sensor)
        versions = [int(p.stem[1:]) for p in d.glob("v*.json")]
        profile.version = max(versions, default=0) + 1
        profile.created = profile.created or now_iso()
        self.write(profile)
        return profile

    def path(self, profile: Profile) -> Path:
        """Where *profile*'s version is (or would be) written."""
        return self._dir(profile.node, profile.sensor) / f"v{profile.version}.json"

    def write(self, profile: Profile) -> Path:
        """Write *profile* under its own version (an export); refuses to overwrite a version."""
        path = self.path(profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x") as f:  # "x": fail rather than overwrite a version
                json.dump(asdict(profile), f, indent=2, ensure_ascii=False)
                f.write("\n")
        except FileExistsError:
            raise TynysError(f"{path} exists: profile versions are never overwritten; export to an empty folder") from None
        return path


def now_iso() -> str:
    return iso(time.time())


def apply_profiles(time, data: dict, profiles: list[Profile]) -> tuple[np.ndarray, np.ndarray]:
    """Corrected series and the profile version used per value (0 = no profile valid: NaN)."""
    time = np.asarray(time)
    corrected = np.full(len(time), np.nan)
    version = np.zeros(len(time), np.int64)
    for p in sorted(profiles, key=lambda p: p.version):  # later versions win where they overlap
        sel = p.covers(time)
        if sel.any():
            part = {k: (np.asarray(v)[sel] if v is not None else None) for k, v in data.items()}
            corrected[sel] = p.apply(part)
            version[sel] = p.version
    return corrected, version


def profile_from_fit(node, sensor, model, coefficients, pairs_time, *, inputs=None, reference="", metrics=None,
                     valid_from=None, valid_to=None, interval="1h", unit="") -> Profile:
    """A profile for a fit on pairs spanning *pairs_time*; valid from the fit's start unless told."""
    t = np.asarray(pairs_time)
    return Profile(node=node, sensor=sensor, model=model, coefficients=coefficients,
                   valid_from=valid_from or iso(t.min()), valid_to=valid_to, inputs=inputs or {"x": sensor},
                   fitted_on={"reference": reference, "from": iso(t.min()), "to": iso(t.max()), "n": int(len(t)),
                              "interval": interval},
                   metrics=metrics or {}, unit=unit)
