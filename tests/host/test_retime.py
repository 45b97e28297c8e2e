"""Records made before a node's clock was set: stored pending, acknowledged, re-timed from the
node's uptime by a record of the same boot with a set clock (either order), or kept pending with
the reason; every reader of window times sees the effective window and never a pending one."""

from __future__ import annotations

import random
import sqlite3

import numpy as np
import pytest
from conftest import VECTOR_T1, assert_sensor_hours_exact
from factory import KEY, make_body, make_line, sign_body

from tynys import pipeline
from tynys.store import schema as store_mod
from tynys.cli import main
from tynys.ingest import Ingestor
from tynys.keys import KeyFile
from tynys.registry import add_node, retire_node
from tynys.store import Store

pytestmark = [pytest.mark.host, pytest.mark.backends]

RTC0 = 946684800  # an ESP32's clock after power-on: 2000-01-01
W = 300


def boot_lines(power_on: int, set_at: int, end: int, *, node="osk-03", boot=2, seq0=10, clock="ntp", late=(),
               pm=(40.0, 20.0)):
    """One boot as the firmware makes it: ``(lines, world)``. The clock reads RTC0 at uptime 0
    (world time *power_on*) and windows end on its grid; at uptime *set_at* the clock is set: the
    window is cut there and the next starts at that instant on the world grid, to uptime *end*.
    ``health.uptime`` is the uptime at the window's end (5 s later for the seqs in *late*: a
    blocked loop). *world*: the true ``(t0, t1)`` of each line; *pm*: PM2.5 before/after the set."""
    def edges(clock0, a, b):  # uptimes of the window edges in [a, b] on a clock reading clock0 at uptime 0
        grid = np.arange((clock0 + a) // W + 1, -(-(clock0 + b) // W)) * W - clock0
        return [a, *grid.tolist(), b]

    lines, world = [], []
    for phase, (c0, es) in enumerate(((RTC0, edges(RTC0, 0, set_at)), (power_on, edges(power_on, set_at, end)))):
        for u0, u1 in zip(es, es[1:]):
            if u1 == u0:
                continue
            seq = seq0 + len(lines)
            lines.append(sign_body(make_body(node, seq, boot=boot, t0=c0 + u0, window=u1 - u0, clock=("unsynced", clock)[phase],
                                             uptime=u1 + 5 * (seq in late), channels={"pm.pm25_atm": pm[phase]}), KEY))
            world.append((power_on + u0, power_on + u1))
    return lines, world


POWER_ON = VECTOR_T1 - 4 * 3600 + 17  # the node starts 17 s into a window
SET_AT = 3600 + 123  # NTP answers after an hour and two minutes


def timing(store, node="osk-03", boot=2):
    return store.db.execute("SELECT seq, timing, eff_t0, eff_t1, t0, t1, retimed_by, timing_note FROM records"
                              " WHERE node=? AND boot=? ORDER BY seq", (node, boot)).fetchall()


def split(lines):
    unsynced = [ln for ln in lines if b'"clock":"unsynced"' in ln]
    return unsynced, lines[len(unsynced):]


def test_unsynced_then_synced_same_boot_are_retimed_to_world_time(city):
    lines, world = boot_lines(POWER_ON, SET_AT, SET_AT + 3600)
    unsynced, synced = split(lines)
    assert len(unsynced) == 13 and unsynced[-1].count(b'"t1":946688523')  # the window cut when the clock was set
    ing = city.ingestor()
    out = ing.ingest(unsynced, "serial")
    assert all(o.status == "stored" and o.ack for o in out)  # stored: the node may free them
    assert {r[1] for r in timing(city.store)} == {"pending"}
    assert timing(city.store)[0][7] == "no record of boot 2 with a set clock yet"
    assert len(city.store.series("osk-03", "pm.pm25_atm")) == 0 and city.store.latest(["osk-03"]) == []

    assert all(o.status == "stored" for o in ing.ingest(synced, "serial"))
    rows = timing(city.store)
    anchor = city.store.db.execute("SELECT id FROM records WHERE node='osk-03' AND seq=23").fetchone()[0]
    shift = POWER_ON - RTC0
    for (seq, how, e0, e1, t0, t1, by, note), truth in zip(rows[:13], world):
        assert (how, (e0, e1), by) == ("retimed", truth, anchor), seq
        assert (t0, t1) == (truth[0] - shift, truth[1] - shift)  # the node's own times stay as sent
        assert note == f"moved {shift:+d} s to meet seq 23, where the clock was set"
    assert all(r[1:4] == ("node", r[4], r[5]) for r in rows[13:])
    assert rows[12][3] == rows[13][2]  # the cut window meets the first synced one
    s = city.store.series("osk-03", "pm.pm25_atm")
    assert s.t0.tolist() == [w[0] for w in world] and s.mean.tolist() == [40.0] * 13 + [20.0] * (len(world) - 13)
    assert city.store.stats()["retimed"] == 13 and city.store.stats()["pending"] == 0
    assert sum(r[4] for r in assert_sensor_hours_exact(city.store) if r[2] == "pm") == len(world)


def test_synced_first_then_late_unsynced_are_retimed_at_ingest_in_any_order(city, tmp_path, new_db):
    lines, world = boot_lines(POWER_ON, SET_AT, SET_AT + 3600)
    unsynced, synced = split(lines)
    ing = city.ingestor()
    ing.ingest(synced[:3], "http")
    ing.ingest(unsynced[5:], "serial")  # a second transport brings the spool's tail first
    ing.ingest(synced[3:] + unsynced[:5], "serial")
    rows = timing(city.store)
    assert [r[1] for r in rows] == ["retimed"] * 13 + ["node"] * (len(world) - 13)
    assert [(r[2], r[3]) for r in rows] == world
    # one by one in a shuffled order: the same times (they depend on what is stored, not when)
    other = Store.open(new_db("other"))
    keys = KeyFile(tmp_path / "other.keys")
    add_node(other, keys, "osk-03", key=KEY)
    ing2 = Ingestor(other, keys, now=lambda: VECTOR_T1 + 30)
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    for ln in shuffled:
        ing2.ingest([ln], "test")
    assert [r[:4] + r[4:6] + r[7:] for r in timing(other)] == [r[:4] + r[4:6] + r[7:] for r in rows]
    assert assert_sensor_hours_exact(other) == assert_sensor_hours_exact(city.store)


def test_uptime_alone_retimes_when_no_window_was_cut_and_late_closes_do_not_skew_it(city):
    lines, world = boot_lines(POWER_ON, SET_AT, SET_AT + 3600, clock="host", late={11, 14, 24})
    unsynced, synced = split(lines)
    city.ingestor().ingest(unsynced[:-1] + synced, "test")  # the cut window was never sent
    rows = timing(city.store)
    assert [(r[1], r[2], r[3]) for r in rows[:12]] == [("retimed", *w) for w in world[:12]]
    assert rows[0][7] == f"moved {POWER_ON - RTC0:+d} s by uptime against seq 23"


def test_another_boots_synced_record_does_not_retime(city):
    lines, _ = boot_lines(POWER_ON, SET_AT, SET_AT + 3600)
    unsynced, _ = split(lines)
    _, synced3 = split(boot_lines(POWER_ON + 8000, 0, 3600, boot=3, seq0=40)[0])
    city.ingestor().ingest(unsynced + synced3, "test")
    assert {r[1] for r in timing(city.store)} == {"pending"}
    assert {r[1] for r in timing(city.store, boot=3)} == {"node"}


def test_never_synced_stays_pending_is_counted_and_a_replay_is_a_replay(city, capsys):
    lines, _ = boot_lines(POWER_ON, 6000, 6000)
    ing = city.ingestor()
    ing.ingest(lines, "serial")
    (o,) = ing.ingest([lines[4]], "http")
    assert (o.status, o.reason, o.ack) == ("replay", "replay", True)
    assert o.detail.startswith("record (osk-03, boot 2, seq 14) is already stored")
    s = city.store.stats()
    assert (s["records"], s["pending"], s["retimed"], s["first"]) == (20, 20, 0, None)
    assert main(["db", "stats", "--db", str(city.db)]) == 0
    assert "unsynced  0 re-timed, 20 pending" in capsys.readouterr().out
    assert city.store.raw_lines("osk-03") == [] and city.store.windows("osk-03", ["pm.pm25_atm"]).record.size == 0


def test_implausible_retimes_stay_pending_with_the_reason(city):
    # boot 1 (clock set) already holds the hour boot 2's windows would be moved to
    _, first = split(boot_lines(POWER_ON - 600, 0, 2 * 3600, boot=1, seq0=0)[0])
    lines, _ = boot_lines(POWER_ON, SET_AT, SET_AT + 3600)
    ing = city.ingestor()
    ing.ingest(first[:10], "test")
    ing.ingest(lines, "test")
    rows = timing(city.store)
    pending = [r for r in rows if r[1] == "pending"]
    assert len(pending) == 8 and all(r[2] is None and r[6] is None for r in pending)
    assert pending[0][7] == (f"re-timed 2026-11-27T17:05:17Z .. 2026-11-27T17:10:17Z ({POWER_ON - RTC0:+d} s) would overlap "
                             "boot 1 seq 2 (2026-11-27T17:05:00Z .. 2026-11-27T17:10:00Z)")
    # boot 1's windows end at 17:45: boot 2's from 17:45:17 on are re-timed
    assert [r[1] for r in rows[:13]] == ["pending"] * 8 + ["retimed"] * 5


def test_a_retimed_window_before_installation_or_in_the_future_stays_pending(city):
    add_node(city.store, city.keys, "osk-09", key=KEY, installed=POWER_ON + 1800)
    lines, _ = boot_lines(POWER_ON, SET_AT, SET_AT + 3600, node="osk-09")
    city.ingestor().ingest(lines, "test")
    rows = timing(city.store, "osk-09")
    assert [r[1] for r in rows[:13]] == ["pending"] * 6 + ["retimed"] * 7
    assert rows[0][7].endswith("would start before the node was installed (2026-11-27T17:35:17Z)")
    # a node whose uptime runs ahead of its set clock's windows (a firmware bug) is not moved into the future
    body = make_body("osk-03", 99, boot=5, t0=RTC0, clock="unsynced", uptime=10**6)
    city.ingestor().ingest([sign_body(body, KEY), make_line("osk-03", KEY, 100, boot=5, t0=VECTOR_T1 - 300, uptime=600)], "test")
    (row, _) = timing(city.store, boot=5)
    assert row[1] == "pending" and "s after the host clock" in row[7]


def test_retired_nodes_unsynced_records_are_stored_and_judged_once_retimed(city):
    retire_node(city.store, "osk-03", when=POWER_ON + 1800, reason="moved")
    lines, _ = boot_lines(POWER_ON, SET_AT, SET_AT + 3600)
    unsynced, synced = split(lines)
    out = city.ingestor().ingest(unsynced + synced[:1], "test")
    assert [o.status for o in out] == ["stored"] * 13 + ["rejected"]
    assert out[-1].reason == "retired_node"  # the synced one ends after the retirement: refused as before
    assert {r[1] for r in timing(city.store)} == {"pending"}  # nothing to re-time from


def test_migration_from_v2_keeps_rows_and_times(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:2])
    s = Store.open(tmp_path / "old.db")
    assert s.schema_version() == 2
    s.conn.execute("INSERT INTO nodes (id, added) VALUES ('osk-03', 0)")
    for seq, clock in ((1, "ntp"), (2, "unsynced")):  # v2 stored an unsynced record whose time looked right
        b = make_body("osk-03", seq, t0=VECTOR_T1 - 600 + 300 * seq, clock=clock)
        rid = s.conn.execute("INSERT INTO records (node, boot, seq, t0, t1, clock, fw, uptime, received, transport, raw)"
                             " VALUES ('osk-03', 0, ?, ?, ?, ?, '0.1.0', 1, 0, 'test', 'x') RETURNING id",
                             (seq, b["t0"], b["t1"], clock)).fetchone()[0]
        s.conn.execute("INSERT INTO channel_values VALUES (?, 'pm.pm25_atm', 1, ?, 0, 0, 0)", (rid, 10.0 * seq))
    s.close()
    monkeypatch.undo()
    s = Store.open(tmp_path / "old.db")
    assert s.schema_version() == store_mod.MIGRATIONS[-1][0]
    assert s.conn.execute("SELECT seq, timing, eff_t0 = t0, eff_t1 = t1 FROM records ORDER BY seq").fetchall() == \
        [(1, "node", 1, 1), (2, "node", 1, 1)]
    assert s.series("osk-03", "pm.pm25_atm").mean.tolist() == [10.0, 20.0]
    assert s.conn.execute("SELECT name FROM sqlite_master WHERE name = 'records_node_t0'").fetchone() is None
    plan = " ".join(r[3] for r in s.conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM timed_records WHERE node = 'osk-03' AND t0 >= 0 AND t0 < 10"))
    assert "INDEX records_node_window" in plan  # readers keep an index through the view (since v5 one that covers them)
    with pytest.raises(sqlite3.IntegrityError):
        s.conn.execute("UPDATE records SET timing = 'later'")


def test_hourly_pipeline_uses_retimed_windows_and_ignores_pending(tmp_path, new_db):
    store = Store.open(new_db())
    keys = KeyFile(tmp_path / "city.keys")
    add_node(store, keys, "osk-03", key=KEY)
    h0 = (POWER_ON // 3600 - 1) * 3600  # the hour before boot 2's power-on
    _, before = split(boot_lines(h0, 0, 3600, boot=1, seq0=0, pm=(0, 10.0))[0])  # boot 1: 12 windows of 10
    lines, _ = boot_lines(POWER_ON, SET_AT, SET_AT + 3600)  # boot 2: 40 unsynced, then 20
    # boot 3 kept its clock across a reset: its time looks right, but it is unsynced and never confirmed
    stale = make_body("osk-03", 90, boot=3, t0=h0 + 600, clock="unsynced", uptime=900, channels={"pm.pm25_atm": 1000.0})
    Ingestor(store, keys, now=lambda: VECTOR_T1 + 30).ingest(before + lines + [sign_body(stale, KEY)], "test")
    h = pipeline.hourly(store, h0, h0 + 3 * 3600)
    got = h.pm25.raw[0, h.reported]
    # hour 3 starts with two re-timed windows (the last begins 17 s past the hour), then eleven synced ones
    assert got.tolist() == [10.0, 40.0, pytest.approx((2 * 40.0 + 11 * 20.0) / 13)]
    assert store.stats()["pending"] == 1


def test_unsynced_records_whose_uptimes_disagree_are_not_retimed_to_impossible_times(city, capsys):
    """One unsynced record of a boot says t0 = 10**12 (its clock jumped): the others of the boot
    are re-timed as before, it stays pending with the reason; nothing lands in year -29662."""
    lines, world = boot_lines(POWER_ON, SET_AT, SET_AT + 3600)
    unsynced, synced = split(lines)
    wild = sign_body(make_body("osk-03", 5, boot=2, t0=10**12, clock="unsynced", uptime=600), KEY)
    backwards = sign_body(make_body("osk-03", 9, boot=2, t0=RTC0 + 2400, clock="unsynced", uptime=2700 - 600), KEY)
    out = city.ingestor().ingest([wild, backwards] + unsynced + synced, "test")
    assert {o.status for o in out} == {"stored"}
    rows = {r[0]: r for r in timing(city.store)}
    assert rows[5][1] == "pending" and "disagrees by" in rows[5][7] and "jumped" in rows[5][7]
    assert rows[9][1] == "pending"
    assert [(rows[s][2], rows[s][3]) for s in range(10, 10 + len(unsynced))] == world[:len(unsynced)]
    eff = city.store.db.execute("SELECT MIN(eff_t0), MAX(eff_t1) FROM records").fetchone()
    assert RTC0 < eff[0] and eff[1] <= VECTOR_T1 + 30 + 600
    assert main(["db", "stats", "--db", str(city.db)]) == 0
    assert "2 pending" in capsys.readouterr().out


def test_two_equal_groups_of_unsynced_records_that_disagree_do_not_stop_re_timing(city, caplog):
    """Half of a boot's unsynced records say the clock read 10**6 s more at uptime 0 (it jumped):
    the median of the two groups matches neither. Re-timing still runs: the earlier clock's
    records get world times, the others stay pending with the reason, nothing is logged as an error."""
    lines, world = boot_lines(POWER_ON, 900 + 123, 900 + 123 + 3600)
    unsynced, synced = split(lines)
    jumped = [sign_body(make_body("osk-03", k, boot=2, t0=RTC0 + 10**6 + W * k, clock="unsynced", uptime=W * (k + 1)), KEY)
              for k in range(len(unsynced))]
    assert len(jumped) == len(unsynced) < 10  # seqs 0.. below the boot's others (from 10)
    with caplog.at_level("ERROR"):
        out = city.ingestor().ingest(jumped + unsynced + synced, "test")
    assert {o.status for o in out} == {"stored"}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    rows = {r[0]: r for r in timing(city.store)}
    assert [(rows[s][2], rows[s][3]) for s in range(10, 10 + len(unsynced))] == world[:len(unsynced)]
    for k in range(len(jumped)):
        assert rows[k][1] == "pending" and "disagrees by +1000000 s" in rows[k][7], rows[k]


def test_db_stats_reads_times_outside_the_calendar(city, capsys):
    """Rows an older tynys re-timed to year -29662 (or a window at t0 = 10**15) do not crash stats."""
    city.ingestor().ingest([make_line("osk-03", KEY, 1, t0=VECTOR_T1 - 300)], "test")
    city.store.db.execute("UPDATE records SET eff_t0 = -998000000000, eff_t1 = 1000000000000000, timing = 'retimed'")
    assert main(["db", "stats", "--db", str(city.db)]) == 0
    out = capsys.readouterr().out
    assert "-998000000000 s (Unix time outside years 1..9999)" in out


def test_a_set_clock_that_jumped_ahead_is_kept_pending_then_retimed_from_uptime(city):
    """A node's NTP answer was 3000 s off mid-boot: its records are stored and acknowledged, kept
    pending (not refused: a measurement is never thrown away for its timestamp), and re-timed by
    their uptime against the boot's records with a right clock."""
    t0 = VECTOR_T1 - 3600
    good = [make_line("osk-03", KEY, s, boot=4, t0=t0 + 300 * s, uptime=1000 + 300 * (s + 1)) for s in range(6)]
    ahead = [make_line("osk-03", KEY, s, boot=4, t0=t0 + 300 * s + 3000, uptime=1000 + 300 * (s + 1)) for s in range(6, 12)]
    out = city.ingestor().ingest(ahead[:1], "test")  # before any right-clock record of the boot: pending
    assert (out[0].status, out[0].reason, out[0].ack) == ("stored", "clock", True)
    assert "1470 s ahead of the host clock" in out[0].detail and "kept pending" in out[0].detail
    assert timing(city.store, boot=4)[0][1] == "pending"
    city.ingestor().ingest(good + ahead[1:], "test")
    rows = timing(city.store, boot=4)
    assert [r[1] for r in rows] == ["node"] * 6 + ["retimed"] * 6
    assert [(r[2], r[3]) for r in rows[6:]] == [(t0 + 300 * s, t0 + 300 * (s + 1)) for s in range(6, 12)]
    assert rows[6][7] == "moved -3000 s by its uptime against seq 0"
    assert len(city.store.series("osk-03", "pm.pm25_atm")) == 12
    assert_sensor_hours_exact(city.store)
