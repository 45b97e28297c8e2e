# Winsen ZE03-SO2 simulator (UART peer for machine.attach_uart), question-and-answer mode.
#
#     from sim.ze03 import ZE03Sim
#     machine.attach_uart(2, ZE03Sim(scenario, resolution_ppb=100))
#
# ZE03Sim(scenario, faults=None, resolution_ppb=100, period_ms=1000)
# Starts in active-upload mode (frames FF 2B 02 DEC CONC FULL CS every second; layout UNVERIFIED,
# see the driver); FF 01 78 04 ... switches to Q&A, where FF 01 86 ... is answered with
# FF 86 CONC_H CONC_L 00 00 00 00 CS. CS = two's complement of the sum of bytes 1..7.
# Physics: the module reports SO2 in counts of resolution_ppb (0.1 ppm by default) after its own
# temperature compensation; here the count is round(true ppb * (1 + noise) / resolution), never
# below 0 (the module clips), at most 20 ppm (its range).
from .uart import UartSim, take

_FULL_PPM = 20


def ze03_frame(b7):
    return bytes([0xFF] + list(b7) + [(-sum(b7)) & 0xFF])


class ZE03Sim(UartSim):
    PAYLOAD = (2, 4)

    def __init__(self, scenario, faults=None, resolution_ppb=100, period_ms=1000):
        UartSim.__init__(self, scenario, faults, period_ms)
        self.resolution_ppb = resolution_ppb
        self.qa = False

    def _reading(self, t):
        sc = self.scenario
        ppb = sc.jitter(self.noise_rand, sc.value("so2_ppb", t))
        return [min(_FULL_PPM * 1000 // self.resolution_ppb, round(ppb / self.resolution_ppb))]

    def _frame(self, v):
        c = v[0]
        if self.qa:
            return ze03_frame([0x86, c >> 8, c & 0xFF, 0, 0, 0, 0])
        dec = {1: 3, 10: 2, 100: 1}.get(self.resolution_ppb, 0)
        full = _FULL_PPM * 10 ** dec
        return ze03_frame([0x2B, 0x02, dec, c >> 8, c & 0xFF, full >> 8, full & 0xFF])

    def _reply(self):
        return ze03_frame([0x78, 0x01, 0, 0, 0, 0, 0])

    def _command(self, data):
        n, c = take(data, b"\xff\x01", 9)
        if c is None:
            return n
        if (-sum(c[1:8])) & 0xFF != c[8]:
            return 1
        self.heard.append(c)
        if c[2] == 0x78:
            self.qa = c[3] == 0x04
            self.active = not self.qa
        elif c[2] == 0x86 and self.qa:
            self.emit()
        return 9
