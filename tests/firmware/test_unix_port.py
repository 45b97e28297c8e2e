"""The unix-port shims the virtual node stands on: virtual time and machine peripherals."""

import pytest

pytestmark = pytest.mark.firmware


def test_virtual_time_runs_a_day_instantly_and_ticks_wrap_like_the_esp32(mpy):
    out = mpy(
        "import time\n"
        "t0 = time.time(); k0 = time.ticks_ms()\n"
        "for _ in range(24 * 60): time.sleep(60)\n"
        "print(time.time() - t0, time.ticks_diff(time.ticks_ms(), k0), time.ticks_ms() < (1 << 30))\n"
        "print(time.ticks_diff(time.ticks_add((1 << 30) - 5, 10), (1 << 30) - 5))\n",
        extra_env={"TYNYS_VTIME_START": "1795813200"},
    )
    day, diff, in_range = out.stdout.split()[:3]
    assert int(day) == 86400 and int(diff) == 86400000 and in_range == b"True"
    assert out.stdout.split()[3] == b"10"


def test_ticks_add_refuses_a_delta_ticks_diff_could_not_give_back_as_on_the_chip(mpy):
    # extmod/modtime.c: |delta| >= TICKS_PERIOD/2 (2**29 on an ESP32) raises OverflowError
    out = mpy(
        "import time\n"
        "for d in (2**29 - 1, -(2**29 - 1), 2**29, -(2**29), 10 * 2**29):\n"
        "    try:\n"
        "        t = time.ticks_add(5, d); print(time.ticks_diff(t, 5) == d)\n"
        "    except OverflowError as e:\n"
        "        print('OverflowError', e)\n")
    assert out.stdout.decode().splitlines() == ["True", "True"] + ["OverflowError ticks interval overflow"] * 3


def test_machine_rejects_pins_an_esp32_does_not_have(mpy):
    out = mpy(
        "import machine\n"
        "for kw in ({'tx': 99, 'rx': 16}, {'tx': 35, 'rx': 16}, {'tx': 17, 'rx': 20}):\n"
        "    try:\n"
        "        machine.UART(1, tx=kw['tx'], rx=kw['rx']); print('ok')\n"
        "    except ValueError as e:\n"
        "        print('ValueError', e)\n"
    )
    assert out.stdout.decode().splitlines() == [
        "ValueError invalid pin", "ValueError pin can only be input", "ValueError invalid pin"]


def test_uart_and_i2c_reach_their_attached_peers(mpy):
    out = mpy(
        "import machine\n"
        "class Echo:\n"
        "    def __init__(self): self.q = bytearray()\n"
        "    def any(self): return len(self.q)\n"
        "    def write(self, b): self.q.extend(b)\n"
        "    def readinto(self, buf, n):\n"
        "        n = min(n, len(self.q)); buf[:n] = self.q[:n]; self.q = self.q[n:]; return n\n"
        "machine.attach_uart(1, Echo())\n"
        "u = machine.UART(1, 9600, tx=17, rx=16)\n"
        "print(u.read(), u.write(b'abc'), u.read())\n"
        "class Reg:\n"
        "    def __init__(self): self.last = b''\n"
        "    def i2c_write(self, buf, n): self.last = bytes(buf[:n])\n"
        "    def i2c_read_into(self, buf, n): buf[0] = self.last[0] + 1\n"
        "machine.attach_i2c(0, 0x44, Reg())\n"
        "i2c = machine.I2C(0, scl=22, sda=21)\n"
        "print(i2c.scan(), i2c.readfrom_mem(0x44, 0x10, 1))\n"
        "try:\n"
        "    i2c.readfrom(0x45, 1)\n"
        "except OSError as e:\n"
        "    print('OSError', e.errno)\n"
    )
    assert out.stdout.decode().splitlines() == ["None 3 b'abc'", "[68] b'\\x11'", "OSError 19"]
