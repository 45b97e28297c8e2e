"""Every UART driver decodes the public captured frames to their published values and rejects
the published negative vectors (one line per case with its expected outcome)."""

from __future__ import annotations

import csv
import math
import struct

import pytest

from sim.pms import frame as pms_frame
from sim.sps30 import miso, unstuff
from tynys.decode import _xxd

pytestmark = pytest.mark.firmware


def rows(path):
    with open(path) as f:
        return [{k.strip(): v.strip() for k, v in r.items()} for r in csv.DictReader(f)]


def hexdump(path):
    return _xxd(path.read_text())


def test_pms5003_decodes_pypms_capture_to_published_values(feed, frames_dir):
    ch, _, frames, counts = feed("pms5003", hexdump(frames_dir / "PMSx003.hexdump"), chunk=7)
    want = rows(frames_dir / "PMSx003.csv")
    assert len(frames) == len(want) == 10 and counts["bad"] == counts["noise"] == 0
    for got, w in zip(frames, want):
        v = dict(zip(ch, got))
        assert [v["pm1_cf1"], v["pm25_cf1"], v["pm10_cf1"]] == [int(w["raw01"]), int(w["raw25"]), int(w["raw10"])]
        assert [v["pm1_atm"], v["pm25_atm"], v["pm10_atm"]] == [round(float(w[k])) for k in ("pm01", "pm25", "pm10")]
        # PyPMS divides the counts per 0.1 L by 100 (#/cm3); the driver keeps them as sent
        assert [v[k] for k in ("n0_3", "n0_5", "n1_0", "n2_5", "n5_0", "n10_0")] == \
            [round(float(w[k]) * 100) for k in ("n0_3", "n0_5", "n1_0", "n2_5", "n5_0", "n10_0")]


def test_pms5003_first_frame_matches_firmware_anchors(feed):
    # firmware-anchors.md section 5: CF=1 (0,8,8), ATM (0,8,8), counts 210/70/45/30/0/0, fw 0x97
    frame = bytes.fromhex("424d001c00000008000800000008000800d20046002d001e00000000970002c5")
    _, _, frames, _ = feed("pms5003", frame)
    assert frames == [[0, 8, 8, 0, 8, 8, 210, 70, 45, 30, 0, 0]]


def test_pms5003t_decodes_pypms_capture_temperature_and_humidity(feed, frames_dir):
    ch, sc, frames, counts = feed("pms5003t", hexdump(frames_dir / "PMS5003T.hexdump"), chunk=3)
    want = rows(frames_dir / "PMS5003T.csv")
    assert len(frames) == 10 and counts["bad"] == 0
    for got, w in zip(frames, want):
        v = {k: x / s for k, x, s in zip(ch, got, sc)}
        assert v["t_c"] == pytest.approx(float(w["temp"]), abs=1e-9)
        assert v["rh"] == pytest.approx(float(w["rhum"]), abs=1e-9)
        assert (v["pm25_cf1"], v["pm25_atm"]) == (float(w["raw25"]), float(w["pm25"]))
    assert (frames[0][1], frames[0][4]) == (39, 35)  # CF=1 differs from ATM (anchors 2.2)


def test_pms5003t_negative_temperature(feed):
    # FF 9C = -10.0 degC (firmware-anchors section 8.4); the frame is built with the PMS checksum
    words = [23, 39, 41, 22, 35, 41, 4104, 1193, 278, 12, 0xFF9C, 853, 0x9A00]
    _, sc, frames, _ = feed("pms5003t", pms_frame(words))
    assert frames[0][10] / sc[10] == -10.0 and frames[0][11] / sc[11] == 85.3


def test_sds011_decodes_pypms_capture(feed, frames_dir):
    _, sc, frames, counts = feed("sds011", hexdump(frames_dir / "SDS01x.hexdump"), chunk=4)
    want = rows(frames_dir / "SDS01x.csv")
    assert [[v / s for v, s in zip(f, sc)] for f in frames] == \
        [[float(w["pm25"]), float(w["pm10"])] for w in want]
    assert counts["frames"] == 10


@pytest.mark.parametrize("hex_, pm25, pm10", [
    # Tasmota PR #3749 log (firmware-anchors section 5)
    pytest.param("AA C0 2D 00 57 00 1D 76 17 AB", 4.5, 8.7, id="tasmota-log"),
    # PyPMS vector: checksum 1D is right; word-sum drivers reject it (anchors 4.5)
    pytest.param("AA C0 D4 04 3A 0A A1 60 1D AB", 123.6, 261.8, id="above-25.6-pypms"),
    # hand-built, passes the byte sum and fails the word sum (anchors 4.5)
    pytest.param("AA C0 23 01 50 01 58 D9 A6 AB", 29.1, 33.6, id="above-25.6-word-sum-trap"),
])
def test_sds011_frames_above_25_6(feed, hex_, pm25, pm10):
    _, sc, frames, _ = feed("sds011", bytes.fromhex(hex_))
    assert [v / s for v, s in zip(frames[0], sc)] == [pm25, pm10]


def sps30_payloads(data):
    """The 40-byte payloads of the MISO frames in a raw SHDLC stream (reference unstuffing)."""
    return [unstuff(part)[4:44] for part in data.split(b"\x7e") if len(unstuff(part)) == 45]


def test_sps30_decodes_pypms_stuffed_capture(feed, frames_dir):
    raw = hexdump(frames_dir / "SPS30.hexdump")
    assert b"\x7d\x33" in raw and b"\x7d\x5e" in raw  # the capture is byte-stuffed
    ch, sc, frames, counts = feed("sps30", raw, chunk=5)
    want = rows(frames_dir / "SPS30.csv")
    assert len(frames) == 10 and counts["bad"] == 0
    for got, payload, w in zip(frames, sps30_payloads(raw), want):
        floats = struct.unpack(">10f", payload)
        # fixed point x1024, rounded half up, from the exact float32 value
        assert got == [math.floor(f * 1024 + 0.5) for f in floats]
        v = {k: x / s for k, x, s in zip(ch, got, sc)}
        assert [round(v[k], 1) for k in ("pm1", "pm25", "pm4", "pm10")] == \
            [float(w[k]) for k in ("pm01", "pm25", "pm04", "pm10")]
        assert [v[k] for k in ("nc0_5", "nc1_0", "nc2_5", "nc4_0", "nc10_0")] == pytest.approx(
            [float(w[k]) for k in ("n0_5", "n1_0", "n2_5", "n4_0", "n10_0")], abs=0.006)
    first = {k: round(x / 1024, 2) for k, x in zip(ch, frames[0])}
    assert (first["pm1"], first["pm25"], first["pm4"], first["pm10"], first["typical_size"]) == \
        (5.23, 9.47, 12.65, 13.28, 0.83)  # firmware-anchors section 5


def test_sps30_single_pass_unstuffing_7d_5d_31_trap(feed):
    # A payload holding the bytes 7D 31 goes on the wire as 7D 5D 31. Unstuffing in one pass
    # gives 7D 31 back; replacing 7D 5D by 7D first and then 7D 31 by 11 gives 11 (wrong).
    payload = struct.pack(">10f", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.5)
    payload = payload[:4] + b"\x7d\x31\x00\x00" + payload[8:]  # PM2.5 = 0x7D310000 (~1.47e37)
    payload = payload[:4] + b"\x41\x7d\x31\x13" + payload[8:]   # 15.824... with 7D 31 and 13 in it
    wire = miso(0x03, 0, payload)
    assert b"\x7d\x5d\x31" in wire and b"\x7d\x33" in wire
    _, _, frames, counts = feed("sps30", wire)
    assert counts["frames"] == 1
    assert frames[0][1] == math.floor(struct.unpack(">f", b"\x41\x7d\x31\x13")[0] * 1024 + 0.5)


@pytest.mark.parametrize("floats, outcome", [
    pytest.param([1.5] * 10, "frame", id="plain"),
    pytest.param([0.0] * 10, "warming", id="all-zero-warming"),
    pytest.param([1.0, -2.0] + [1.0] * 8, "bad", id="negative"),
    pytest.param([1.0, float("nan")] + [1.0] * 8, "bad", id="nan"),
    pytest.param([1.0, float("inf")] + [1.0] * 8, "bad", id="infinity"),
    pytest.param([1.0, 2.0 ** 20] + [1.0] * 8, "bad", id="too-large"),
    pytest.param([1.0, 2.0 ** 20 - 1] + [1.0] * 8, "frame", id="largest"),
    pytest.param([1.0, 1e-30] + [1.0] * 8, "frame", id="tiny-is-zero"),
])
def test_sps30_float_payloads(feed, floats, outcome):
    _, _, frames, counts = feed("sps30", miso(3, 0, struct.pack(">10f", *floats)))
    got = "frame" if counts["frames"] else "warming" if counts["warming"] else "bad" if counts["bad"] else "?"
    assert got == outcome
    if frames:
        assert frames[0] == [math.floor(f * 1024 + 0.5) for f in floats]


# Published negative vectors: PyPMS tests/sensors/test_message.py (commit 45c3bf09), with the
# outcome each must have in the driver's counters. PyPMS feeds one message; the driver a stream.
NEGATIVE = [
    ("pms5003", "424d001c0005000d0016", "nothing", "PMSx003 short message"),
    ("pms5003", "424d00000005000d00160005000d001602fd00fc001d000f00060006970003a9", "nothing", "PMSx003 wrong header"),
    ("pms5003", "424d001c0005000d00160005000d001602fd00fc001d000f0006000697000000", "bad", "PMSx003 wrong checksum (0 != 965)"),
    ("pms5003", "424d001c000000000000000000000000000000000000000000000000000000ab", "warming", "PMSx003 empty message"),
    ("sds011", "AAC0D4041DAB", "nothing", "SDS01x short message"),
    ("sds011", "ABC0D4043A0AA1601DAA", "nothing", "SDS01x wrong header"),
    ("sds011", "AAC0D4043A0AA1601DAA", "bad", "SDS01x wrong tail"),
    ("sds011", "AAC0D4043A0AA16000AB", "bad", "SDS01x wrong checksum (0 != 29)"),
    ("sds011", "AAC000000000000000AB", "warming", "SDS01x empty message"),
    ("sps30", "7E00030028000000D47E", "bad", "SPS30 short message"),
    ("sps30", "7E00000000FF7E", "reply", "SPS30 wrong header (reply to start)"),
    ("sps30", "7E0003002800000000000000000000000000000000000000000000000000000000000000000000000000000000D477", "nothing", "SPS30 wrong tail"),
    ("sps30", "7E0003002800000000000000000000000000000000000000000000000000000000000000000000000000000000D07E", "bad", "SPS30 wrong checksum (208 != 212)"),
    ("sps30", "7E0003002800000000000000000000000000000000000000000000000000000000000000000000000000000000D47E", "warming", "SPS30 empty message"),
    ("sps30", "7E00000000FF7E7E00004300BC7E", "reply", "SPS30 command not allowed (state 0x43)"),
    ("sps30", "7E00000000FF7E7E00030000FC7E", "warming", "SPS30 no data"),
]


def outcome(counts):
    if counts["frames"]:
        return "frame"
    if counts["bad"]:
        return "bad"
    if counts["warming"]:
        return "warming"
    if counts["replies"]:
        return "reply"
    return "nothing"


@pytest.mark.parametrize("sensor, hex_, expected", [pytest.param(s, h, e, id=i) for s, h, e, i in NEGATIVE])
def test_published_negative_vectors_are_rejected(feed, sensor, hex_, expected):
    _, _, frames, counts = feed(sensor, bytes.fromhex(hex_))
    assert frames == [] and outcome(counts) == expected


def test_sps30_state_byte_is_kept(run_mpy):
    out = run_mpy(
        "from sim.replay import Replay\n"
        "from node.drivers.sps30 import SPS30\n"
        "p = Replay(bytearray(64)); d = SPS30(p, warmup_ms=0)\n"
        "p.load(bytes.fromhex('7E 00 03 43 00 B9 7E'.replace(' ', '')))\n"
        "print(d.poll(), d.state, d.replies, p.written)\n")
    # a read refused with 0x43 (measurement not started): state kept, START sent again
    assert out == ["False 67 1 " + str(8 + 7 + 8)]


def test_pms3003_frames_are_not_taken_for_pms5003(feed, frames_dir):
    _, _, frames, counts = feed("pms5003", hexdump(frames_dir / "PMS3003.hexdump"))
    assert frames == [] and counts["frames"] == 0


def test_interleaved_command_replies_are_skipped_and_counted(feed):
    # esphome issues #7040 / #13081: 8-byte replies 42 4D 00 04 ... between data frames
    data = bytes.fromhex("424d001c00000008000800000008000800d20046002d001e00000000970002c5")
    replies = [pms_frame([0xE100], 4), pms_frame([0xE401], 4), pms_frame([0xE100], 4)]
    assert replies[0].hex() == "424d0004e1000174"
    stream = replies[0] + data + replies[1]
    stream += data[:10] + replies[2] + data[10:]  # a reply cuts into a frame: that frame is lost,
    stream += replies[0] + data                   # the reply inside it is still found
    _, _, frames, counts = feed("pms5003", stream, chunk=3)
    assert len(frames) == 2 and counts["replies"] == 4 and counts["bad"] == 1


def test_sds011_replies_are_skipped(feed):
    from sim.sds011 import data_frame, reply_frame

    stream = reply_frame(7, 18, 11, 16, 0x58D9) + data_frame(123, 456, 0x58D9) + reply_frame(6, 1, 0, 0, 0x58D9)
    _, _, frames, counts = feed("sds011", stream)
    assert frames == [[123, 456]] and counts["replies"] == 2


def test_ze03_qa_reply_and_other_frames(feed):
    from sim.ze03 import ze03_frame

    # Winsen Q&A frame from the ZE07 manual (same frame family): FF 86 00 2A 00 00 00 20 30
    assert ze03_frame([0x86, 0x00, 0x2A, 0, 0, 0, 0x20]).hex() == "ff86002a00000020" + "30"
    stream = ze03_frame([0x2B, 2, 1, 0, 5, 0, 200]) + bytes.fromhex("ff86002a00000020 30".replace(" ", ""))
    stream += bytes.fromhex("ff86002a00000020 31".replace(" ", ""))  # wrong checksum
    _, _, frames, counts = feed("ze03", stream)
    assert frames == [[42 * 100]] and counts["replies"] == 1 and counts["bad"] == 1
    _, _, frames, _ = feed("ze03", stream, resolution_ppb=10)
    assert frames == [[420]]


@pytest.mark.parametrize("line, outcome_", [
    pytest.param(b"071421030446, 875, 23, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n", "frame", id="line"),
    pytest.param(b"071421030446, -12, -5, 91, 13000, 23956, 19605, 12, 23, 59, 59\r\n", "frame", id="negative"),
    pytest.param(b"071421030446, 875, 23, 19, 2111737, 23956, 19605\r\n", "bad", id="seven-fields"),
    pytest.param(b"071421030446, 875, 23, 19, 2111737, 23956, 19605, 00, 24, 02, 03\r\n", "bad", id="hour-24"),
    pytest.param(b"07142103044, 875, 23, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n", "bad", id="short-serial"),
    pytest.param(b"071421030446, 8 75, 23, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n", "bad", id="space-in-number"),
    pytest.param(b"071421030446, 875, 123, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n", "bad", id="t-out-of-range"),
    pytest.param(b"15SEP17\r\n", "reply", id="firmware-date"),
    pytest.param(b"nA_per_PPM_x100= 340\r\n", "reply", id="eeprom-line"),
    pytest.param(b"\xf3\x8aZ071421030446, 875, 23, 19, 2111737, 23956, 19605, 00, 01, 02, 03\r\n", "frame", id="after-garbage"),
])
def test_dgs_lines(feed, line, outcome_):
    _, _, frames, counts = feed("dgs", line, chunk=5)
    assert outcome(counts) == outcome_
    if outcome_ == "frame":
        n = [int(x) for x in line.split(b"Z")[-1].split(b",")[1:4]]
        assert frames == [n]
