"""The node registry: who may send records, where they stand, what they carry, their keys.

    store = Store.open("city.db"); keys = KeyFile("city.keys")
    node, key = add_node(store, keys, "osk-01", name="School 12", lat=49.948, lon=82.628,
                         sensors=[parse_sensor("pm=pms5003"), parse_sensor("so2=isb:so2-b4")])
    retire_node(store, "osk-01", reason="moved to Ridder")

The key is generated here and written only to the key file; provisioning puts it into the
node's ``config.json`` as 64 hex characters.
"""

from __future__ import annotations

import re
import time

from . import record
from .errors import TynysError
from .keys import KeyFile
from .store import Node, NodeSensor, Store

_SLOT = re.compile(record.schema()["properties"]["sensors"]["propertyNames"]["pattern"])
_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PLACEMENTS = ("outdoor", "indoor")


class RegistryError(TynysError):
    """A node description that cannot be registered as given."""


def node_id_ok(node_id: str) -> bool:
    return re.fullmatch(record.schema()["properties"]["node"]["pattern"], node_id) is not None


def parse_sensor(text: str, installed: int | None = None) -> NodeSensor:
    """``pm=pms5003`` or ``so2=isb:so2-b4`` (slot = driver type[:model])."""
    slot, sep, rest = text.partition("=")
    typ, _, model = rest.partition(":")
    if not sep or not _SLOT.match(slot) or not _TYPE.match(typ):
        raise RegistryError(f"cannot read sensor {text!r}: write SLOT=TYPE[:MODEL], e.g. pm=pms5003, so2=isb:so2-b4, th=sht3x")
    return NodeSensor(slot=slot, type=typ, model=model, installed=installed)


def add_node(store: Store, keys: KeyFile, node_id: str, *, name: str = "", lat: float | None = None,
             lon: float | None = None, height_m: float | None = None, placement: str = "outdoor",
             district: str = "", sensors=(), installed: int | None = None, notes: str = "",
             key: bytes | None = None) -> tuple[Node, bytes]:
    """Register a node and generate its signing key (or take *key*). Returns ``(node, key)``."""
    if not node_id_ok(node_id):
        raise RegistryError(f"node id {node_id!r} is not allowed: 1-64 of letters, digits, '_', '.', '-', starting with a letter or digit")
    if (lat is None) != (lon is None):
        raise RegistryError("give both --lat and --lon, or neither")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise RegistryError(f"location lat={lat} lon={lon} is not on Earth: latitude -90..90, longitude -180..180 (decimal degrees, WGS 84)")
    if placement not in PLACEMENTS:
        raise RegistryError(f"placement {placement!r}: use one of {', '.join(PLACEMENTS)}")
    slots = [s.slot for s in sensors]
    if len(set(slots)) != len(slots):
        raise RegistryError(f"sensor slots must be unique, got {', '.join(slots)}")
    for s in sensors:
        if s.installed is None:
            s.installed = installed
    node = Node(id=node_id, name=name, lat=lat, lon=lon, height_m=height_m, placement=placement, district=district,
                installed=installed, notes=notes, added=int(time.time()), sensors=list(sensors))
    if store.has_node(node_id):
        raise RegistryError(f"node {node_id!r} is already registered in {store.path}: see tynys nodes show {node_id}")
    key = keys.add(node_id, key)  # key first: a node row without a key could never be verified
    try:
        store.add_node(node)
    except BaseException:
        keys.remove(node_id)
        raise
    return node, key


def retire_node(store: Store, node_id: str, when: int | None = None, reason: str = "") -> Node:
    """Mark a node retired: records whose window ends after *when* are refused (``retired_node``);
    its stored records and its key stay, so old data can still be verified."""
    store.retire_node(node_id, int(time.time()) if when is None else when, reason)
    return store.node(node_id)
