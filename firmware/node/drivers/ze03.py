# Winsen ZE03-SO2 electrochemical module (UART 9600 8N1), read in question-and-answer mode.
#
#     from node.drivers.ze03 import ZE03
#     so2 = ZE03(2, tx=26, rx=25)               # switches the module to Q&A mode
#     time.sleep_ms(so2.start()); so2.poll()
#     print(so2.values[0], "ppb")
#
# Frames are 9 bytes: FF, 7 bytes, CS with CS = (~sum(bytes 1..7) + 1) & 0xFF (two's complement).
# Q&A read:  FF 01 86 00 00 00 00 00 79  ->  reply FF 86 CONC_H CONC_L xx xx xx xx CS,
# concentration = CONC_H * 256 + CONC_L counts of `resolution_ppb`.
# ASSUMPTIONS (partly UNVERIFIED, see firmware-anchors 4.4a; bench-test with real hardware):
# - the Q&A reply layout above (guillaumechardin/MH411D and uRADMonitor drv_ze03 read bytes 2-3);
# - the resolution: Winsen's ZE03 table and MH411D give SO2 in 0.1 ppm steps (100 ppb, the
#   default); uRADMonitor uses 0.01 ppm -- pass resolution_ppb=10 for such a module;
# - mode bytes FF 01 78 04 (Q&A) / 03 (active upload) as in MH411D; other valid frames
#   (active-upload frames sent before the switch took effect) are counted in `replies`;
# - warm-up: 3 minutes. The module has no sleep command.
from micropython import const

from .base import FrameSensor

_READ_REPLY = const(0x86)

QA_MODE = b"\xff\x01\x78\x04\x00\x00\x00\x00\x83"
ACTIVE_MODE = b"\xff\x01\x78\x03\x00\x00\x00\x00\x84"
READ = b"\xff\x01\x86\x00\x00\x00\x00\x00\x79"


class ZE03(FrameSensor):
    TYPE = "ze03"
    MODELS = ("ze03-so2",)
    CHANNELS = ("so2_ppb",)
    SCALE = (1,)
    WARMUP_MS = 180000
    FRAME = 9

    def __init__(self, bus, model=None, *, resolution_ppb=100, tx=None, rx=None, warmup_ms=None):
        from . import bus as _bus  # only while constructing: a node unloads it after boot
        model = _bus.choose(self.TYPE, "model", model or "ze03-so2", self.MODELS)
        self.resolution_ppb = _bus.choose(self.TYPE, "resolution_ppb", resolution_ppb, (1, 10, 100))
        FrameSensor.__init__(self, bus, model, tx, rx, warmup_ms)
        self.configure()

    def configure(self):
        self._send(QA_MODE)

    def start(self):
        self._request()
        self._send(READ)
        return 100

    def _need(self, f, k):
        if f[0] != 0xFF:
            return -1
        return 9 if k >= 9 else 0

    def _accept(self, f, n):
        s = 0
        for i in range(1, 8):
            s += f[i]
        if (-s) & 0xFF != f[8]:
            if self.on_checksum is not None:
                self.on_checksum((-s) & 0xFF, f[8])
            return -1
        if f[1] != _READ_REPLY:
            self.replies += 1
            return 0
        if self._warming():
            return 0
        self.values[0] = (f[2] << 8 | f[3]) * self.resolution_ppb
        return 1 if self._take() else 0
