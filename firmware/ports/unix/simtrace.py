# Tracing for the virtual node's sensor link (simlink.py), for tests: with
# TYNYS_SIMLINK_TRACE=<file>, every bus call the firmware makes is written there, one line each:
# its world time [us], the call, the bus (UART) or address (I2C), and what the firmware got.
# tests/firmware/test_simlink.py compares the fast path and the chatty one with it.
import os
import time

from simlink import _I2c, _Uart

_f = open(os.getenv("TYNYS_SIMLINK_TRACE"), "a")


def _trace(what, where, got):
    _f.write("%d %s %d %s\n" % (time.world_us(), what, where, got))


class Uart(_Uart):
    def any(self):
        n = _Uart.any(self)
        _trace("any", self.bus, n)
        return n

    def readinto(self, buf, n):
        m = _Uart.readinto(self, buf, n)
        _trace("read", self.bus, bytes(buf[:m]).hex())
        return m

    def write(self, buf):
        _trace("write", self.bus, bytes(buf).hex())
        _Uart.write(self, buf)


class I2c(_I2c):
    def i2c_write(self, buf, n):
        try:
            _I2c.i2c_write(self, buf, n)
            _trace("i2c-write", self.addr, bytes(buf[:n]).hex())
        except OSError:
            _trace("i2c-write", self.addr, bytes(buf[:n]).hex() + " NACK")
            raise

    def i2c_read_into(self, buf, n):
        try:
            _I2c.i2c_read_into(self, buf, n)
            _trace("i2c-read", self.addr, bytes(buf[:n]).hex())
        except OSError:
            _trace("i2c-read", self.addr, "NACK")
            raise
