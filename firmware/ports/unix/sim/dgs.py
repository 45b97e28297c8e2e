# SPEC Sensors DGS-SO2 simulator (UART peer for machine.attach_uart), ASCII lines.
#
#     from sim.dgs import DGSSim
#     machine.attach_uart(2, DGSSim(scenario, serial="071421030446"))
#
# DGSSim(scenario, faults=None, serial="071421030446", period_ms=1000)
# "\r" answers one line; "c" toggles continuous output (one line per period); "s" sleeps (the
# next byte only wakes it); "f" answers the firmware date "15SEP17"; "e" the EEPROM dump (text
# lines); "r" resets. A line: SN, PPB, T, RH, RawSensor, TempDigital, RHDigital, Day, Hour,
# Minute, Second (time since power-up), "\r\n" at the end (layout per SPEC DG-SDK-968-045 as
# used by teusH/MySense; UNVERIFIED for DGS-SO2, like the driver).
# Physics: PPB = true SO2 with the scenario noise, rounded (negative allowed: the zeroed sensor
# reads around 0); T and RH of the scenario, rounded; RawSensor = ADC zero 13035 + 3.4 counts
# per ppb (nA_per_PPM_x100 = 340 in the MySense EEPROM example); TempDigital/RHDigital as the
# on-board SHT-type sensor would report them (x * 65536 scaled), only for shape.
from .uart import UartSim

EEPROM = (b"EEPROM Values\r\n", b"nA_per_PPM_x100= 340\r\n", b"ADC_Zero= 13035\r\n",
          b"Gas= SO2\r\n")


class DGSSim(UartSim):
    PAYLOAD = None  # no checksum: the `bad` fault does not apply

    def __init__(self, scenario, faults=None, serial="071421030446", period_ms=1000):
        UartSim.__init__(self, scenario, faults, period_ms)
        self.serial = serial
        self.active = False
        self._boot = self.scenario.clock()

    def _reading(self, t):
        sc = self.scenario
        r = self.noise_rand
        ppb = round(sc.value("so2_ppb", t) * (1 + sc.noise * r.gauss()) + sc.wobble(r, 2))
        return [ppb, round(sc.value("t_c", t)), round(sc.value("rh", t)), (t - self._boot) // 1000000]

    def _frame(self, v):
        ppb, t, rh, s = v  # s: seconds since power-up when it measured
        raw = 13035 + round(3.4 * ppb)
        td = round((t + 45) * 65536 / 175)
        hd = round(rh * 65536 / 100)
        return ("%s, %d, %d, %d, %d, %d, %d, %02d, %02d, %02d, %02d\r\n" % (
            self.serial, ppb, t, rh, raw, td, hd, s // 86400 % 100, s // 3600 % 24,
            s // 60 % 60, s % 60)).encode()

    def _reply(self):
        return b"15SEP17\r\n"

    def _command(self, data):
        c = data[0]
        if self.asleep:
            self.asleep = False
            return 1
        self.heard.append(bytes([c]))
        if c == 0x0D:
            self.emit()
        elif c == ord("c"):
            self.active = not self.active
        elif c == ord("s"):
            self.asleep = True
        elif c == ord("f"):
            self.send(b"15SEP17\r\n")
        elif c == ord("e"):
            for line in EEPROM:
                self.send(line)
        elif c in (ord("r"), ord("R")):
            self.active = False
            self._boot = self.scenario.clock()
        return 1
