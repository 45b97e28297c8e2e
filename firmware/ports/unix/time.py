# Virtual time for the virtual node: shadows the unix port's built-in `time`.
#
# Two clocks, as on a board:
#   world  - true time of the simulated world (UTC, microseconds since 1970); only moves forward.
#   rtc    - the node's own clock = world + offset (0 unless the launcher sets one, e.g. to
#            mimic an unset RTC after power-on); NTP or the host set it through set_rtc().
# ticks_* derive from world time and wrap at 2**30 like the ESP32 port, so wrap bugs show here.
#
# Environment (read at import; the launcher, host/tynys/vnode/board.py, sets them):
#   TYNYS_VTIME        "virtual" (default): sleep_* advance world time at once, a simulated day
#                      runs in seconds; "real": sleeps really sleep and world time follows the
#                      host clock; a number N: like real, but N times faster.
#   TYNYS_VTIME_START  world time at start [Unix s] (default: the host clock)
#   TYNYS_VTIME_END    world time [Unix s] at which a virtual clock slows to real time, so a
#                      finished run idles (and answers its host) instead of racing on
#   TYNYS_RTC_START    what the node's RTC reads at start [Unix s] (default: world time)
#   TYNYS_CLOCK_FILE   where to note "world_us rtc_offset_us cause wdt_timeout_us wdt_fed_us speed"
#                      every simulated minute, at a reset and when the pace changes, so the
#                      launcher can restart the node where the world was (cause "-": none noted)
#                      and a host can tell the world's time between notes (speed: world seconds
#                      per real second; 0 while a virtual clock races)
# Listeners (machine.WDT, machine.Timer, simulators) register with on_advance(fn) and are called
# as fn(world_us) after every advance.
import utime as _t
import os as _os
from micropython import const

_TICKS_MAX = const(0x3FFFFFFF)  # ticks wrap at 2**30, as on an ESP32
_TICKS_HALF = const(0x20000000)


def _env(name):
    v = _os.getenv(name)
    return int(v) if v else None


_mode = _os.getenv("TYNYS_VTIME") or "virtual"
_speed = 0 if _mode == "virtual" else (1 if _mode == "real" else int(_mode))
_start = _env("TYNYS_VTIME_START")
_end = _env("TYNYS_VTIME_END")
_real0_us = _t.time_ns() // 1000
_world_us = _world0_us = _start * 1000000 if _start is not None else _real0_us
_rtc0 = _env("TYNYS_RTC_START")
_offset_us = 0 if _rtc0 is None else _rtc0 * 1000000 - _world_us  # rtc - world
_clock_file = _os.getenv("TYNYS_CLOCK_FILE")
_noted_us = _world_us
_listeners = []


def on_advance(fn):
    _listeners.append(fn)


def _now_us():
    global _world_us
    if _speed:
        w = _world0_us + (_t.time_ns() // 1000 - _real0_us) * _speed
        if w > _world_us:
            _world_us = w
    return _world_us


def note(cause="", wdt=(0, 0)):
    """Write the clock file now (the machine shim calls this with the cause of a reset and the
    watchdog's [timeout us, fed us], which outlives a soft reset)."""
    global _noted_us
    _noted_us = _world_us
    if _clock_file:
        with open(_clock_file + ".tmp", "w") as f:
            f.write("%d %d %s %d %d %d\n" % (_world_us, _offset_us, cause or "-", wdt[0], wdt[1], _speed))
        _os.rename(_clock_file + ".tmp", _clock_file)  # a reader never sees half a file


def repl_clock():
    """The firmware has stopped and the REPL has the console. On a chip the clock, its timers
    and the watchdog run on meanwhile: here the world keeps real time from now on (someone is
    typing, or mpremote is copying files) and a thread of its own runs the listeners, as the
    hardware would."""
    global _speed, _real0_us, _world0_us
    if not _speed:
        _speed = 1
        _real0_us = _t.time_ns() // 1000
        _world0_us = _world_us
        note()  # the host reads the world's pace from the note
    import _thread

    _thread.start_new_thread(_tick, ())


def _tick():  # the chip's hardware: its clock, timers and watchdog
    while True:
        _t.sleep_ms(50)
        _now_us()
        advance_us(0)


def advance_us(us):
    """Move world time forward by `us` (virtual mode) and tell the listeners."""
    global _world_us, _speed, _real0_us, _world0_us
    if us > 0:
        _world_us += us
    if _end is not None and not _speed and _world_us >= _end * 1000000:
        _speed = 1  # the end of the planned run: from here the world keeps real time
        _real0_us = _t.time_ns() // 1000
        _world0_us = _world_us
        note()  # the host reads the world's pace from the note
    if _world_us - _noted_us >= 60000000:  # a checkpoint every simulated minute
        note()
    for fn in _listeners:
        fn(_world_us)


def world_us():
    return _now_us()


def set_rtc(unix_s):
    """Set the node's clock (what RTC.datetime / ntptime do on a board)."""
    global _offset_us
    _offset_us = int(unix_s * 1000000) - _now_us()


def sleep_ms(ms):
    if ms <= 0:
        return
    if _speed:
        _t.sleep_us(ms * 1000 // _speed)
        advance_us(0)
    else:
        advance_us(ms * 1000)


def sleep(s):
    sleep_ms(int(s * 1000))


def time():
    return (_now_us() + _offset_us) // 1000000


def time_ns():
    return (_now_us() + _offset_us) * 1000


def ticks_ms():
    return (_now_us() // 1000) & _TICKS_MAX


def ticks_us():
    return _now_us() & _TICKS_MAX


def ticks_add(ticks, delta):
    # As on the chip (extmod/modtime.c): a delta ticks_diff could not give back is refused.
    if not -_TICKS_HALF < delta < _TICKS_HALF:
        raise OverflowError("ticks interval overflow")
    return (ticks + delta) & _TICKS_MAX


def ticks_diff(a, b):
    return ((a - b + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF


def gmtime(secs=None):
    return _t.gmtime(time() if secs is None else secs)


localtime = gmtime
mktime = _t.mktime
