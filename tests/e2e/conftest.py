"""Virtual nodes for end-to-end tests: the firmware as .mpy on the unix port, 96 KB heap."""

from __future__ import annotations

import copy

import pytest

from tynys.vnode import VirtualNode

KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
T0 = 1795813200 + 37  # 2026-11-27 21:00:37 UTC: power-on 37 s into a 5-minute window
CHECK = "soft"  # a node checks a new config.json once, then restarts to run it (node.startup)
FAKE = {"node": "vn-01", "key": KEY, "sensors": {"pm": {"type": "fake"}}, "uplinks": {"serial": {}}}


def config(**changes) -> dict:
    c = copy.deepcopy(FAKE)
    c.update(changes)
    return c


@pytest.fixture
def make_node(tmp_path):
    nodes = []

    def make(cfg=None, scenario=None, name="vn", **kw):
        kw.setdefault("start", T0)
        vn = VirtualNode.create(tmp_path / name, cfg or config(), scenario=scenario, **kw)
        nodes.append(vn)
        return vn

    yield make
    for vn in nodes:
        vn.stop()


@pytest.fixture
def keys():
    return {"vn-01": bytes.fromhex(KEY)}
