# Sensirion SPS30 simulator over UART/SHDLC (peer for machine.attach_uart), firmware 2.2.
#
#     from sim.sps30 import SPS30Sim
#     machine.attach_uart(1, SPS30Sim(scenario, serial="E4E2B8E1C2B0A1B1"))
#
# SPS30Sim(scenario, faults=None, serial="9A1B2C3D4E5F6071", unit=None)
# Query-driven like the sensor: it answers each MOSI frame 7E 00 CMD LEN DATA CHK 7E with
# 7E 00 CMD STATE LEN DATA CHK 7E, byte-stuffed (7E 7D 11 13 -> 7D 5E/5D/31/33). Commands:
# start (00, float output), stop (01), read measured values (03: 40 bytes, or LEN 0 when no new
# value since the last read; STATE 0x43 when not measuring), sleep (10, only when idle) and wake
# (11: the UART is off while asleep, the first byte only wakes it), fan cleaning (56), device
# info (D0: 00 product type, 03 serial), firmware version (D1), status register (D2), reset (D3).
# A new measurement is ready every second after start.
# Physics: host/tynys/sim/models/sps30.json (sources there): true dry PM2.5 x this unit's gain x
# the particles' growth with water above the deliquescence RH, plus its offset; PM1, PM4 and PM10
# from the fine mode as the sensor estimates them (Kuula et al. 2020). `unit`: this unit's
# parameters (the median unit's, DEFAULTS, where not given). Number concentrations and typical
# size follow PyPMS's SPS30 capture (frame 1: PM 5.23/9.47/12.65/13.28, NC0.5 26.3, NC1 37.0,
# NC2.5 41.5, NC4 42.4, NC10 42.5 #/cm3, 0.83 um): NC0.5 = 5.03 PM1, NC1 = 7.07 PM1, NC2.5 =
# NC1 + 1.1 (PM2.5 - PM1), NC4 = NC2.5 + 0.28 (PM4 - PM2.5), NC10 = NC4 + 0.04 (PM10 - PM4);
# typical size 0.3 + 0.21 PM10/PM1 um (0.3..3).
import struct

from .aerosol import growth, unit as _unit
from .scenario import DEFAULT_NOISE
from .uart import UartSim

# The median unit of host/tynys/sim/models/sps30.json (a test keeps the two equal).
DEFAULTS = {"gain": 1.0, "offset": 0.0, "kappa": 0.3, "rh_deliquescence": 72.5, "pm1_fraction": 0.55,
            "pm10_extrapolation": 1.2, "coarse_detection": 0.1, "noise_rel": 0.03, "noise_abs": 0.3}

_STUFF = {0x7E: 0x5E, 0x7D: 0x5D, 0x11: 0x31, 0x13: 0x33}


def stuff(body):
    out = bytearray()
    for b in body:
        if b in _STUFF:
            out.append(0x7D)
            out.append(_STUFF[b])
        else:
            out.append(b)
    return out


def miso(cmd, state, data=b""):
    """A MISO frame as it goes on the wire (checksum over ADR..DATA, then stuffed)."""
    body = bytes([0, cmd, state, len(data)]) + bytes(data)
    return bytes(b"\x7e" + stuff(body + bytes([~sum(body) & 0xFF])) + b"\x7e")


def unstuff(raw):
    out = bytearray()
    esc = False
    for b in raw:
        if esc:
            out.append(b ^ 0x20)
            esc = False
        elif b == 0x7D:
            esc = True
        else:
            out.append(b)
    return bytes(out)


class SPS30Sim(UartSim):
    PAYLOAD = (5, -2)

    def __init__(self, scenario, faults=None, serial="9A1B2C3D4E5F6071", unit=None):
        UartSim.__init__(self, scenario, faults, 1000)
        self.unit = _unit(DEFAULTS, unit)
        self.active = False  # answers only
        self.serial = serial
        self.measuring = False
        self.uart_off = False
        self.fresh = False
        self._since = 0

    def _fresh(self):
        if self.measuring and self.scenario.clock() - self._since >= 1000000:
            self.fresh = True

    def _reading(self, t):
        sc = self.scenario
        u = self.unit
        r = self.noise_rand
        pm25 = sc.value("pm25", t)
        coarse = sc.value("pm10", t) - pm25
        g = u["gain"] * growth(sc.value("rh", t), u["kappa"], u["rh_deliquescence"])
        f = sc.noise / DEFAULT_NOISE
        fine = g * pm25 + u["offset"]
        fine = fine * (1.0 + u["noise_rel"] * f * r.gauss()) + u["noise_abs"] * f * r.gauss()
        fine = fine if fine > 0 else 0.0
        pm1 = fine * u["pm1_fraction"]
        pm10 = fine * u["pm10_extrapolation"] + g * u["coarse_detection"] * (coarse if coarse > 0 else 0.0)
        pm4 = fine + 0.83 * (pm10 - fine)
        n05 = 5.03 * pm1
        n1 = 7.07 * pm1
        n25 = n1 + 1.1 * (fine - pm1)
        n4 = n25 + 0.28 * (pm4 - fine)
        n10 = n4 + 0.04 * (pm10 - pm4)
        size = min(3.0, 0.3 + 0.21 * pm10 / pm1) if pm1 > 0 else 0.3
        return [pm1, fine, pm4, pm10, n05, n1, n25, n4, n10, size]

    def _frame(self, v):
        return miso(0x03, 0, struct.pack(">10f", *v))

    def _reply(self):
        return miso(0xD1, 0, bytes([2, 2, 0, 7, 0, 3, 0]))

    def _command(self, data):
        if self.uart_off:  # a sleeping SPS30's UART is off: the first byte only switches it on
            self.uart_off = False
            return 1
        i = data.find(b"\x7e")
        if i:
            return i if i > 0 else len(data)
        j = data.find(b"\x7e", 1)
        if j < 0:
            return 0
        body = unstuff(data[1:j])
        if len(body) < 4 or sum(body) & 0xFF != 0xFF or body[2] != len(body) - 4:
            return j  # not a frame: its closing 7E may open the next one
        if self.asleep and body[1] != 0x11:
            self.uart_off = True  # asleep, only wake-up is accepted: the interface sleeps again
            return j + 1
        self.heard.append(bytes(data[:j + 1]))
        self._answer(body[1], body[3:-1])
        return j + 1

    def _answer(self, cmd, arg):
        self._fresh()
        if cmd == 0x00:
            ok = not self.measuring and arg == b"\x01\x03"
            if ok:
                self.measuring = True
                self._since = self.scenario.clock()
            self.send(miso(0, 0 if ok else 0x43))
        elif cmd == 0x01:
            self.measuring = False
            self.fresh = False
            self.send(miso(1, 0))
        elif cmd == 0x03:
            if not self.measuring:
                self.send(miso(3, 0x43))
            elif self.fresh:
                self.fresh = False
                self._since = self.scenario.clock()
                self.emit()
            else:
                self.send(miso(3, 0))  # no new value yet
        elif cmd == 0x10:
            if self.measuring:
                self.send(miso(0x10, 0x43))
            else:
                self.send(miso(0x10, 0))
                self.uart_off = True
                self.asleep = True
        elif cmd == 0x11:
            self.asleep = False
            self.send(miso(0x11, 0))
        elif cmd == 0x56:
            self.send(miso(0x56, 0 if self.measuring else 0x43))
        elif cmd == 0xD0:
            text = self.serial if arg == b"\x03" else "00080000"
            self.send(miso(0xD0, 0, text.encode() + b"\x00"))
        elif cmd == 0xD1:
            self.send(miso(0xD1, 0, bytes([2, 2, 0, 7, 0, 3, 0])))
        elif cmd == 0xD2:
            self.send(miso(0xD2, 0, bytes(5)))
        elif cmd == 0xD3:
            self.measuring = False
            self.send(miso(0xD3, 0))
        else:
            self.send(miso(cmd, 0x02))  # unknown command
