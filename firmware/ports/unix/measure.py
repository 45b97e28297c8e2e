# Allocation counters for benchmarks (bench/bench_node.py), a virtual-board feature: with
# TYNYS_MEASURE=<windows> the entry (main.py) installs these wrappers, runs the node with the
# garbage collector off between windows, and after that many windows prints one line:
#   measure close <bytes> loop <bytes> sample <bytes> samples <n> windows <k> live <bytes>
# close: allocated by closing a window (record, spool, log) after its own gc.collect();
# loop: allocated between two closes (sampling, uplinks, console); sample: allocated inside
# the sensor slots' service() calls alone; all averaged over the windows after the first two.
#
# With TYNYS_MEASURE=peaks (tests/firmware/test_heap.py; installed after boot) the garbage
# collector runs as usual; each host reply (Node.reply) and each serial uplink pass that writes
# records is measured alone: a collection first, the collector off during the call, so what it
# allocates is exact and the free heap at its peak is what was left with no garbage at all.
# (A window close cannot be measured so: it makes more garbage than the heap holds and relies
# on collections midway; its record carries health.heap_free.) At the REPL, measure.peaks():
#   peaks replies <n> acks <n> reply_max <bytes> reply_max_acks <n> reply_sum <bytes>
#         least_free <bytes> sends <n> send_max <bytes> send_records <n> send_sum <bytes> own <bytes>
# acks: seqs the obeyed replies carried; reply_max_acks: those of the reply that allocated most;
# send_records: records written by any uplink (Spool.copy; the serial one alone here).
# own: what measuring holds (this module, its wrappers); without it the node has that much more.
import gc
import os
from array import array

_MODE = os.getenv("TYNYS_MEASURE") or ""
_N = int(_MODE) if _MODE.isdigit() else 0
_a = array("i", [0] * 8)  # close, loop, sample, samples, windows, last exit, live, in service
_p = array("i", [0, 0, 0, 0, 0, 1 << 30, 0, 0, 0, 0, 0])  # peaks(): the figures in its order
gc.collect()
_free = gc.mem_free()  # before the wrappers: _install_peaks() counts what measuring holds


def _alone(f, *args):
    # (result, bytes allocated, free heap at the call's peak)
    gc.collect()
    free = gc.mem_free()
    gc.disable()
    a = gc.mem_alloc()
    try:
        r = f(*args)
    finally:
        b = gc.mem_alloc()
        gc.enable()
    return r, b - a, free - (b - a)


def peaks():
    print("peaks replies %d acks %d reply_max %d reply_max_acks %d reply_sum %d least_free %d sends %d send_max %d "
          "send_records %d send_sum %d own %d" % tuple(_p))


def _install_peaks():
    import node.app
    import node.uplink.serial  # as run() would a moment later
    import node.spool

    reply = node.app.Node.reply
    service = node.uplink.serial.Serial.service
    copy = node.spool.Spool.copy
    p = _p

    def measured_reply(self, line):
        r, n, least = _alone(reply, self, line)
        k = len(r["ack"]) if r else 0
        p[0] += 1
        p[1] += k
        if n > p[2]:
            p[2] = n
            p[3] = k
        p[4] += n
        p[5] = min(p[5], least)
        return r

    def measured_service(self, now):
        at = self.c[1]
        _, n, least = _alone(service, self, now)
        if self.c[1] != at:  # it wrote records (up to its batch)
            p[6] += 1
            p[7] = max(p[7], n)
            p[5] = min(p[5], least)
            p[9] += n

    def counted_copy(self, c, n, out):
        p[8] += 1
        copy(self, c, n, out)

    node.app.Node.reply = measured_reply
    node.uplink.serial.Serial.service = measured_service
    node.spool.Spool.copy = counted_copy
    gc.collect()
    p[10] = _free - gc.mem_free()


def install():
    if _MODE == "peaks":
        return _install_peaks()
    import node.app
    import node.sensors

    close = node.app.Node._close
    service = node.sensors.Slot.service

    def measured_close(self, t1, quality):
        a = _a
        enter = gc.mem_alloc()
        gc.collect()
        live = gc.mem_alloc()
        close(self, t1, quality)
        out = gc.mem_alloc()
        a[4] += 1
        if a[4] > 2:  # steady state: the first windows warm up buffers and modules
            a[0] += out - live
            a[1] += enter - a[5]
            a[6] = live
        if a[4] == _N + 2:
            k = _N
            print("measure close %d loop %d sample %d samples %d windows %d live %d" % (
                a[0] // k, a[1] // k, a[2], a[3], k, a[6]))
        a[5] = gc.mem_alloc()

    def measured_service(self, now):
        before = gc.mem_alloc()
        service(self, now)
        if _a[4] > 2:
            _a[2] += gc.mem_alloc() - before
            _a[3] += 1

    node.app.Node._close = measured_close
    node.sensors.Slot.service = measured_service
    gc.disable()  # only the explicit collections of each window's close
