"""The spool (node/spool.py) on the real LittleFS of the unix port: power cut at every flash
write, order, the bound and its exact count, acknowledgements, a full flash."""

import json
from pathlib import Path

import pytest

from tynys import firmware

pytestmark = pytest.mark.firmware

HERE = Path(__file__).parent


def cuts(records, torn):
    out = firmware.run(script=HERE / "mpy" / "spool_powercut.py", args=(str(records), str(torn)),
                       heap="4M", check=True, do_build=False, timeout=600)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith(b'{"')]
    return rows[0], rows[1:]


@pytest.mark.parametrize("torn", [0, 50], ids=["nothing-of-the-cut-write-lands", "half-of-it-lands"])
def test_power_cut_at_every_write_never_tears_or_reorders(built_firmware, torn):
    dry, runs = cuts(24, torn)
    assert dry["writes"] > 300 and len(runs) == dry["writes"]  # every program operation is a cut
    cut_present = 0
    for r in runs:
        q = r["queued"]
        why = f"power cut at write {r['n']}"
        assert r["err"] is not None, why  # the run really stopped there
        assert q == sorted(set(q)), why  # order kept, nothing twice
        assert not r["bad"] and not r["torn"], why  # every queued record is whole, byte for byte
        acked = set(r["acked"]) | set(r["acking"])  # acks the host sent (a cut one may or may not count)
        assert not set(q) & set(r["acked"]), why  # a returned ack is never undone
        for s in r["appended"]:  # appends that returned: queued, acknowledged, or dropped (counted)
            assert s in q or s in acked or s < (q[0] if q else 1 << 30), why
        if r["cut"] >= 0 and r["cut"] in q:
            cut_present += 1  # its final commit made it before the power went: whole, not half
        if torn == 0:
            assert r["cut"] < 0 or r["cut"] not in q, why  # cut mid-append: absent
        lost = [s for s in r["appended"] if s not in q and s not in acked]
        assert len(lost) == r["dropped"], why  # the bound's drops, counted exactly
    if torn == 0:
        assert cut_present == 0


SPOOL = """
import os, sys, json
import powercut
from node.spool import Spool
dev = powercut.RamFlash(int(sys.argv[1]))
os.VfsLfs2.mkfs(dev)
os.mount(os.VfsLfs2(dev), "/f"); os.chdir("/f")
def rec(i, pad=200):
    return b'{"v":1,"node":"t","boot":0,"seq":%d,"pad":"%s"}' % (i, b"x" * pad)
def queued(sp):
    c = sp.cursor(); out = []
    while True:
        n = sp.read(c)
        if not n:
            return out
        out.append(sp.seq); c[1] += n + 1
def remount(sp):
    os.chdir("/"); os.umount("/f"); os.mount(os.VfsLfs2(dev), "/f"); os.chdir("/f")
    return Spool("spool", sp.max_records, sp.seg_bytes)
"""


def spool(mpy, body, blocks=64):
    code = SPOOL + body
    out = firmware.run(code=code, args=(str(blocks),), heap="1M", check=True, do_build=False)
    return [json.loads(x) for x in out.stdout.splitlines()]


def test_bound_drops_the_oldest_and_counts_exactly_across_remounts(mpy):
    got = spool(mpy, """
sp = Spool("spool", max_records=5, seg_bytes=700)
for i in range(12):
    sp.make_room()
    sp.append(i, lambda f: f.write(rec(i)))
print(json.dumps([queued(sp), sp.dropped, sp.count]))
sp = remount(sp)
print(json.dumps([queued(sp), sp.dropped, sp.count, sp.last_seq]))
""")
    assert got[0] == [[7, 8, 9, 10, 11], 7, 5]
    assert got[1] == [[7, 8, 9, 10, 11], 7, 5, 11]


def test_acks_out_of_order_free_in_order_and_survive_a_remount(mpy):
    got = spool(mpy, """
sp = Spool("spool", max_records=100, seg_bytes=700)
for i in range(8):
    sp.append(i, lambda f: f.write(rec(i)))
print(json.dumps([sp.ack([2, 3]), queued(sp), sp.oldest]))   # 0 not acked yet: nothing freed
print(json.dumps([sp.ack([0, 1]), queued(sp), sp.oldest]))   # now 0..3 go
sp = remount(sp)
print(json.dumps([queued(sp), sp.oldest, sp.count, sorted(os.listdir("spool"))]))
""")
    assert got[0] == [0, [0, 1, 4, 5, 6, 7], 0]  # acked ones are not sent again
    assert got[1] == [4, [4, 5, 6, 7], 4]
    assert got[2][:3] == [[4, 5, 6, 7], 4, 4]


def test_an_ack_for_a_seq_not_yet_written_never_frees_the_record_that_gets_it(mpy):
    got = spool(mpy, """
sp = Spool("spool", max_records=100, seg_bytes=700)
for i in range(3):
    sp.append(i, lambda f: f.write(rec(i)))
print(json.dumps([sp.ack([3, 4]), queued(sp)]))   # 3 and 4 are not on the flash yet
for i in (3, 4):
    sp.append(i, lambda f: f.write(rec(i)))
print(json.dumps([sp.ack([0, 1, 2]), queued(sp)]))  # the host acknowledges what it has: 3 and 4 stay
""")
    assert got[0] == [0, [0, 1, 2]]
    assert got[1] == [3, [3, 4]]


def test_a_full_flash_drops_whole_oldest_segments_and_counts_them(mpy):
    got = spool(mpy, """
sp = Spool("spool", max_records=100000, seg_bytes=3000)
ok = 0
for i in range(400):
    sp.make_room()
    sp.append(i, lambda f: f.write(rec(i, 900)))
    ok += 1
q = queued(sp)
print(json.dumps([ok, sp.dropped, len(q), q[0], q[-1], sp.count]))
""", blocks=24)
    ok, dropped, n, first, last, count = got[0]
    assert ok == 400 and last == 399 and dropped > 0  # every append succeeded, on a 96 KB flash
    assert first == dropped and n == count == 400 - dropped  # exactly the oldest went, counted


def test_seq_keeps_increasing_after_a_reboot_with_everything_acknowledged(mpy):
    # docs/record.md: seq is strictly increasing across reboots, also when the spool was empty.
    got = spool(mpy, """
sp = Spool("spool", max_records=100, seg_bytes=700)
for i in range(5):
    sp.append(i, lambda f: f.write(rec(i)))
sp.ack([0, 1, 2, 3, 4])
sp = remount(sp)
print(json.dumps([queued(sp), sp.last_seq]))
sp.append(sp.last_seq + 1, lambda f: f.write(rec(5)))
sp = remount(sp)
print(json.dumps([queued(sp), sp.last_seq]))
""")
    assert got[0] == [[], 4]
    assert got[1] == [[5], 5]
