"""Window statistics in integers (node/stats.py): exact, allocation-free, 31-bit safe."""

import json
import random
import statistics

import pytest

pytestmark = pytest.mark.firmware

LIM = 1 << 28


def run_stats(mpy, rows, nch):
    code = (
        "import json, sys\n"
        "from array import array\n"
        "from node.stats import Stats\n"
        "rows = json.loads(sys.stdin.read())\n"
        f"st = Stats({nch}); v = array('i', [0] * {nch})\n"
        "for r in rows:\n"
        "    for i in range(len(r)): v[i] = r[i]\n"
        "    st.add(v)\n"
        f"print(json.dumps({{'n': st.n, 'out': st.out, 'ch': [st.get(i) for i in range({nch})]}}))\n"
    )
    return json.loads(mpy(code, heap="4M", stdin=json.dumps(rows).encode()).stdout)


def test_sums_are_exact_at_the_edges_of_the_range(mpy):
    rnd = random.Random(3)
    rows = [[LIM - 1, -(LIM - 1), rnd.randrange(-LIM + 1, LIM), 65535, 0] for _ in range(300)]
    rows += [[LIM, 0, 0, 0, 0], [0, -LIM, 0, 0, 0]]  # out of range: not aggregated, counted
    got = run_stats(mpy, rows, 5)
    ok = rows[:300]
    assert got["n"] == 300 and got["out"] == 2
    for i, (s1, s2, lo, hi) in enumerate(got["ch"]):
        col = [r[i] for r in ok]
        assert (s1, s2, lo, hi) == (sum(col), sum(x * x for x in col), min(col), max(col)), i


def test_many_readings_keep_exact_sums(mpy):
    rows = [[65535 - (i % 7), -32768 + (i % 5)] for i in range(20000)]  # 16-bit extremes
    got = run_stats(mpy, rows, 2)
    for i, (s1, s2, lo, hi) in enumerate(got["ch"]):
        col = [r[i] for r in rows]
        assert s1 == sum(col) and s2 == sum(x * x for x in col)
        n = len(col)
        var = (n * s2 - s1 * s1) / n / n  # what node.record formats, exactly
        assert var == pytest.approx(statistics.pvariance(col), rel=1e-12)


def test_adding_a_reading_allocates_nothing(mpy):
    # The heap is locked while readings are added: any allocation would raise MemoryError.
    out = mpy(
        "import micropython\n"
        "from array import array\n"
        "from node.stats import Stats\n"
        "st = Stats(12); v = array('i', range(1000, 13000, 1000))\n"
        "def run(k):\n"
        "    for i in range(k):\n"
        "        v[0] = i; v[11] = 65535 - i\n"
        "        st.add(v)\n"
        "run(1)\n"
        "micropython.heap_lock()\n"
        "run(5000)\n"
        "micropython.heap_unlock()\n"
        "print(st.n)\n"
    )
    assert out.stdout.split() == [b"5001"]
