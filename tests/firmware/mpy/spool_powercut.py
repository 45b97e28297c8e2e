# Power loss at every flash write of a run of appends and acknowledgements (MicroPython side).
# For each N: run the scenario on a fresh copy of a formatted flash with the power cut at the
# N-th program operation (`torn` percent of that write lands), remount the image as it was
# left, and print one JSON line of facts; tests/firmware/test_spool.py checks them.
# argv: records torn
import os, sys, json
import powercut
from node.spool import Spool

R = int(sys.argv[1])
TORN = int(sys.argv[2])
LFS = {}


def rec(i):
    # Varying lengths so records straddle program blocks and segment boundaries.
    return b'{"v":1,"node":"pc","boot":0,"seq":%d,"pad":"%s"}' % (i, b"x" * (300 + (i * 397) % 900))


def scenario(log):
    sp = Spool("spool", max_records=8, seg_bytes=4000)
    for i in range(R):
        log["dropping"] = 1
        log["dropped"] = sp.dropped + sp.make_room()
        log["dropping"] = 0
        log["cut"] = i
        line = rec(i)
        sp.append(i, lambda f: f.write(line))
        log["cut"] = -1
        log["appended"].append(i)
        if i % 3 == 2:  # acknowledge the two oldest queued, the newer first (out of order)
            c = sp.cursor()
            seqs = []
            while len(seqs) < 2:
                n = sp.read(c)
                if not n:
                    break
                seqs.append(sp.seq)
                c[1] += n + 1
            log["acking"] = seqs
            sp.ack(seqs[::-1])
            log["acked"] += seqs
            log["acking"] = []


class Bytes:
    def __init__(self):
        self.b = b""

    def write(self, b):
        self.b += bytes(b)


def mount(dev):
    os.mount(os.VfsLfs2(dev, **LFS), "/f")
    os.chdir("/f")


def unmount():
    os.chdir("/")
    try:
        os.umount("/f")
    except OSError:
        pass


base = powercut.RamFlash(blocks=48)
os.VfsLfs2.mkfs(base, **LFS)
image = bytes(base.mem)

# Dry run: how many program operations the whole scenario takes.
dry = powercut.RamFlash(48, bytearray(image))
mount(dry)
scenario({"appended": [], "acked": [], "acking": [], "cut": -1, "dropped": 0, "dropping": 0})
unmount()
total = dry.writes
print(json.dumps({"writes": total, "erases": dry.erases}))

for n in range(1, total + 1):
    dev = powercut.RamFlash(48, bytearray(image))
    dev.cut_at(n, TORN)
    log = {"appended": [], "acked": [], "acking": [], "cut": -1, "dropped": 0, "dropping": 0}
    mount(dev)
    err = None
    try:
        scenario(log)
    except OSError as e:
        err = e.errno
    unmount()
    after = powercut.RamFlash(48, dev.mem)
    mount(after)
    sp = Spool("spool", max_records=8, seg_bytes=4000)
    queued = []
    bad = []
    c = sp.cursor()
    while True:
        k = sp.read(c)
        if not k:
            break
        s = sp.seq
        queued.append(s)
        got = Bytes()
        sp.copy(c, k, got)
        if got.b != rec(s):
            bad.append(s)
        c[1] += k + 1
    unmount()
    print(json.dumps({"n": n, "err": err, "cut": log["cut"], "appended": log["appended"],
                      "acked": log["acked"], "acking": log["acking"], "queued": queued,
                      "bad": bad, "torn": sp.torn, "dropped": sp.dropped,
                      "dropped_before": log["dropped"], "dropping": log["dropping"],
                      "count": sp.count}))
