"""What the store hands out: its error and the result types of its queries (engine-neutral)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import TynysError

FAR = 2**62  # an open end of a time span, as an integer every engine compares


class StoreError(TynysError):
    """The database cannot be used as asked (missing, newer schema, locked, full disk, damaged)."""


class StoreDamaged(StoreError):
    """The database is damaged (failed integrity check, not a database)."""


def span(t0, t1) -> tuple[int, int]:
    """``[t0, t1)`` with None as an open end."""
    return (-FAR if t0 is None else int(t0), FAR if t1 is None else int(t1))


def keyed(nodes: list[str], chunk: int = 4000):
    """*nodes* in chunks as ``WITH k(node, i) AS (VALUES ...)`` and its arguments, for a query
    over many nodes at once: ``k.i`` is a node's index in *nodes* (chunks keep the arguments
    within every engine's limit)."""
    for at in range(0, len(nodes), chunk):
        part = nodes[at:at + chunk]
        yield (f"WITH k(node, i) AS (VALUES {', '.join(['(?, ?)'] * len(part))}) ",
               [x for i, n in enumerate(part, at) for x in (n, i)])


@dataclass
class NodeSensor:
    slot: str
    type: str
    model: str = ""
    installed: int | None = None
    removed: int | None = None


@dataclass
class NodeRows:
    """Windows of several nodes read at once, by node then time: ``i`` the node's index in the
    list asked for, ``t0``/``t1`` the window, ``value`` (NaN for none) and ``version`` (the
    profile's, for corrected values; else 0)."""

    i: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    value: np.ndarray
    version: np.ndarray

    @classmethod
    def of(cls, rows: list[tuple], width: int) -> "NodeRows":
        """From rows ``(i, t0, t1, value[, version])`` of *width* columns."""
        a = np.array(rows, dtype=np.float64).reshape(len(rows), width)  # one conversion; None -> NaN
        ints = a[:, [0, 1, 2, *range(4, width)]].astype(np.int64)  # times and indices are exact in a double
        version = ints[:, 3] if width > 4 else np.zeros(len(rows), np.int64)
        return cls(ints[:, 0], ints[:, 1], ints[:, 2], a[:, 3], version)

    def __len__(self) -> int:
        return len(self.i)

    def take(self, keep: np.ndarray) -> "NodeRows":
        """The rows where *keep* (a boolean mask) holds, in their order."""
        return NodeRows(self.i[keep], self.t0[keep], self.t1[keep], self.value[keep], self.version[keep])

    @classmethod
    def joined(cls, parts: list["NodeRows"]) -> "NodeRows":
        """*parts* one after the other."""
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(r, f) for r in parts]) for f in ("i", "t0", "t1", "value", "version")))


@dataclass
class Node:
    id: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    height_m: float | None = None
    placement: str = "outdoor"
    district: str = ""
    installed: int | None = None
    retired: int | None = None
    retired_reason: str = ""
    notes: str = ""
    added: int = 0
    sensors: list[NodeSensor] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.retired is None


NODE_COLS = ("id", "name", "lat", "lon", "height_m", "placement", "district", "installed", "retired",
             "retired_reason", "notes", "added")


class _Timed:
    """Series-like results: as long as their ``t0``."""

    def __len__(self) -> int:
        return len(self.t0)


@dataclass(frozen=True)
class Series(_Timed):
    """One channel of one node over time. Times are int64 seconds since 1970 UTC (window start
    ``t0`` and end ``t1``); statistics are float64 with NaN where the window had no reading."""

    node: str
    channel: str
    t0: np.ndarray
    t1: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    min: np.ndarray
    max: np.ndarray


@dataclass
class Site:
    """A place whose data were imported (not a Tynys node): a reference station or another network's sensor."""

    id: int
    provider: str
    provider_id: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    kind: str = "reference"
    tz: str = ""
    notes: str = ""
    added: int = 0

    @property
    def ref(self) -> str:
        """How commands name it: ``provider:provider_id`` (``airnowtech:370630099``)."""
        return f"{self.provider}:{self.provider_id}"


SITE_COLS = ("id", "provider", "provider_id", "name", "lat", "lon", "kind", "tz", "notes", "added")


@dataclass(frozen=True)
class Observations(_Timed):
    """One parameter of one imported site over time: ``t0``/``t1`` int64 seconds since 1970 UTC
    (the averaging period), ``value`` float64 in ``unit``, ``qc`` the source's flag ('' = none)."""

    site: Site
    parameter: str
    unit: str
    t0: np.ndarray
    t1: np.ndarray
    value: np.ndarray
    qc: np.ndarray


@dataclass(frozen=True)
class Windows(_Timed):
    """Several channels of one node aligned on its records (one row per stored window, by time):
    ``record`` ids, ``t0``/``t1`` [s], and per channel ``mean`` (NaN where absent or n = 0) and ``n``."""

    node: str
    record: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    mean: dict
    n: dict


@dataclass(frozen=True)
class Corrected(_Timed):
    """Corrected values of one node channel (``corrected_values``), by window time: ``value`` in the
    profile's ``unit`` (NaN where the profile gives none), and per value the ``profile`` id and ``version``."""

    node: str
    channel: str
    record: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    value: np.ndarray
    profile: np.ndarray
    version: np.ndarray
    unit: str
