"""Records built by the firmware (node/record.py) against the contract on CPython (tynys.record):
HMAC vectors, schema, verification, and statistics that match a reference computation."""

import json
import random
import statistics

import pytest

from tynys import record

pytestmark = pytest.mark.firmware

KEY = bytes(range(32))


def test_hmac_matches_rfc4231_on_micropython(mpy, record_vectors):
    vecs = record_vectors["hmac_sha256"]
    out = mpy(
        "import json\n"
        "from node import Signer\n"
        f"for v in json.loads({json.dumps(json.dumps(vecs))}):\n"
        "    s = Signer(bytes.fromhex(v['key'])); h = s.begin(); h.update(bytes.fromhex(v['data']))\n"
        "    print(s.end(h))\n"
    )
    assert out.stdout.decode().split() == [v["mac"] for v in vecs]


BUILD = """
import json, sys
from array import array
from node.stats import Stats
from node import record
spec = json.loads(sys.stdin.read())
class Slot:
    pass
slots = []
for s in spec["slots"]:
    o = Slot(); o.name = s["name"]; o.type = s["type"]; o.model = s.get("model"); o.ident = s.get("id")
    o.state = s.get("state"); o.channels = tuple(s["channels"]); o.scale = tuple(s["scale"])
    o.stats = Stats(len(o.channels)); v = array("i", [0] * len(o.channels))
    for r in s["rows"]:
        for i in range(len(r)): v[i] = r[i]
        o.stats.add(v)
    c = tuple(s["counts"]); o.counts = lambda c=c: c
    slots.append(o)
class Out:
    def write(self, b):
        sys.stdout.write(bytes(b).decode())
from node import Signer
record.build(Out(), Signer(bytes(range(32))), tuple(spec["hdr"]), slots, [tuple(h) for h in spec["health"]])
"""


def build(mpy, spec) -> bytes:
    return mpy("exec(" + repr(BUILD) + ")", heap="256K", stdin=json.dumps(spec).encode()).stdout


def spec(rows_pm, rows_th):
    return {
        "hdr": ["osk-01", 3, 4711, 1795813200, 1795813500, "ntp", "0.1.0"],
        "slots": [
            {"name": "pm", "type": "pms5003", "model": "pms5003", "id": "fw=151", "state": 0,
             "channels": ["pm25_cf1", "n0_3"], "scale": [1, 1], "rows": rows_pm, "counts": [len(rows_pm), 2, 30, 0]},
            {"name": "th", "type": "sht3x", "id": None, "channels": ["t_c", "rh"], "scale": [100, 100],
             "rows": rows_th, "counts": [len(rows_th), 0, 0, 1]},
            {"name": "so2", "type": "isb", "model": "so2-b4", "id": "sn=162031256", "channels": ["we_mv", "ae_mv"],
             "scale": [16, 16], "rows": [], "counts": [0, 0, 0, 60]},
        ],
        "health": [["heap_free", 41234], ["uptime", 86400], ["reset", "power_on"], ["rssi", -67],
                   ["spool", 1], ["dropped", 0]],
    }


def test_a_firmware_record_validates_verifies_and_carries_the_right_statistics(mpy):
    rnd = random.Random(5)
    pm = [[rnd.randint(3, 400), rnd.randint(500, 30000)] for _ in range(270)]
    th = [[rnd.randint(-2500, -100), rnd.randint(6000, 9900)] for _ in range(30)]
    line = build(mpy, spec(pm, th))
    body = record.verify(line, KEY)
    record.validate(body)
    assert line.endswith(b'"}') and b"\n" not in line
    for slot, rows, scale in (("pm", pm, 1), ("th", th, 100)):
        for i, name in enumerate(body["sensors"][slot]["ch"]):
            st = body["sensors"][slot]["ch"][name]
            col = [r[i] / scale for r in rows]
            assert st["n"] == len(col)
            assert st["mean"] == pytest.approx(statistics.fmean(col), abs=0.6 * 10 ** -(2 + (scale > 1) * 2))
            assert st["sd"] == pytest.approx(statistics.pstdev(col), abs=0.6 * 10 ** -(2 + (scale > 1) * 2))
            assert (st["min"], st["max"]) == (min(col), max(col))
    assert body["sensors"]["so2"]["ch"]["we_mv"] == {"n": 0, "mean": None, "sd": None, "min": None, "max": None}
    assert body["sensors"]["so2"]["missing"] == 60 and body["sensors"]["th"]["id"] is None


def test_changing_any_one_byte_breaks_the_record(mpy):
    line = build(mpy, spec([[12, 2100], [13, 2200]], [[-431, 8120]]))
    record.verify(line, KEY)
    signed_end = line.rindex(b',"sig":"')
    refused = 0
    for i in range(signed_end):
        for delta in (1, 0x20):
            bad = bytearray(line)
            bad[i] ^= delta
            with pytest.raises(record.RecordError):
                record.validate(record.verify(bytes(bad), KEY))
            refused += 1
    assert refused == 2 * signed_end


def test_a_different_key_does_not_verify(mpy):
    line = build(mpy, spec([[12, 2100]], [[-431, 8120]]))
    with pytest.raises(record.RecordError) as e:
        record.verify(line, bytes(32))
    assert e.value.reason == "bad_signature"


@pytest.mark.parametrize("num, den, d, text", [
    (1241, 100, 2, "12.41"), (-1241, 100, 4, "-12.41"), (5, 1, 2, "5"), (-1, 3, 2, "-0.33"),
    (2, 3, 2, "0.67"), (-1, 1000, 2, "0"), (1, 200, 2, "0.01"), (10 ** 20 + 1, 10, 1, "10000000000000000000.1"),
])
def test_decimal_formatting_is_exact(mpy, num, den, d, text):
    out = mpy(f"from node.record import dec; print(dec({num}, {den}, {d}))")
    assert out.stdout.decode().strip() == text


def test_isqrt_is_floor_of_the_square_root(mpy):
    ns = [0, 1, 2, 3, 4, 15, 16, 17, 10 ** 12, 10 ** 40 + 7, (1 << 127) - 1]
    out = mpy(f"from node.record import isqrt; print([isqrt(n) for n in {ns}])")
    got = json.loads(out.stdout)
    import math

    assert got == [math.isqrt(n) for n in ns]
