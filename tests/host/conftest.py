"""Host fixtures: a registered city in a temporary database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # factory.py

from factory import KEY  # noqa: E402

from tynys.ingest import Ingestor  # noqa: E402
from tynys.keys import KeyFile  # noqa: E402
from tynys.registry import add_node, parse_sensor  # noqa: E402
from tynys.store import Store  # noqa: E402

VECTOR_T1 = 1795813500  # window end of the shared vectors


class City:
    """A database with osk-01 (the shared vectors' key), osk-02 (same key) and osk-03 (its own key)."""

    def __init__(self, root: Path, vector_key: bytes):
        self.db = root / "city.db"
        self.keys = KeyFile(root / "city.keys")
        self.store = Store.open(self.db)
        add_node(self.store, self.keys, "osk-01", name="School 12", lat=49.948, lon=82.628, height_m=3, district="Ulba",
                 sensors=[parse_sensor("pm=pms5003"), parse_sensor("so2=isb:so2-b4"), parse_sensor("th=sht3x")], key=vector_key)
        add_node(self.store, self.keys, "osk-02", key=vector_key)
        self.key3 = add_node(self.store, self.keys, "osk-03", key=KEY)[1]

    def ingestor(self, **kw) -> Ingestor:
        kw.setdefault("now", lambda: VECTOR_T1 + 30)
        return Ingestor(self.store, self.keys, **kw)


@pytest.fixture
def city(tmp_path, record_vectors) -> City:
    c = City(tmp_path, bytes.fromhex(record_vectors["key"]))
    yield c
    c.store.close()
