# Test stand-in for the virtual node's ports/unix/simlink.py (tests/firmware/test_simlink.py
# starts the node from a copy of the build's main.py beside this file, so it is found first): it
# loads the build's link and wraps the methods of its peers, so that every bus call the firmware
# makes is written to TYNYS_SIMLINK_TRACE, one line each: world time [us], the call, the UART bus
# or I2C address, and what the firmware got. The link itself is the build's, unchanged; with
# TYNYS_SIMLINK_SPLIT set, its peers lose their one-transfer register read, so machine.I2C sends
# the register's write and the read as two transfers (each traced as the one transfer is).
import os
import sys
import time

_me = sys.modules.pop("simlink")
_here = __file__.rsplit("/", 1)[0]
sys.path.remove(_here)
import simlink as _real  # noqa: E402  the build's, next on the path

sys.path.insert(0, _here)
sys.modules["simlink"] = _me
connect = _real.connect
_f = open(os.getenv("TYNYS_SIMLINK_TRACE"), "a")
_U, _I = _real._Uart, _real._I2c
_any, _readinto, _write, _opened = _U.any, _U.readinto, _U.write, _U.opened
_i2c_write, _i2c_read_into, _i2c_write_read = _I.i2c_write, _I.i2c_read_into, _I.i2c_write_read


def _trace(what, where, got):
    _f.write("%d %s %d %s\n" % (time.world_us(), what, where, got))


def _t_any(self):
    n = _any(self)
    _trace("any", self.bus, n)
    return n


def _t_readinto(self, buf, n):
    m = _readinto(self, buf, n)
    _trace("read", self.bus, bytes(buf[:m]).hex())
    return m


def _t_write(self, buf):
    _trace("write", self.bus, bytes(buf).hex())
    _write(self, buf)


def _t_opened(self, tx, rx, baud):
    _trace("open", self.bus, "%s,%s,%d" % (tx, rx, baud))
    _opened(self, tx, rx, baud)


def _t_i2c_write(self, buf, n):
    try:
        _i2c_write(self, buf, n)
    except OSError:
        _trace("i2c-write", self.addr, bytes(buf[:n]).hex() + " NACK")
        raise
    _trace("i2c-write", self.addr, bytes(buf[:n]).hex())


def _t_i2c_read_into(self, buf, n):
    try:
        _i2c_read_into(self, buf, n)
    except OSError:
        _trace("i2c-read", self.addr, "NACK")
        raise
    _trace("i2c-read", self.addr, bytes(buf[:n]).hex())


def _t_i2c_write_read(self, wbuf, wn, rbuf, rn):  # one transfer: traced as its write and its read
    try:
        _i2c_write_read(self, wbuf, wn, rbuf, rn)
    except OSError:
        _trace("i2c-write", self.addr, bytes(wbuf[:wn]).hex() + " NACK")  # an absent chip NACKs the write
        raise
    _trace("i2c-write", self.addr, bytes(wbuf[:wn]).hex())
    _trace("i2c-read", self.addr, bytes(rbuf[:rn]).hex())


_U.any, _U.readinto, _U.write, _U.opened = _t_any, _t_readinto, _t_write, _t_opened
_I.i2c_write, _I.i2c_read_into, _I.i2c_write_read = _t_i2c_write, _t_i2c_read_into, _t_i2c_write_read
if os.getenv("TYNYS_SIMLINK_SPLIT"):
    _I.i2c_write_read = None
