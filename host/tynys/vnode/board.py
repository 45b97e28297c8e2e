"""The board around the chip: the node's MicroPython process (the unix port, heap capped, running
firmware/ports/unix/main.py) and its sensors' process (the simulators, firmware/ports/unix/simhost.py),
supervised as a board's reset circuit and supply would: after a watchdog, a reset, deep sleep, a
brownout or a soft reset the node starts again with the reset cause its chip reports, the world
clock where it stopped, the RTC kept or forgotten, and after a soft reset the watchdog still armed.

Every process it starts ends with the thread that started it (Linux PR_SET_PDEATHSIG through
setpriv(1), where there is one), so a launcher killed outright leaves no node running.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from .. import firmware
from .clock import WorldClock
from .console import Console
from .rawrepl import RawRepl

# What machine.reset_cause() says after each event, by chip. MicroPython's esp32 port maps
# esp_reset_reason() (ports/esp32/modmachine.c): POWERON and BROWNOUT to PWRON_RESET (1); SW,
# PANIC and EXT to HARD_RESET (2); the watchdogs to WDT_RESET (3); DEEPSLEEP (4); a soft reset
# is SOFT_RESET (5); anything else, such as USB (the chip's own USB-Serial-JTAG resetting it), 0.
# The EN (reset) button restarts every ESP32 as a power-on, never as EXT (ESP-IDF
# components/esp_system/port/soc/<chip>/reset_reason.c). Events: "power_on" (power restored),
# "en" (the button), "brownout" (the supply dipped), "hard" (machine.reset()), "wdt",
# "deepsleep", "soft", "usb" (a host resetting it over native USB).
_ESP32 = {"power_on": 1, "en": 1, "brownout": 1, "hard": 2, "wdt": 3, "deepsleep": 4, "soft": 5, "usb": 1}
RESET_CAUSES = {
    "esp32": _ESP32,  # its USB port is a USB-UART bridge pulling EN: a power-on
    "esp32s3": dict(_ESP32, usb=0),
    "esp32c3": dict(_ESP32, usb=0),
}
_SETPRIV = shutil.which("setpriv")
_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
_boards = itertools.count()  # numbers the boards, to share the CPUs out among them


def _orphan_proof(argv: list[str]) -> list[str]:
    return [_SETPRIV, "--pdeathsig", "KILL", "--", *argv] if _SETPRIV else argv


def _pin(proc: subprocess.Popen, cpu: int | None) -> None:
    """Keep a node and its simulators on one CPU. They take turns, a round trip per bus transfer
    (some 160,000 a simulated day), and across two CPUs each turn wakes the other one: a node-day
    took 17.9 s instead of 11.3, the kernel's share of its CPU 7.9 s instead of 1.4 (docs/sim.md,
    "Speed"). Nodes are shared out over the CPUs."""
    if cpu is not None:
        try:
            os.sched_setaffinity(proc.pid, {cpu})
        except OSError:  # it has ended already; its next start is pinned again
            pass


class Board:
    def __init__(self, home: Path, clock: WorldClock, console: Console, *, heap: str, vtime: str,
                 end: int | None, rtc, unique_id: str | None, env: dict, from_flash: bool = False):
        self.home, self.clock, self.console, self.from_flash = home, clock, console, from_flash
        self.heap, self.vtime, self.end, self.rtc, self.unique_id, self.extra_env = heap, vtime, end, rtc, unique_id, env
        self.repl = RawRepl()
        self.resets: list[str] = []  # what restarted it, each start after the first (RESET_CAUSES' events)
        try:  # the board on its flash, as created: what reset causes it reports
            self.chip = json.loads((home / "board.json").read_text())["chip"]
        except (OSError, ValueError, KeyError):
            self.chip = "esp32"
        self.proc: subprocess.Popen | None = None
        self._sims: subprocess.Popen | None = None
        self._sock_dir: str | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stopping = False
        self._cut = None  # while a power cut (seconds off) or the EN button ("en") is in progress
        self._rtc_offset = None  # node clock minus world [us], kept across resets (not power cuts)
        self._lock = threading.Lock()
        self.cpu = _CPUS[next(_boards) % len(_CPUS)] if len(_CPUS) > 1 else None  # its node and simulators'

    # -- the processes
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _env(self, cause: str, no_app: bool, wdt: str | None) -> dict:
        w = self.clock.world
        e = {
            "TYNYS_FLASH": str(self.home / "flash.img"),
            "TYNYS_SCENARIO": self._network_plan(),
            "TYNYS_CLOCK_FILE": str(self.clock.path),
            "TYNYS_VTIME": self.vtime,
            "TYNYS_VTIME_START": str(w),
            # the cause, and after a soft reset the armed watchdog (timeout and when last fed, us)
            "TYNYS_RESET_CAUSE": f"{RESET_CAUSES.get(self.chip, _ESP32)[cause]} {wdt or ''}".strip(),
            "TYNYS_SIM_SOCKET": self._sock,
        }
        if self.end is not None:
            e["TYNYS_VTIME_END"] = str(self.end)
        if self._rtc_offset is not None:  # the RTC kept running through a reset
            e["TYNYS_RTC_START"] = str(w + self._rtc_offset // 1000000)
        elif self.rtc != "world" and self.rtc is not None:
            e["TYNYS_RTC_START"] = str(int(self.rtc))
        if self.unique_id:
            e["TYNYS_UNIQUE_ID"] = self.unique_id
        if no_app:
            e["TYNYS_NO_APP"] = "1"
        e["TYNYS_BOARD"] = str(self.home / "board.json")  # the hardware, whatever is on the flash
        e.update(self.extra_env)
        e = firmware.env(e)
        if self.from_flash:  # the board's modules only; the node's come from the flash
            e["TYNYS_FROM_FLASH"] = "1"
            e["MICROPYPATH"] = str(firmware.BUILD / "ports" / "unix")
        return e

    def _network_plan(self) -> str:
        """The node's process gets only the network plan of scenario.json: the world table is the
        simulators' (their own process), and parsing it would cost the node's heap (a day's table
        at 10-minute rows: ~20 KB, enough to fail a window's close in a tight heap)."""
        full = self.home / "scenario.json"
        try:
            plan = {"network": json.loads(full.read_text()).get("network", {})}
        except (OSError, ValueError, AttributeError):
            return str(full)  # the node reports what is wrong with it, as before
        (self.home / "network.json").write_text(json.dumps(plan) + "\n")
        return str(self.home / "network.json")

    @property
    def _sock(self) -> str:
        return os.path.join(self._sock_dir, "sim.sock")

    def _spawn_sims(self) -> None:
        """The sensors: their simulators in a process of their own, powered with the node: a power
        cut restarts them, a reset does not."""
        if self._sims is not None and self._sims.poll() is None:
            self._sims.kill()
            self._sims.wait()
        env = firmware.env({"TYNYS_SIM_SOCKET": self._sock, "TYNYS_SCENARIO": str(self.home / "scenario.json"),
                            "TYNYS_VTIME": "virtual", "TYNYS_VTIME_START": str(self.clock.world)})
        with open(self.home / "sim.log", "ab") as log:
            self._sims = subprocess.Popen(_orphan_proof(firmware.command("16M", "-c", "import simhost")),
                                          stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                          cwd=self.home)
        _pin(self._sims, self.cpu)

    def _spawn(self, cause: str, no_app: bool = False, wdt: str | None = None) -> None:
        self.clock.clear()
        main = firmware.BUILD / "ports" / "unix" / "main.py"
        self.proc = subprocess.Popen(
            _orphan_proof(firmware.command(self.heap, "-i", str(main))), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self._env(cause, no_app, wdt), cwd=self.home,
            bufsize=0)
        _pin(self.proc, self.cpu)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def start(self) -> None:
        self._stopping = False
        self._started.clear()
        self._sock_dir = tempfile.mkdtemp(prefix="tynys-vn-")  # short: a socket path has 107 bytes
        self._thread = threading.Thread(target=self._run, name=f"vnode {self.home.name}", daemon=True)
        self._thread.start()
        self._started.wait(30)

    def stop(self, timeout: float = 10) -> None:
        """Power off for good (as pulling the plug: flash writes in flight are cut)."""
        self._stopping = True
        self.kill()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._sims is not None:
            self._sims.kill()
            self._sims.wait()
            self._sims = None
        if self._sock_dir:
            shutil.rmtree(self._sock_dir, ignore_errors=True)
            self._sock_dir = None

    def kill(self) -> None:
        p = self.proc
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)

    def cut(self, what) -> None:
        """Cut the power for `what` simulated seconds, or press the EN button ("en")."""
        with self._lock:
            self._cut = what
        self.kill()

    def type(self, data: bytes) -> None:
        """Type into the node's console, as a host on the serial port does."""
        self.repl.see(self.console.to_node(self.proc, data))

    # -- supervision: the processes start (from this thread, so that they end with it) and restart
    def _run(self) -> None:
        try:
            self._spawn_sims()
            self._spawn("power_on")
        finally:
            self._started.set()
        while not self._stopping:
            p = self.proc
            self.console.pump(p, self.type)
            p.stdout.close()
            p.stdin.close()
            if self._stopping:
                break
            self._restart()
        if self._sims is not None:
            self._sims.kill()  # here: it ends with this thread
        with self.console.cond:
            self.console.cond.notify_all()

    def _restart(self) -> None:
        note = self.clock.read()
        if note:
            self.clock.world = note.world_us // 1000000
        with self._lock:
            cut, self._cut = self._cut, None
        no_app = False
        wdt = None
        event = note.event if note and cut is None else ""  # what the firmware noted: machine.reset(), WDT, ...
        if (cut is not None and cut != "en") or event == "brownout":
            # the power went (or dipped): the RTC forgets, the sensors restart
            self.clock.world += int(cut or 0)
            self._rtc_offset = None
            cause = "power_on" if cut is not None else event
            self._spawn_sims()
        elif cut == "en":  # the chip restarts as at power-on, RTC included; the sensors stay powered
            self._rtc_offset = None
            cause = "en"
        else:
            self._rtc_offset = note.rtc_offset_us if note else self._rtc_offset
            if event:
                cause = event  # the firmware reset itself: machine.reset(), WDT, deepsleep, soft_reset()
            else:
                cause = "soft"  # the REPL exited: Ctrl-D, as a soft reset
                no_app = self.repl.soft_reset(self.console)
            if cause == "soft" and note:
                wdt = note.wdt  # a soft reset leaves the watchdog armed (and stops every timer)
        self.resets.append(cause)
        self._spawn(cause, no_app, wdt)
        if no_app:
            self.type(b"\x01")  # back into raw REPL, where the host left it
