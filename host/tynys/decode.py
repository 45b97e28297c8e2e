"""Decode a captured sensor byte stream with the firmware's own drivers, run by the MicroPython
unix port (``tynys decode`` is a thin command over this module)::

    from tynys import decode
    result = decode.decode("pms5003", decode.read_capture("capture.bin"))
    for frame in result.frames: print(frame)          # {"pm1_cf1": 0, "pm25_cf1": 8, ...}
    print(result.summary)                             # {"frames": 10, "rejected": 0}

A capture is raw bytes (``.bin`` or anything else), ``time,sensor,hex`` rows as PyPMS writes
them (``.csv``; frames then carry the row's ``time``), or an ``xxd``-style ``.hexdump``.
Values are in the sensor's own units: PMS counts per 0.1 L as sent, SPS30 #/cm3 and um.
"""

from __future__ import annotations

import csv
import io
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from . import firmware, sensortypes
from .errors import TynysError

# `tynys decode --sensor` names (every UART type of the sensor type table) -> the PyPMS sensor
# names a capture may carry for them.
SENSORS = {name: tuple(sensortypes.entry(name)["captures"]) for name in sensortypes.names(bus="uart")}
_PIECE = 4096  # bytes per record sent to the unix port
# decimals printed for a channel with this scale (the fixed-point step, rounded to decimals)
_DECIMALS = {1: 0, 10: 1, 100: 2, 1024: 3}


class DecodeError(TynysError):
    """The capture or the sensor name cannot be decoded."""


@dataclass
class Decoded:
    frames: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)  # frames bad replies warming missing noise
    checksums: list[dict] = field(default_factory=list)  # frames that failed it: computed vs sent sum

    @property
    def summary(self) -> dict:
        return {"frames": self.counts["frames"],
                "rejected": self.counts["bad"] + self.counts["warming"]}


def parse_hex(text: str) -> bytes:
    """Bytes from hex text: "42 4D 00 1C", "424d001c", "0x42,0x4d" all work."""
    cleaned = re.sub(r"0[xX]|[\s,:;]", "", text)
    bad = re.search(r"[^0-9a-fA-F]", cleaned)
    if bad:
        raise DecodeError(f"--hex: {bad.group()!r} is not a hex digit; give bytes like \"42 4D 00 1C\"")
    if len(cleaned) % 2:
        raise DecodeError(f"--hex: {len(cleaned)} hex digits is an odd number; every byte needs two digits")
    return bytes.fromhex(cleaned)


def _xxd(text: str) -> bytes:
    out = bytearray()
    for line in text.splitlines():
        m = re.match(r"\s*[0-9a-fA-F]+:\s+((?:[0-9a-fA-F]{2}\s?)+)", line)
        if m:
            out += bytes.fromhex(m.group(1).replace(" ", ""))
    return bytes(out)


_HEXTEXT = re.compile(rb"(?:\s|0[xX]|[0-9a-fA-F]|[,:;])+")


def capture_kind(path: str | Path, data: bytes, sensor: str | None = None) -> str:
    """What a capture is: "hexdump" (xxd), "csv" (PyPMS time,sensor,hex), "hex text" (bytes
    written out as hex, e.g. piped from a log) or "raw". A sensor that speaks ASCII lines (DGS)
    sends text that can look like hex: its captures are raw."""
    path = Path(path)
    if path.suffix == ".hexdump":
        return "hexdump"
    if path.suffix == ".csv" or data.startswith(b"time,sensor,hex"):
        return "csv"
    ascii_sensor = sensor is not None and sensortypes.types().get(sensor, {}).get("ascii")
    if data.strip() and not ascii_sensor and _HEXTEXT.fullmatch(data):
        return "hex text"
    return "raw"


def read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise DecodeError(f"cannot read the capture {path}: {e.strerror}") from None


def read_capture(path: str | Path, sensor: str | None = None, data: bytes | None = None) -> list[tuple]:
    """The records of a capture file: [(time or None, bytes)], one per CSV row of `sensor`."""
    path = Path(path)
    if data is None:
        data = read_bytes(path)
    what = capture_kind(path, data, sensor)
    if what == "hexdump":
        return [(None, _xxd(data.decode(errors="replace")))]
    if what == "hex text":
        try:
            return [(None, parse_hex(data.decode()))]
        except DecodeError as e:
            raise DecodeError(f"{path} looks like hex text but {str(e).removeprefix('--hex: ')}; or give the "
                              f"bytes with --hex \"42 4D ...\"") from None
    if what == "raw":
        return [(None, data)]
    rows = list(csv.DictReader(io.StringIO(data.decode(errors="replace"))))
    if rows and not {"time", "sensor", "hex"} <= set(rows[0]):
        raise DecodeError(f"{path}: a CSV capture needs the columns time,sensor,hex (as PyPMS writes them)")
    names = {n.lower() for n in SENSORS.get(sensor, ())} | {str(sensor).lower()}
    out = []
    for i, row in enumerate(rows, 2):
        if sensor is not None and row["sensor"].strip().lower() not in names:
            continue
        try:
            out.append((int(float(row["time"])), bytes.fromhex(row["hex"].strip())))
        except ValueError:
            raise DecodeError(f"{path} line {i}: {row['hex'][:20]!r} is not hex") from None
    if rows and not out:
        found = ", ".join(sorted({r["sensor"] for r in rows}))
        raise DecodeError(f"{path} has no rows for {sensor} (it has {found}); pick --sensor to match")
    return out


def run_firmware(sensor: str, records: list[bytes], chunk: int = 0, seed: int = 1,
                 options: dict | None = None, heap: str = "256K", timeout: float = 600):
    """Feed records to the driver on the unix port; returns (channels, scales, frames, counts)
    with frames as (record index, [raw ints])."""
    stdin = b"".join(struct.pack(">I", len(r)) + r for r in records)
    argv = [sensor, f"chunk={chunk}", f"seed={seed}"] + [f"{k}={v}" for k, v in (options or {}).items()]
    proc = firmware.run(code=f"import decode; decode.main({argv!r})", stdin=stdin, heap=heap,
                        timeout=timeout)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace") + proc.stdout.decode(errors="replace")[-1500:]
        last = [l for l in err.strip().splitlines() if l.strip()][-1:] or ["(no output)"]
        if "ValueError:" in last[0]:
            raise DecodeError(last[0].split("ValueError:", 1)[1].strip())
        raise firmware.FirmwareError(f"the decoder failed on the unix port:\n{err}")
    channels = scales = None
    frames, counts, sums = [], None, []
    for line in proc.stdout.decode().splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "H":
            ch, sc = rest.split()
            channels, scales = ch.split(","), [int(s) for s in sc.split(",")]
        elif kind == "F":
            parts = rest.split()
            frames.append((int(parts[0]), [int(v) for v in parts[1:]]))
        elif kind == "B":  # a frame whose checksum failed: record, computed sum, the frame's sum
            sums.append(tuple(int(v) for v in rest.split()))
        elif kind == "C":
            counts = dict(zip(("frames", "bad", "replies", "warming", "missing", "noise"),
                              (int(v) for v in rest.split())))
    counts["sums"] = sums
    return channels, scales, frames, counts


def decode(sensor: str, records: list[tuple], options: dict | None = None) -> Decoded:
    """Decode capture records [(time or None, bytes)] for `sensor` (a SENSORS name)."""
    if sensor not in SENSORS:
        raise DecodeError(f"unknown sensor {sensor!r}; use one of {', '.join(SENSORS)}")
    # the unix port's heap is capped: a long capture goes in pieces (the driver keeps its state)
    records = [(t, r[i:i + _PIECE]) for t, r in records for i in range(0, max(len(r), 1), _PIECE)]
    channels, scales, frames, counts = run_firmware(sensor, [r for _, r in records], options=options)
    out = Decoded(counts=counts)
    out.checksums = [{**({"time": records[rec][0]} if records[rec][0] is not None else {}), "computed": want, "sent": got}
                     for rec, want, got in counts.pop("sums")]
    for rec, raw in frames:
        row = {}
        t = records[rec][0]
        if t is not None:
            row["time"] = t
        for name, scale, v in zip(channels, scales, raw):
            row[name] = v if scale == 1 else round(v / scale, _DECIMALS.get(scale, 3))
        out.frames.append(row)
    return out
