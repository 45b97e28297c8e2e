# Allocation counters for benchmarks (bench/bench_node.py), a virtual-board feature: with
# TYNYS_MEASURE=<windows> the entry (main.py) installs these wrappers, runs the node with the
# garbage collector off between windows, and after that many windows prints one line:
#   measure close <bytes> loop <bytes> sample <bytes> samples <n> windows <k> live <bytes>
# close: allocated by closing a window (record, spool, log) after its own gc.collect();
# loop: allocated between two closes (sampling, uplinks, console); sample: allocated inside
# the sensor slots' service() calls alone; all averaged over the windows after the first two.
import gc
import os
from array import array

_N = int(os.getenv("TYNYS_MEASURE") or 0)
_a = array("i", [0] * 8)  # close, loop, sample, samples, windows, last exit, live, in service


def install():
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
