"""The one loader of ``calibration/`` (corrections, targets, Alphasense tables) at the repo's top.

The folder is found beside the checkout (``<repo>/calibration``); ``TYNYS_CALIBRATION_DIR``
points elsewhere (an installed copy, a user's own corrections).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from ..errors import TynysError

ENV = "TYNYS_CALIBRATION_DIR"


def calibration_dir() -> Path:
    """Where the calibration data lives: ``$TYNYS_CALIBRATION_DIR`` or ``<repo>/calibration``."""
    path = Path(os.environ[ENV]) if os.environ.get(ENV) else Path(__file__).resolve().parents[3] / "calibration"
    if not (path / "corrections").is_dir():
        raise TynysError(f"calibration data not found at {path}: set {ENV} to the folder holding "
                         "corrections/, targets/ and alphasense/")
    return path


@lru_cache(maxsize=None)
def _load(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load(relpath: str) -> dict:
    """One JSON document, e.g. ``load("targets/epa-nsim.json")``."""
    path = calibration_dir() / relpath
    if not path.is_file():
        raise TynysError(f"no calibration data file {relpath} in {calibration_dir()}")
    return _load(str(path))


def load_all(folder: str) -> dict[str, dict]:
    """Every ``<folder>/*.json`` by its ``name``."""
    docs = {}
    for p in sorted((calibration_dir() / folder).glob("*.json")):
        doc = _load(str(p))
        docs[doc["name"]] = doc
    return docs
