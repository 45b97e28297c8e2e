# Tracing for the virtual node's sensor link (simlink.py), for tests: with
# TYNYS_SIMLINK_TRACE=<file>, every bus call the firmware makes is written there, one line each:
# its world time [us], the call, the bus (UART) or address (I2C), and what the firmware got.
# tests/firmware/test_simlink.py compares the fast path and the chatty one with it.
import os
import time

import simlink

_f = open(os.getenv("TYNYS_SIMLINK_TRACE"), "a")


def _trace(what, where, got):
    _f.write("%d %s %d %s\n" % (time.world_us(), what, where, got))


class _Uart(simlink._Uart):  # simlink's names: connect() takes these by names the node has already
    def any(self):
        n = simlink._Uart.any(self)
        _trace("any", self.bus, n)
        return n

    def readinto(self, buf, n):
        m = simlink._Uart.readinto(self, buf, n)
        _trace("read", self.bus, bytes(buf[:m]).hex())
        return m

    def write(self, buf):
        _trace("write", self.bus, bytes(buf).hex())
        simlink._Uart.write(self, buf)


class _I2c(simlink._I2c):
    def i2c_write(self, buf, n):
        try:
            simlink._I2c.i2c_write(self, buf, n)
            _trace("i2c-write", self.addr, bytes(buf[:n]).hex())
        except OSError:
            _trace("i2c-write", self.addr, bytes(buf[:n]).hex() + " NACK")
            raise

    def i2c_read_into(self, buf, n):
        try:
            simlink._I2c.i2c_read_into(self, buf, n)
            _trace("i2c-read", self.addr, bytes(buf[:n]).hex())
        except OSError:
            _trace("i2c-read", self.addr, "NACK")
            raise
