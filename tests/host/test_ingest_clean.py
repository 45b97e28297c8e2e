"""Ingest's clean path (one loop per batch, tynys.ingest.Ingestor._check_all) against the checks
one line at a time it stands in for: on the shared vectors, every documented refusal and random
mutations of signed records, both give the same outcomes and leave the same rows."""

from __future__ import annotations

import copy
import json
import random

import pytest
from conftest import VECTOR_T1, City
from factory import KEY, make_body, sign_body
from test_ingest import INVALID, REFUSALS

from tynys import record
from tynys.ingest import Ingestor
from tynys.registry import add_node, retire_node

pytestmark = pytest.mark.host


class Reference(Ingestor):
    """Every line through the checks one at a time (what ingest did before the clean path)."""

    def _check_all(self, lines, transport, source, claimed, now):
        return [self._check(line, transport, source, claimed, now) for line in lines]


@pytest.fixture
def cities(tmp_path, record_vectors):
    """Two identical cities (the clean path's and the reference's), with a retired node osk-04."""
    out = []
    for name in ("clean", "reference"):
        (tmp_path / name).mkdir()
        c = City(tmp_path / name, bytes.fromhex(record_vectors["key"]))
        add_node(c.store, c.keys, "osk-04", key=KEY)
        retire_node(c.store, "osk-04", VECTOR_T1 - 300 * 25)
        out.append(c)
    yield out
    for c in out:
        c.store.close()


def _contents(store) -> dict:
    q = {"records": "SELECT * FROM records ORDER BY id", "record_sensors": "SELECT * FROM record_sensors ORDER BY record, slot",
         "channel_values": "SELECT * FROM channel_values ORDER BY record, channel",
         "rejects": "SELECT * FROM rejects ORDER BY id", "reject_counts": "SELECT * FROM reject_counts ORDER BY transport, source, reason"}
    return {t: store.db.execute(sql).fetchall() for t, sql in q.items()}


def _both(cities, batches) -> list:
    """Ingest *batches* ``[(lines, claimed)]`` into both cities; assert equal outcomes and rows."""
    clean, ref = cities
    a = Ingestor(clean.store, clean.keys, now=lambda: VECTOR_T1 + 30)
    b = Reference(ref.store, ref.keys, now=lambda: VECTOR_T1 + 30)
    outs = []
    for lines, claimed in batches:
        got, want = a.ingest(lines, "mqtt", "t", claimed), b.ingest(lines, "mqtt", "t", claimed)
        assert [o.as_dict() for o in got] == [o.as_dict() for o in want]
        outs += got
    assert _contents(clean.store) == _contents(ref.store)
    assert a.counts == b.counts
    return outs


def test_vectors_and_every_refusal_alike(cities, record_vectors):
    valid = [v.encode() for v in record_vectors["valid"]]
    batches = [(valid + [v["line"].encode() for v in INVALID], None), (valid, None)]  # then all resent: replays
    batches += [([c[1]], c[2]) for c in REFUSALS]
    outs = _both(cities, batches)
    assert [o.status for o in outs[:2]] == ["stored", "stored"] and {o.status for o in outs[-len(REFUSALS):]} == {"rejected"}


def _mutate(body: dict, rnd: random.Random) -> dict:
    """One change a node, a bug or line noise could make, valid or not."""
    b = copy.deepcopy(body)
    pm = b["sensors"]["pm"]
    st = pm["ch"]["pm25_cf1"]
    choice = rnd.randrange(16)
    if choice == 0:
        b["t1"] = b["t0"] - rnd.choice([0, 1, 300])  # window not after its start
    elif choice == 1:
        st["mean"] = st["max"] + rnd.choice([1e-9, 1.0, 100.0])  # mean outside [min, max] (within tolerance or not)
    elif choice == 2:
        st.update(n=0, mean=None, sd=None, min=None, max=None)  # a channel without frames: valid
    elif choice == 3:
        st[rnd.choice(["mean", "sd", "min", "max"])] = None  # one statistic missing
    elif choice == 4:
        b["seq"] = rnd.choice([-1, 2**63, 2**64, 1.0, "7", True])
    elif choice == 5:
        b["sensors"][rnd.choice(["Pm", "pm-1", "osk-03", "p" * 17, "pm2"])] = b["sensors"].pop("pm")  # slot names
    elif choice == 6:
        pm["ch"][rnd.choice(["PM25", "pm.25", "c" * 25, "pm25_new"])] = pm["ch"].pop("pm10_cf1")  # channel names
    elif choice == 7:
        b["clock"] = rnd.choice(["unsynced", "host", "gps"])
    elif choice == 8:
        shift = rnd.choice([-400 * 86400, -367 * 86400, 601, 3600, 10**9])  # far past or future: pending
        b["t0"] += shift
        b["t1"] += shift
    elif choice == 9:
        b["node"] = rnd.choice(["osk-04", "osk-99", "osk-01", "", "-x"])  # retired, unknown, another key, not an id
    elif choice == 10:
        b[rnd.choice(["extra", "sig"])] = 1  # a member the schema does not have
    elif choice == 11:
        b["health"]["reset"] = rnd.choice(["power_on", "brownout", 5])
    elif choice == 12:
        st["sd"] = rnd.choice([float("nan"), float("inf"), -1.0, 0.0])
    elif choice == 13:
        pm["model"] = rnd.choice(["pms7003", None, 7])
    elif choice == 14:
        del b["health"][rnd.choice(["rssi", "spool", "heap_free"])]
    return b


def _noise(line: bytes, rnd: random.Random) -> bytes:
    i = rnd.randrange(len(line))
    return line[:i] + bytes([rnd.randrange(256)]) + line[i + 1:]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_records_alike(cities, seed):
    rnd = random.Random(seed)
    batches = []
    for b in range(8):
        lines = []
        for i in range(80):
            body = _mutate(make_body(rnd.choice(["osk-03"] * 5 + ["osk-04"]), rnd.randrange(40), boot=rnd.randrange(2), t0=VECTOR_T1 - 300 * rnd.randrange(1, 50)), rnd)
            line = sign_body(body, rnd.choice([KEY] * 8 + [bytes(32)]))
            kind = rnd.randrange(10)
            if kind == 0:
                line = _noise(line, rnd)
            elif kind == 1 and lines:
                line = rnd.choice(lines)  # a resend within the batch
            elif kind == 2:
                line = line.decode() + rnd.choice(["\n", "\r\n", " "])  # text, with an end of line
            lines.append(line)
        batches.append((lines, rnd.choice([None, None, None, "osk-03", "osk-02"])))
    outs = _both(cities, batches)
    # the mutations reach every kind of outcome, so the comparison covers each
    assert {o.status for o in outs} == {"stored", "replay", "rejected"}
    assert {o.reason for o in outs} >= {None, "clock", "schema", "bad_signature", "conflict", "replay", "malformed",
                                        "unknown_node", "retired_node", "node_mismatch"}


def test_a_slot_is_checked_against_the_slot_pattern_even_if_a_node_has_its_name():
    """Names already seen skip their pattern: a node id seen must not pass as a slot name."""
    body = make_body("osk-03", 1, t0=VECTOR_T1 - 300)
    record.decode(json.dumps(dict(body, node="Osk-Node-07"), separators=(",", ":")).encode())
    body["sensors"]["Osk-Node-07"] = body["sensors"].pop("pm")
    with pytest.raises(record.RecordError, match="slot name 'Osk-Node-07' does not match"):
        record.decode(json.dumps(body, separators=(",", ":")).encode())
    assert record.decode_clean(json.dumps(body, separators=(",", ":")).encode()) is None
