# Virtual time for the virtual node: shadows the unix port's built-in `time`.
#
# Two clocks, as on a board:
#   world  - true time of the simulated world (UTC, microseconds since 1970); only moves forward.
#   rtc    - the node's own clock = world + offset (0 unless the launcher sets one, e.g. to
#            mimic an unset RTC after power-on); NTP or the host set it through set_rtc().
# ticks_* derive from world time and wrap at 2**30 like the ESP32 port, so wrap bugs show here.
#
# Modes (TYNYS_VTIME env var, read at import):
#   "virtual" (default)  sleep_* advance world time at once: a simulated day runs in seconds;
#   "real"               sleep_* really sleep and world time follows the host clock.
# Listeners (machine.WDT, simulators) register with on_advance(fn) and are called as fn(world_us)
# after every advance.
import utime as _t
import os as _os

_TICKS_PERIOD = 1 << 30
_TICKS_MAX = _TICKS_PERIOD - 1
_TICKS_HALF = _TICKS_PERIOD >> 1

_mode = _os.getenv("TYNYS_VTIME") or "virtual"
_start = _os.getenv("TYNYS_VTIME_START")  # world start, Unix seconds (default: host clock)
_world_us = int(_start) * 1000000 if _start else _t.time_ns() // 1000
_real0_us = _t.time_ns() // 1000
_world0_us = _world_us
_offset_us = 0  # rtc - world
_listeners = []


def on_advance(fn):
    _listeners.append(fn)


def _now_us():
    global _world_us
    if _mode == "real":
        w = _world0_us + (_t.time_ns() // 1000 - _real0_us)
        if w > _world_us:
            _world_us = w
    return _world_us


def advance_us(us):
    """Move world time forward by `us` (virtual mode) and tell the listeners."""
    global _world_us
    if us > 0:
        _world_us += us
    for fn in _listeners:
        fn(_world_us)


def world_us():
    return _now_us()


def set_rtc(unix_s):
    """Set the node's clock (what RTC.datetime / ntptime do on a board)."""
    global _offset_us
    _offset_us = int(unix_s * 1000000) - _now_us()


def rtc_offset_us():
    return _offset_us


def set_rtc_offset_us(us):
    global _offset_us
    _offset_us = us


def sleep_us(us):
    if us <= 0:
        return
    if _mode == "real":
        _t.sleep_us(us)
        advance_us(0)
    else:
        advance_us(us)


def sleep_ms(ms):
    sleep_us(ms * 1000)


def sleep(s):
    sleep_us(int(s * 1000000))


def time():
    return (_now_us() + _offset_us) // 1000000


def time_ns():
    return (_now_us() + _offset_us) * 1000


def ticks_us():
    return _now_us() & _TICKS_MAX


def ticks_ms():
    return (_now_us() // 1000) & _TICKS_MAX


def ticks_cpu():
    return ticks_us()


def ticks_add(ticks, delta):
    return (ticks + delta) & _TICKS_MAX


def ticks_diff(a, b):
    return ((a - b + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF


def gmtime(secs=None):
    return _t.gmtime(time() if secs is None else secs)


localtime = gmtime


def mktime(tup):
    return _t.mktime(tup)
