"""The node registry in the database: nodes, their sensor history, and a revision counter that
running collectors watch (node keys live outside the database: ``tynys.keys``)."""

from __future__ import annotations

from ..timeutil import iso
from .model import NODE_COLS, Node, NodeSensor, StoreError

_SELECT = f"SELECT {', '.join(NODE_COLS)} FROM nodes"
_SENSORS = "SELECT node, slot, type, model, installed, removed FROM node_sensors"


def registry_rev(db) -> int:
    """A counter bumped by every registry change, so long-running ingest notices new nodes."""
    return int(db.execute("SELECT value FROM meta WHERE key='registry_rev'").fetchone()[0])


def _bump(db) -> None:
    db.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key='registry_rev'")


def add_node(db, node: Node) -> None:
    with db.transaction():
        db.lock("registry")
        if has_node(db, node.id):
            raise StoreError(f"node {node.id!r} is already registered: see tynys nodes show {node.id}")
        db.execute(f"INSERT INTO nodes ({', '.join(NODE_COLS)}) VALUES ({', '.join('?' * len(NODE_COLS))})",
                   tuple(getattr(node, k) for k in NODE_COLS))
        db.executemany("INSERT INTO node_sensors (node, slot, type, model, installed, removed) VALUES (?, ?, ?, ?, ?, ?)",
                       [(node.id, s.slot, s.type, s.model, s.installed, s.removed) for s in node.sensors])
        _bump(db)


def retire_node(db, node_id: str, when: int, reason: str = "") -> None:
    with db.transaction():
        db.lock("registry")
        row = db.execute("SELECT retired FROM nodes WHERE id=?", (node_id,)).fetchone()
        if row is None:
            raise StoreError(f"no node {node_id!r} in {db.path}: see tynys nodes list")
        if row[0] is not None:
            raise StoreError(f"node {node_id!r} was already retired on {iso(row[0])}")
        db.execute("UPDATE nodes SET retired=?, retired_reason=? WHERE id=?", (when, reason, node_id))
        db.execute("UPDATE node_sensors SET removed=? WHERE node=? AND removed IS NULL", (when, node_id))
        _bump(db)


def nodes(db, *, include_retired: bool = True) -> list[Node]:
    """Every registered node (by id) with its sensor history."""
    rows = db.execute(f"{_SELECT} {'' if include_retired else 'WHERE retired IS NULL'} ORDER BY id").fetchall()
    sensors: dict[str, list[NodeSensor]] = {}
    for nid, *s in db.execute(f"{_SENSORS} ORDER BY node, slot, id"):
        sensors.setdefault(nid, []).append(NodeSensor(*s))
    return [Node(**dict(zip(NODE_COLS, r)), sensors=sensors.get(r[0], [])) for r in rows]


def node(db, node_id: str) -> Node:
    """One node by id (two indexed lookups, whatever the size of the registry)."""
    row = db.execute(f"{_SELECT} WHERE id=?", (node_id,)).fetchone()
    if row is None:
        raise StoreError(f"no node {node_id!r} in {db.path}: see tynys nodes list")
    sensors = [NodeSensor(*s) for _, *s in db.execute(f"{_SENSORS} WHERE node=? ORDER BY slot, id", (node_id,))]
    return Node(**dict(zip(NODE_COLS, row)), sensors=sensors)


def has_node(db, node_id: str) -> bool:
    return db.execute("SELECT 1 FROM nodes WHERE id=?", (node_id,)).fetchone() is not None


def retirements(db) -> dict[str, int | None]:
    """``{node: retired}`` of every node (what ingest needs to know of the registry)."""
    return dict(db.execute("SELECT id, retired FROM nodes").fetchall())
