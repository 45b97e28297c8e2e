# Driver benchmark body, run on the MicroPython unix port by bench/bench_drivers.py.
# stdin: JSON {sensor: frame hex}. For each driver, in steady state: heap bytes allocated per
# parsed frame (gc disabled, allocation of 2N frames minus N frames, so fixed costs cancel), the
# same for a naive parse (uart.read + slicing + struct.unpack, floats), and frames per second.
# Prints "sensor metric value" lines.
import gc
import json
import struct
import sys

import machine
import utime  # the real clock (the unix-port time shim is virtual)
from node import drivers
from sim.bme280 import CALIBRATION, registers
from sim.replay import Registers, Replay

N = 300
SPEED_N = 3000
spec = json.loads(sys.stdin.read())


def allocated(fn, n):
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    fn(n)
    b = gc.mem_alloc()
    gc.enable()
    return b - a


def per_frame(fn):
    fn(5)  # warm: first-frame work (identity strings) is not steady state
    return (allocated(fn, 2 * N) - allocated(fn, N)) / N


def speed(fn):
    t = utime.ticks_us()
    fn(SPEED_N)
    return SPEED_N * 1000000 // max(1, utime.ticks_diff(utime.ticks_us(), t))


def report(sensor, drv, naive):
    print(sensor, "alloc", per_frame(drv))
    print(sensor, "naive_alloc", per_frame(naive))
    print(sensor, "fps", speed(drv))
    print(sensor, "naive_fps", speed(naive))


# -- naive parsers: what a straightforward MicroPython driver does -----------------------------
def naive_pms(u, n):
    for _ in range(n):
        f = u.read(32)
        if f[0:2] == b"BM" and sum(f[0:30]) == struct.unpack(">H", f[30:32])[0]:
            struct.unpack(">13H", f[4:30])


def naive_sds(u, n):
    for _ in range(n):
        f = u.read(10)
        if f[0:2] == b"\xaa\xc0" and sum(f[2:8]) & 0xFF == f[8]:
            pm25, pm10 = struct.unpack("<HH", f[2:6])
            (pm25 / 10, pm10 / 10)


def naive_sps30(u, n, size):
    for _ in range(n):
        f = u.read(size)[1:-1]
        body = f.replace(b"\x7d\x5e", b"\x7e").replace(b"\x7d\x5d", b"\x7d") \
            .replace(b"\x7d\x31", b"\x11").replace(b"\x7d\x33", b"\x13")
        if (sum(body) & 0xFF) == 0xFF:
            struct.unpack(">10f", body[4:44])


def naive_ze03(u, n):
    for _ in range(n):
        f = u.read(9)
        if f[0:2] == b"\xff\x86" and (-sum(f[1:8])) & 0xFF == f[8]:
            struct.unpack(">H", f[2:4])[0] * 0.1


def naive_dgs(u, n, size):
    for _ in range(n):
        [int(x) for x in u.read(size).decode().strip().split(",")]


def naive_sht3x(i2c, n):
    for _ in range(n):
        i2c.writeto(0x44, b"\x24\x00")
        t, _, h, _ = struct.unpack(">HBHB", i2c.readfrom(0x44, 6))
        (-45 + 175 * t / 65535, 100 * h / 65535)


def naive_bme280(i2c, n):
    c = CALIBRATION
    for _ in range(n):
        i2c.writeto_mem(0x76, 0xF4, b"\x25")
        d = i2c.readfrom_mem(0x76, 0xF7, 8)
        adc_t = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4)
        v1 = (adc_t / 16384.0 - c["T1"] / 1024.0) * c["T2"]
        v2 = (adc_t / 131072.0 - c["T1"] / 8192.0) ** 2 * c["T3"]
        (v1 + v2) / 5120.0


def naive_isb(i2c, n):
    for _ in range(n):
        mv = []
        for ch in (0, 1):
            i2c.writeto_mem(0x48, 1, struct.pack(">H", 0xC383 | ch << 12))
            mv.append(struct.unpack(">h", i2c.readfrom_mem(0x48, 0, 2))[0] * 0.0625)


# -- drivers ---------------------------------------------------------------------------------------
def uart_case(sensor, frame):
    buf = bytearray(frame * (2 * N + 5))
    peer = Replay(buf)
    peer.n = len(buf)
    machine.attach_uart(1, peer)
    u = machine.UART(1)
    d = drivers.create(sensor, u, warmup_ms=0)

    def drv(n):
        peer.pos = 0
        peer.n = n * len(frame)
        while d.poll():
            pass

    def naive(n):
        peer.pos = 0
        peer.n = n * len(frame)
        if sensor.startswith("pms"):
            naive_pms(u, n)
        elif sensor == "sds011":
            naive_sds(u, n)
        elif sensor == "sps30":
            naive_sps30(u, n, len(frame))
        elif sensor == "ze03":
            naive_ze03(u, n)
        else:
            naive_dgs(u, n, len(frame))

    # speed runs need SPEED_N frames in the buffer
    big = bytearray(frame * SPEED_N)
    peer.buf = big
    drv(SPEED_N // 10)
    fps = speed(drv)
    nfps = speed(naive)
    peer.buf = buf
    print(sensor, "alloc", per_frame(drv))
    print(sensor, "naive_alloc", per_frame(naive))
    print(sensor, "fps", fps)
    print(sensor, "naive_fps", nfps)
    if d.frames < SPEED_N or d.bad:
        print(sensor, "error", d.frames, d.bad)


def i2c_case(sensor):
    if sensor == "sht3x":
        from sim.sht3x import words

        peer, addr = Registers(words(0x6666, 0x8000), fixed=True), 0x44
    elif sensor == "bme280":
        r = registers(CALIBRATION)
        t, p, h = 519888, 415148, 30000
        r[0xF7:0xFF] = bytes([p >> 12, (p >> 4) & 0xFF, (p & 15) << 4, t >> 12, (t >> 4) & 0xFF,
                              (t & 15) << 4, h >> 8, h & 0xFF])
        peer, addr = Registers(r), 0x76
    else:
        peer, addr = Registers(bytearray(8), width=2, writable=True), 0x48
    machine.attach_i2c(0, addr, peer)
    i2c = machine.I2C(0)
    d = drivers.create(sensor, i2c, warmup_ms=0)

    def drv(n):
        for _ in range(n):
            d.start()
            while not d.poll():
                pass

    def naive(n):
        {"sht3x": naive_sht3x, "bme280": naive_bme280, "isb": naive_isb}[sensor](i2c, n)

    report(sensor, drv, naive)


for s, h in spec.items():
    uart_case(s, bytes.fromhex(h))
for s in ("sht3x", "bme280", "isb"):
    i2c_case(s)
