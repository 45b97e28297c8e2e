"""The one ingest path: shared vectors, every refusal with its exact message, dedupe, group commit."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import pytest
from conftest import VECTOR_T1, writer_holding_the_lock
from factory import KEY, make_body, make_line, sign_body

from tynys import record
from tynys.ingest import REASONS, Collector, Ingestor
from tynys.registry import add_node, retire_node
from tynys.store import Store

pytestmark = [pytest.mark.host, pytest.mark.backends]
NOW = VECTOR_T1 + 30
INVALID = json.loads((Path(__file__).parents[1] / "vectors" / "records" / "record-1.json").read_text())["invalid"]
UNSIGNED_KEPT = 512  # bytes of a line kept in rejects when its signature was not verified (docs/host.md)


def kept(reason: str, line: bytes) -> bytes:
    """What rejects keeps of a refused line: a node's signed, unstored record whole, others cut."""
    if reason in ("schema", "unstorable", "conflict", "retired_node"):
        return line
    return line[:4096] if reason in ("replay", "node_mismatch") else line[:UNSIGNED_KEPT]


def rows(store, sql, *args):
    return store.db.execute(sql, args).fetchall()


def test_shared_valid_vectors_are_stored_byte_exact(city, record_vectors):
    ing = city.ingestor()
    lines = [v.encode() for v in record_vectors["valid"]]
    out = ing.ingest([ln + b"\r\n" for ln in lines], "test", "vectors")
    assert [o.status for o in out] == ["stored", "stored"]
    assert all(o.ack for o in out)
    assert [r[0] for r in rows(city.store, "SELECT raw FROM records ORDER BY id")] == record_vectors["valid"]
    # every stored line still verifies under the node's key: the host never re-serialises
    for raw in city.store.raw_lines("osk-01"):
        record.verify(raw.encode(), bytes.fromhex(record_vectors["key"]))
    assert rows(city.store, "SELECT channel, n, mean, sd, min, max FROM channel_values v JOIN records r ON r.id = v.record "
                "WHERE r.node = 'osk-01' AND channel = 'pm.pm25_cf1'") == [("pm.pm25_cf1", 270, 12.41, 1.93, 9.0, 17.0)]
    assert rows(city.store, "SELECT slot, type, model, sensor_id, frames, bad, warmup, missing, state FROM record_sensors "
                "JOIN records r ON r.id = record WHERE r.node = 'osk-02'") == [("pm", "sds011", None, None, 0, 5, 0, 60, None)]
    assert rows(city.store, "SELECT n, mean, sd, min, max FROM channel_values v JOIN records r ON r.id = v.record "
                "WHERE r.node = 'osk-02' AND channel = 'pm.pm25'") == [(0, None, None, None, None)]
    # osk-02's clock was not set: stored and acknowledged, pending until a synced record of boot 0 comes
    assert rows(city.store, "SELECT timing, eff_t0, t0 FROM records WHERE node='osk-02'") == [("pending", None, 1795813200)]
    assert len(city.store.series("osk-02", "pm.pm25")) == 0
    city.ingestor().ingest([make_line("osk-03", KEY, 1, t0=VECTOR_T1 - 300, channels={"pm.pm25_cf1": None})], "test")
    empty = city.store.series("osk-03", "pm.pm25_cf1")
    assert empty.n.tolist() == [0] and empty.mean.dtype.kind == "f" and empty.mean[0] != empty.mean[0]  # NaN
    assert rows(city.store, "SELECT heap_free, uptime, reset, rssi, spool, dropped FROM records WHERE node='osk-02'") == \
        [(50000, 300, "wdt", None, 1, 12)]


@pytest.mark.parametrize("v", INVALID, ids=[v["why"] for v in INVALID])
def test_shared_invalid_vectors_are_refused_with_their_reason(city, v):
    (o,) = city.ingestor().ingest([v["line"].encode()], "test")
    assert (o.status, o.reason) == ("rejected", v["reason"]), v["why"]
    assert rows(city.store, "SELECT reason, raw FROM rejects") == [(v["reason"], kept(v["reason"], v["line"].encode()))]
    assert rows(city.store, "SELECT COUNT(*) FROM records") == [(0,)]


def _line(**kw):
    return make_line("osk-03", KEY, 7, t0=VECTOR_T1 - 300, **kw)


def _json_error(text: bytes) -> str:
    try:
        json.loads(text)
    except ValueError as e:
        return f"invalid JSON: {e}"


def _with_nan():
    body = make_body("osk-03", 1, t0=VECTOR_T1 - 300)
    body["sensors"]["pm"]["ch"]["pm25_cf1"]["sd"] = float("nan")  # Python's json writes NaN, a node might too
    return sign_body(body, KEY)


_BROKEN = _line()[:40] + _line()[60:]
REFUSALS = [
    # id, line, transport-claimed node, reason, exact detail
    ("not-json", b"hello world", None, "malformed", 'not a record line: expected a JSON object ending in ,"sig":"<64 hex>"}'),
    ("truncated", _line()[:-30], None, "malformed", 'not a record line: expected a JSON object ending in ,"sig":"<64 hex>"}'),
    ("cut-in-the-middle", _BROKEN, None, "malformed", _json_error(record.split(_BROKEN)[0])),
    ("not-utf8", _line().replace(b'"fw":"0.1.0"', b'"fw":"0.1\xff"'), None, "malformed",
     f"not UTF-8 at byte {_line().index(b'0.1.0') + 3}"),
    ("too-deep", b'{"a":' + b"[" * 5000 + b"]" * 5000 + b',"sig":"' + b"0" * 64 + b'"}', None, "malformed",
     "invalid JSON: nested too deeply"),
    ("unknown-node", make_line("osk-99", KEY, 1, t0=VECTOR_T1 - 300), None, "unknown_node",
     "node 'osk-99' is not registered on this host: register it with tynys nodes add osk-99 (and provision its key)"),
    ("forged", make_line("osk-03", bytes(32), 7, t0=VECTOR_T1 - 300), None, "bad_signature",
     "HMAC-SHA256 does not match the key registered for node 'osk-03'"),
    ("node-not-id", sign_body(dict(make_body("osk-03", 1), node=5), KEY), None, "malformed", "node: 5 is not a node id"),
    ("window-backwards", sign_body(dict(make_body("osk-03", 1, t0=VECTOR_T1 - 300), t1=VECTOR_T1 - 600), KEY), None,
     "schema", f"window end t1={VECTOR_T1 - 600} is not after start t0={VECTOR_T1 - 300}"),
    ("nan", _with_nan(), None, "schema", "sensors/pm/ch/pm25_cf1/sd: nan is not a JSON number"),
    ("huge-int", sign_body(make_body("osk-03", 2**64, t0=VECTOR_T1 - 300), KEY), None, "schema", "seq: 18446744073709551616 does not fit in 64 bits"),
    ("wrong-topic", _line(), "osk-02", "node_mismatch", "record of node 'osk-03' arrived as node 'osk-02'"),
]


@pytest.mark.parametrize("line,claimed,reason,detail", [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_every_refusal_has_its_reason_message_and_row(city, line, claimed, reason, detail):
    (o,) = city.ingestor().ingest([line], "mqtt", "tynys/x/records", claimed)
    assert (o.status, o.reason) == ("rejected", reason)
    assert o.detail == detail
    assert o.ack == (REASONS[reason][0] and o.seq is not None)  # a seq out of range cannot be acknowledged
    (r,) = rows(city.store, "SELECT reason, detail, transport, source, raw, raw_len FROM rejects")
    assert r == (reason, o.detail, "mqtt", "tynys/x/records", kept(reason, line), len(line))
    assert rows(city.store, "SELECT COUNT(*) FROM records") == [(0,)]


def test_no_acknowledgement_without_a_verified_signature_for_the_claimed_node(city):
    # Anyone who may publish to tynys/osk-03/records must not be able to free osk-03's spool:
    # an unverifiable line (no valid node id) and a copy of another node's signed but refused
    # record (a newer record version) carry a seq, and neither may be acknowledged.
    noid = b'{"v":1,"node":"!","seq":5,"sig":"' + b"0" * 64 + b'"}'
    other = sign_body(dict(make_body("osk-02", 6, t0=VECTOR_T1 - 300), v=2), city.keys.get("osk-02"))
    a, b = city.ingestor().ingest([noid, other], "mqtt", "tynys/osk-03/records", "osk-03")
    assert (a.reason, a.seq, a.ack) == ("malformed", 5, False)
    assert (b.reason, b.seq, b.ack) == ("node_mismatch", 6, False)
    assert b.detail == "record of node 'osk-02' arrived as node 'osk-03'"


def test_replay_and_conflict(city):
    ing = city.ingestor()
    line = _line()
    assert ing.ingest([line], "serial", "/dev/ttyUSB0")[0].status == "stored"
    (o,) = ing.ingest([line], "http", "10.0.0.9")
    assert (o.status, o.reason, o.ack) == ("replay", "replay", True)
    assert o.detail == "record (osk-03, boot 0, seq 7) is already stored (received 2026-11-27T21:05:30Z via serial)"
    other = make_line("osk-03", KEY, 7, t0=VECTOR_T1 - 300, pm25=99.0)
    (o,) = ing.ingest([other], "http")
    assert (o.status, o.reason, o.ack) == ("rejected", "conflict", True)
    assert o.detail.startswith("record (osk-03, boot 0, seq 7) is already stored with different content")
    assert rows(city.store, "SELECT COUNT(*), MIN(raw) FROM records") == [(1, line.decode())]
    assert rows(city.store, "SELECT reason FROM rejects ORDER BY id") == [("replay",), ("conflict",)]


def test_duplicates_within_one_batch_land_once(city):
    line = _line()
    out = city.ingestor().ingest([line, line, line], "test")
    assert [o.status for o in out] == ["stored", "replay", "replay"]
    assert rows(city.store, "SELECT COUNT(*) FROM records") == [(1,)]


def test_retired_node_refused_after_retirement_only(city):
    retire_node(city.store, "osk-03", when=VECTOR_T1 - 100, reason="moved")
    ing = city.ingestor()
    before = make_line("osk-03", KEY, 1, t0=VECTOR_T1 - 700)  # window ends before the retirement
    after = _line()
    a, b = ing.ingest([before, after], "test")
    assert a.status == "stored"
    assert (b.reason, b.detail) == ("retired_node", "node 'osk-03' was retired at 2026-11-27T21:03:20Z; this window ends at 2026-11-27T21:05:00Z")
    assert b.ack  # verified and refused for good: the node may drop it


def test_registry_changes_reach_a_running_ingestor(city):
    ing = city.ingestor()
    line = make_line("osk-04", KEY, 1, t0=VECTOR_T1 - 300)
    assert ing.ingest([line], "test")[0].reason == "unknown_node"
    add_node(city.store, city.keys, "osk-04", key=KEY)  # e.g. tynys nodes add in another terminal
    assert ing.ingest([line], "test")[0].status == "stored"
    retire_node(Store.open(city.db), "osk-04", when=VECTOR_T1 - 600)
    assert ing.ingest([make_line("osk-04", KEY, 2, t0=VECTOR_T1 - 300)], "test")[0].reason == "retired_node"


def test_a_damaged_key_file_keeps_the_last_keys(city, caplog):
    ing = city.ingestor()
    assert ing.ingest([_line()], "test")[0].status == "stored"
    city.keys.path.chmod(0o644)  # e.g. copied back from a backup with the wrong mode: load() refuses it
    stranger = make_line("osk-99", KEY, 1, t0=VECTOR_T1 - 300)  # forces a reload of nodes and keys
    a, b = ing.ingest([stranger, make_line("osk-03", KEY, 8, t0=VECTOR_T1 - 300)], "test")
    assert (a.status, a.reason, b.status) == ("rejected", "unknown_node", "stored")
    assert "registry not reloaded: key file" in caplog.text


def test_registered_node_without_key_is_unknown_with_the_fix(city):
    city.keys.remove("osk-03")
    (o,) = city.ingestor().ingest([_line()], "test")
    assert o.reason == "unknown_node" and not o.ack
    assert o.detail == f"node 'osk-03' is registered but its key is not in {city.keys.path}: restore the key file or pass the right --keys"


def test_clock_limits_are_configurable(city):
    line = make_line("osk-03", KEY, 7, t0=NOW + 3600)
    assert city.ingestor(max_future=7200).ingest([line], "test")[0].status == "stored"
    ahead = make_line("osk-03", KEY, 9, t0=NOW + 30 * 86400)  # a virtual node far ahead: --max-future 0, no limit
    o = city.ingestor(max_future=None).ingest([ahead], "test")[0]
    assert (o.status, o.reason) == ("stored", None) and rows(city.store, "SELECT timing FROM records WHERE seq=9") == [("node",)]
    old = make_line("osk-03", KEY, 8, t0=946684800)
    assert city.ingestor(max_past=None).ingest([old], "test")[0].status == "stored"


def test_refused_raw_is_bounded(city):
    junk = b"x" * 100_000
    (o,) = city.ingestor().ingest([junk], "serial")
    assert o.detail == "line of 100000 bytes is longer than the 65536 byte limit"
    assert rows(city.store, "SELECT length(raw), raw_len FROM rejects") == [(UNSIGNED_KEPT, 100_000)]


def test_mutated_lines_never_crash_and_never_store_a_forgery(city):
    rng = random.Random(4)
    good = _line()
    lines = [good[:i] for i in range(0, len(good), 7)]  # every truncation
    for _ in range(300):
        b = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        lines.append(bytes(b))
    body = make_body("osk-03", 9, t0=VECTOR_T1 - 300)
    for k in ("sensors", "health", "t0", "boot"):  # type confusion, signed (only a real node could send these)
        for v in ([], "x", None, -1, 1.5, {"a": 1}):
            lines.append(sign_body(dict(body, **{k: v}), KEY))
    lines.append(good)
    out = city.ingestor().ingest(lines, "fuzz")
    assert all(o.status in ("stored", "rejected", "replay") for o in out)
    assert rows(city.store, "SELECT raw FROM records") == [(good.decode(),)]
    assert city.store.stats()["rejected"] == len(lines) - 1  # counted exactly; rejects keeps a sample


def test_store_busy_means_retry_and_nothing_written(city):
    ing = Ingestor(Store.open(city.db, timeout=0.1), city.keys, now=lambda: NOW)
    with writer_holding_the_lock(city.db):
        (o,) = ing.ingest([_line()], "test")
    assert (o.status, o.ack) == ("retry", False) and "busy" in o.detail
    assert rows(city.store, "SELECT COUNT(*) FROM records") == [(0,)]
    assert ing.ingest([_line()], "test")[0].status == "stored"


def test_collector_group_commits_and_acks_after_commit(city):
    ing = city.ingestor()
    nodes = {f"g{i:02d}": KEY for i in range(8)}
    for n in nodes:
        add_node(city.store, city.keys, n, key=KEY)
    seen_at_ack = []
    probe = Store.open(city.db, readonly=True)

    def on_done(outcomes):  # another connection must already see what is being acknowledged
        for o in outcomes:
            seen_at_ack.append(rows(probe, "SELECT COUNT(*) FROM records WHERE node=? AND seq=?", o.node, o.seq)[0][0])

    with Collector(ing) as col:
        def send(node):
            for seq in range(50):
                col.submit([make_line(node, KEY, seq, t0=VECTOR_T1 - 300 * (seq + 1))], "test", on_done=on_done)

        threads = [threading.Thread(target=send, args=(n,)) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    probe.close()
    assert rows(city.store, "SELECT COUNT(*) FROM records") == [(400,)]
    assert seen_at_ack == [1] * 400
    assert col.batches < 400  # submissions shared transactions


def test_a_submission_racing_close_is_still_stored(city):
    col = Collector(city.ingestor())
    put = col._q.put
    closer = threading.Thread(target=col.close)

    def slow_put(job):  # close() (a SIGTERM) arrives between the submission's check and its queueing
        if job is not None and not closer.is_alive():
            closer.start()
            closer.join(0.3)
        put(job)

    col._q.put = slow_put
    fut = col.submit([_line()], "test")
    assert fut.result(timeout=5)[0].status == "stored"
    closer.join()


def test_a_window_out_of_the_calendar_neither_stalls_its_node_nor_fails_the_group_commit(city):
    """clock ntp, t0 = 10**12 (year 33658): it raised inside ingest and every POST committed with
    it answered 503, forever. Now it is stored pending and acknowledged; the others are stored."""
    wild = make_line("osk-03", KEY, 8, t0=10**12)
    ok = [make_line("osk-03", KEY, s, t0=VECTOR_T1 - 300 * (10 - s)) for s in (7, 9)]
    other = make_line("osk-01", city.keys.get("osk-01"), 1, t0=VECTOR_T1 - 300)
    with Collector(city.ingestor()) as col:
        a = col.submit([ok[0], wild, ok[1]], "http", "10.0.0.3", "osk-03")
        b = col.submit([other], "http", "10.0.0.4", "osk-01")
        res_a, res_b = a.result(30), b.result(30)
    assert [o.status for o in res_a] == ["stored"] * 3 and res_b[0].status == "stored"
    assert all(o.ack for o in res_a + res_b)
    assert res_a[1].reason == "clock" and "Unix time outside years 1..9999" in res_a[1].detail
    # and its uptime puts it between its neighbours: re-timed there
    assert rows(city.store, "SELECT seq, timing, eff_t0, eff_t1 FROM records WHERE node='osk-03' ORDER BY seq") == \
        [(7, "node", VECTOR_T1 - 900, VECTOR_T1 - 600), (8, "retimed", VECTOR_T1 - 600, VECTOR_T1 - 300),
         (9, "node", VECTOR_T1 - 300, VECTOR_T1)]


REFUSE_13 = {  # a trigger standing for any constraint the checks missed, in each engine's words
    "sqlite": ["CREATE TRIGGER refuse BEFORE INSERT ON records WHEN NEW.seq = 13 BEGIN SELECT RAISE(ABORT, 'test: no seq 13'); END"],
    "postgresql": ["CREATE FUNCTION refuse_13() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.seq = 13 THEN "
                   "RAISE EXCEPTION 'test: no seq 13'; END IF; RETURN NEW; END $$",
                   "CREATE TRIGGER refuse BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION refuse_13()"],
}


def test_a_record_the_database_refuses_is_refused_alone_and_kept_whole(city, backend):
    """A failure in one record (here a trigger standing for any constraint the checks missed)
    refuses that record only, as unstorable: acknowledged, its whole line kept to ingest again."""
    for sql in REFUSE_13[backend]:
        city.store.db.execute(sql)
    lines = [make_line("osk-03", KEY, s, t0=VECTOR_T1 - 300 * (20 - s)) for s in (12, 13, 14)]
    out = city.ingestor().ingest(lines, "test")
    assert [(o.status, o.reason) for o in out] == [("stored", None), ("rejected", "unstorable"), ("stored", None)]
    assert out[1].ack and "test: no seq 13" in out[1].detail
    assert rows(city.store, "SELECT raw, raw_len FROM rejects") == [(lines[1], len(lines[1]))]
    city.store.db.execute("DROP TRIGGER refuse" + (" ON records" if backend == "postgresql" else ""))
    (raw,) = rows(city.store, "SELECT raw FROM rejects")[0]
    assert city.ingestor().ingest([raw], "test")[0].status == "stored"  # the kept line lands once the host is fixed


def test_a_failure_while_retiming_one_boot_leaves_it_pending_and_stores_the_rest(city, monkeypatch, caplog):
    import tynys.ingest as ingest_mod

    real = ingest_mod.retime

    def broken_for_boot_6(store, node, boot, *a, **kw):
        if boot == 6:
            raise RuntimeError("test: re-timing bug")
        return real(store, node, boot, *a, **kw)

    monkeypatch.setattr(ingest_mod, "retime", broken_for_boot_6)
    unsynced = [sign_body(make_body("osk-03", s, boot=b, t0=946684800 + 300 * s, clock="unsynced", uptime=300 * (s + 1)), KEY)
                for b in (5, 6) for s in range(2)]
    synced = [make_line("osk-03", KEY, s, boot=b, t0=VECTOR_T1 - 300 * (4 - s), uptime=300 * (s + 1) + 10**5)
              for b in (5, 6) for s in range(2, 4)]
    out = city.ingestor().ingest(unsynced + synced, "test")
    assert {o.status for o in out} == {"stored"}
    assert dict(rows(city.store, "SELECT boot, COUNT(*) FROM records WHERE timing = 'pending' GROUP BY boot")) == {6: 2}
    assert "re-timing osk-03 boot 6 failed" in caplog.text


def test_a_junk_flood_is_counted_exactly_and_kept_as_a_small_sample(city):
    """10 x 2000 junk lines once added 22k rejects rows (17 MB): now exact counts and a sample
    that grows with the logarithm of the flood; a valid record in the flood is stored."""
    ing = city.ingestor()
    for i in range(10):
        out = ing.ingest([b"junk %d %d " % (i, k) + b"x" * 800 for k in range(2000)] + [make_line("osk-03", KEY, i, t0=VECTOR_T1 - 300 * (10 - i))],
                         "http", "10.0.0.66")
        assert out[-1].status == "stored"
    s = city.store.stats()
    assert s["rejected"] == 20000 and s["rejected_by_reason"] == {"malformed": 20000} and s["records"] == 10
    assert s["rejects_kept"] <= 20 + 15  # the first 20, then the 2^k-th
    assert rows(city.store, "SELECT MAX(length(raw)) FROM rejects") == [(512,)]
    (c,) = city.store.reject_counts()
    assert (c["source"], c["reason"], c["n"], c["kept"]) == ("10.0.0.66", "malformed", 20000, s["rejects_kept"])
    # from many sources: counted per source up to a bound, then together
    ing.ingest([b"noise"], "mqtt", "tynys/a/records")
    for k in range(300):
        ing.ingest([b"noise"], "mqtt", f"tynys/n{k}/records")
    counts = {r["source"]: r["n"] for r in city.store.reject_counts(reason="malformed") if r["transport"] == "mqtt"}
    assert len(counts) == 257 and counts["(other sources)"] == 301 - 256 and sum(counts.values()) == 301
