"""Virtual nodes: the real firmware (``.mpy``) on the MicroPython unix port, with a flash image,
sensor simulators, virtual time and a console on a pty that pyserial and mpremote open like a board.

    from tynys.vnode import VirtualNode
    vn = VirtualNode.create("nodes/osk-01", config={...}, scenario={...})   # flash image + files
    with vn.start():                    # a process and a relay thread
        print(vn.port)                  # /dev/pts/7: open it with pyserial, mpremote, tynys ingest
        vn.expect(rb'"seq":3,')         # wait for console output
        vn.power_cycle(off_s=600)       # cut the power; back 10 simulated minutes later
    vn.get("spool/head")                # read a file from the flash image (node stopped)

A node lives in a directory: ``flash.img`` (its LittleFS, 4 KB blocks), ``config.json`` and
``scenario.json`` (what was provisioned and simulated; the node's process reads only its network
plan, copied to ``network.json``; the simulators' process the rest), ``console.log`` (all console
output) and ``clock`` (world time, written by the node's time shim). ``tynys sim`` starts many of these, each
with its own directory, scenario and uplink.

The relay plays the board around the chip: it restarts the process after a watchdog, reset,
deep sleep or soft reset with the reset cause the firmware will read, continues the world clock
where it stopped, keeps the pty open across restarts, answers a soft reset in raw REPL as a
board does (``soft reboot``, raw REPL again, main.py not run), and never lets a console nobody
reads block the node (like a UART, bytes nobody takes are lost after a second).
"""

from __future__ import annotations

import collections
import json
import os
import pty
import re
import selectors
import signal
import shutil
import subprocess
import tempfile
import threading
import time
import tty
from pathlib import Path

from . import boards, firmware
from .errors import TynysError

POWER_ON_RTC = 946684800  # an ESP32's RTC after power-on reads 2000-01-01 until NTP or the host sets it
_CAUSES = {"power_on": 1, "hard": 2, "wdt": 3, "deepsleep": 4, "soft": 5}


class VnodeError(TynysError):
    """A virtual node could not be created or started."""


def _flashtool(*args: str) -> str:
    code = f"import flashtool; flashtool.main({list(args)!r})"
    proc = firmware.run(code=code, heap="256K", timeout=60)
    if proc.returncode != 0:
        out = proc.stdout.decode().strip().splitlines() or proc.stderr.decode().strip().splitlines() or ["?"]
        raise VnodeError(f"flash image {args[1]}: {out[-1].removeprefix('flashtool: ')}")
    return proc.stdout.decode()


class VirtualNode:
    def __init__(self, home: str | Path, *, heap: str = firmware.DEFAULT_HEAP, vtime: str = "virtual",
                 start: int | None = None, end: int | None = None, rtc: int | str | None = POWER_ON_RTC,
                 unique_id: str | None = None, env: dict | None = None, on_line=None, keep_lines: int = 10000,
                 from_flash: bool = False):
        """*vtime*: "virtual" (as fast as the CPU goes), "real", or a speed factor such as "60".
        *start*/*end*: world time [Unix s] at the first start, and where a virtual clock slows to real
        time. *rtc*: what the node's clock reads after power-on (default 2000-01-01 as on an ESP32;
        "world" for a clock that is right from the start). *on_line(bytes)*: called for each console line.
        *from_flash*: run the firmware copied onto the flash (lib/, main.py, as tynys provision puts it),
        not the host's build: a board as a volunteer gets it."""
        self.home = Path(home).resolve()
        if not (self.home / "flash.img").exists():
            raise VnodeError(f"{self.home} is not a virtual node (no flash.img); create it with `tynys vnode create`")
        self.heap = heap
        self.vtime = str(vtime)
        self.world = int(time.time()) if start is None else int(start)
        self.end = end
        self.rtc = rtc
        self.unique_id = unique_id
        self.extra_env = dict(env or {})
        self.from_flash = from_flash
        self.on_line = on_line
        self.lines: collections.deque[bytes] = collections.deque(maxlen=keep_lines)
        self.resets: list[str] = []  # reset causes of every start after the first
        self._cond = threading.Condition()
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self._master = self._slave = None
        self._stopping = False
        self._cut = None  # seconds off, while a power cut is in progress
        self._raw = False  # the host put the REPL into raw mode (Ctrl-A) and has not left it
        self._partial = b""
        self._deaf = False  # nobody has read the port for a second: drop output at once
        self._log = None
        self._rtc_offset = None  # node clock minus world [us], kept across resets (not power cuts)
        self._seen = 0  # latest world time read from the clock file
        self._sims: subprocess.Popen | None = None
        self._sock_dir: str | None = None

    # -- creating
    @classmethod
    def create(cls, home: str | Path, config: dict | str | Path | None, *, board: str = "virtual",
               scenario: dict | str | Path | None = None, blocks: int = 512, **kw) -> "VirtualNode":
        """Make a node directory: format a flash image and put config.json and board.json on it.
        With config None the flash stays empty, as on a board just flashed with MicroPython (the
        scenario's sensors with a "type" are wired all the same; see simhost.py)."""
        home = Path(home).resolve()
        home.mkdir(parents=True, exist_ok=True)
        cfg = json.loads(Path(config).read_text()) if isinstance(config, (str, Path)) else config
        sc = scenario if isinstance(scenario, dict) or scenario is None else json.loads(Path(scenario).read_text())
        (home / "scenario.json").write_text(json.dumps(sc or {}, indent=1) + "\n")
        img = home / "flash.img"
        if img.exists():
            img.unlink()
        firmware.build()
        _flashtool("format", str(img), str(blocks))
        (home / "board.json").write_text(boards.node_json(board))  # checked, with its chip's limits
        if cfg is not None:
            (home / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")
            _flashtool("put", str(img), "config.json", str(home / "config.json"))
            _flashtool("put", str(img), "board.json", str(home / "board.json"))
        for f in ("clock", "console.log"):
            (home / f).unlink(missing_ok=True)
        return cls(home, **kw)

    # -- flash files (node stopped)
    def _idle(self):
        if self.running:
            raise VnodeError("stop the node before reading or writing its flash image")

    def put(self, name: str, data: bytes | str) -> None:
        self._idle()
        tmp = self.home / ".put"
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
        try:
            _flashtool("put", str(self.home / "flash.img"), name, str(tmp))
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, name: str) -> bytes:
        self._idle()
        tmp = self.home / ".get"
        _flashtool("get", str(self.home / "flash.img"), name, str(tmp))
        try:
            return tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)

    def ls(self, path: str = "") -> dict[str, int]:
        self._idle()
        out = _flashtool("ls", str(self.home / "flash.img"), *([path] if path else []))
        return {name: int(size) for name, size in (line.rsplit(" ", 1) for line in out.splitlines() if line)}

    # -- running
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> str:
        """The console's pty: open it like a board's serial port."""
        if self._slave is None:
            raise VnodeError("the node is not started")
        return os.ttyname(self._slave)

    def _env(self, cause: str, no_app: bool) -> dict:
        e = {
            "TYNYS_FLASH": str(self.home / "flash.img"),
            "TYNYS_SCENARIO": self._network_plan(),
            "TYNYS_CLOCK_FILE": str(self.home / "clock"),
            "TYNYS_VTIME": self.vtime,
            "TYNYS_VTIME_START": str(self.world),
            "TYNYS_RESET_CAUSE": str(_CAUSES[cause]),
            "TYNYS_SIM_SOCKET": self._sock,
        }
        if self.end is not None:
            e["TYNYS_VTIME_END"] = str(self.end)
        if self._rtc_offset is not None:  # the RTC kept running through a reset
            e["TYNYS_RTC_START"] = str(self.world + self._rtc_offset // 1000000)
        elif self.rtc != "world" and self.rtc is not None:
            e["TYNYS_RTC_START"] = str(int(self.rtc))
        if self.unique_id:
            e["TYNYS_UNIQUE_ID"] = self.unique_id
        if no_app:
            e["TYNYS_NO_APP"] = "1"
        e["TYNYS_BOARD"] = str(self.home / "board.json")  # the hardware, whatever is on the flash
        e.update(self.extra_env)
        e = firmware.env(e)
        if self.from_flash:  # the board's modules only; the node's come from the flash's lib/
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
        """The sensors: their simulators in a process of their own (firmware/ports/unix/simhost.py),
        powered with the node: a power cut restarts them, a reset does not."""
        if self._sims is not None and self._sims.poll() is None:
            self._sims.kill()
            self._sims.wait()
        env = firmware.env({"TYNYS_SIM_SOCKET": self._sock, "TYNYS_SCENARIO": str(self.home / "scenario.json"),
                            "TYNYS_VTIME": "virtual", "TYNYS_VTIME_START": str(self.world)})
        with open(self.home / "sim.log", "ab") as log:
            self._sims = subprocess.Popen(firmware.command("16M", "-c", "import simhost"), stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.home)

    def _spawn(self, cause: str, no_app: bool = False) -> None:
        (self.home / "clock").unlink(missing_ok=True)
        main = firmware.BUILD / "ports" / "unix" / "main.py"
        self._proc = subprocess.Popen(
            firmware.command(self.heap, "-i", str(main)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=self._env(cause, no_app), cwd=self.home, bufsize=0)
        os.set_blocking(self._proc.stdout.fileno(), False)

    def start(self) -> "VirtualNode":
        if self.running:
            return self
        firmware.build()
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # a board's port: bytes as they are (no \n -> \r\n, no echo)
        os.set_blocking(self._master, False)
        self._log = open(self.home / "console.log", "ab")
        self._stopping = False
        self._sock_dir = tempfile.mkdtemp(prefix="tynys-vn-")  # short: a socket path has 107 bytes
        self._spawn_sims()
        self._spawn("power_on")
        self._thread = threading.Thread(target=self._relay, name=f"vnode {self.home.name}", daemon=True)
        self._thread.start()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stop(self, timeout: float = 10) -> None:
        """Power the node off for good (as pulling the plug: flash writes in flight are cut)."""
        self._stopping = True
        self._kill()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        if self._sims is not None:
            self._sims.kill()
            self._sims.wait()
            self._sims = None
        if self._sock_dir:
            shutil.rmtree(self._sock_dir, ignore_errors=True)
            self._sock_dir = None
        if self._log:
            self._log.close()
            self._log = None

    def _kill(self):
        p = self._proc
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)

    def power_cycle(self, off_s: int = 0) -> None:
        """Cut the power now and restore it `off_s` simulated seconds later (reset: power_on)."""
        with self._cond:
            self._cut = off_s
        self._kill()

    def reset(self) -> None:
        """Press the reset (EN) button."""
        with self._cond:
            self._cut = "hard"
        self._kill()

    def write(self, data: bytes) -> None:
        """Type into the node's console (as the host would on the serial port)."""
        self._to_node(data)

    def _to_node(self, data: bytes):
        p = self._proc
        if p is None or p.poll() is not None:
            return  # nothing listens while the chip resets
        i = max(data.rfind(b"\x01"), data.rfind(b"\x02"))
        if i >= 0:
            self._raw = data[i] == 1
        try:
            p.stdin.write(data)
            p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    # -- world clock
    def _read_clock(self) -> tuple[int, int, str] | None:
        try:
            w, off, *cause = (self.home / "clock").read_text().split()
            return int(w), int(off), cause[0] if cause else ""
        except (OSError, ValueError):
            return None

    def world_time(self) -> int:
        """The simulated world's time [Unix s] as the node last noted it (every simulated minute)."""
        c = self._read_clock()
        if c:
            self._seen = max(self._seen, c[0] // 1000000)
        return max(self._seen, self.world)

    def at_repl(self) -> bool:
        """True when the console's last output is a REPL prompt (the firmware is not running)."""
        with self._cond:
            return self._partial.endswith(b">>> ")

    def wait_world(self, t: int, timeout: float = 120) -> None:
        """Wait until the node's world clock has reached Unix time t; fail early when the node
        sits at its REPL (safe mode, a config problem, Ctrl-C), where its clock stands still."""
        deadline = time.monotonic() + timeout
        idle = None
        while self.world_time() < t:
            if not self.running:
                raise VnodeError(f"the node stopped before world time {t}")
            now = time.monotonic()
            if now > deadline:
                raise VnodeError(f"world time {self.world_time()} did not reach {t} within {timeout} s")
            idle = (idle or now) if self.at_repl() else None
            if idle and now - idle > 2:
                tail = b"\n".join(list(self.lines)[-4:]).decode(errors="replace")
                raise VnodeError(f"the node is at its REPL, not measuring; last lines:\n{tail}")
            time.sleep(0.05)

    # -- console
    def expect(self, pattern: bytes | str, timeout: float = 60, since: int = 0) -> re.Match:
        """Wait for a console line matching the regex (the unfinished last line, such as a
        ``>>> `` prompt, counts too); `since`: skip lines before this index."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                lines = list(self.lines)[since:] if since else list(self.lines)
                for line in lines + [self._partial.rstrip(b"\r")]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = b"\n".join(list(self.lines)[-5:]).decode(errors="replace")
                    raise VnodeError(f"no console line matched {rx.pattern!r} within {timeout} s; last lines:\n{tail}")
                self._cond.wait(min(left, 0.2))

    def _from_node(self, data: bytes):
        self._log.write(data)
        self._log.flush()
        out = re.sub(rb"(?<!\r)\n", b"\r\n", data)  # a board's console ends lines with \r\n
        self._to_port(out)
        with self._cond:
            *done, self._partial = (self._partial + data).split(b"\n")
            for line in done:
                self.lines.append(line.rstrip(b"\r"))
            self._cond.notify_all()
            if self.on_line:
                for line in done:
                    self.on_line(line.rstrip(b"\r"))

    def _to_port(self, data: bytes):
        # Like a UART: a reader gets everything; with nobody reading, bytes are lost after 1 s.
        sel = selectors.DefaultSelector()
        sel.register(self._master, selectors.EVENT_WRITE)
        try:
            while data:
                if not sel.select(0 if self._deaf else 1.0):
                    self._deaf = True
                    return
                self._deaf = False
                try:
                    n = os.write(self._master, data)
                except BlockingIOError:
                    continue
                except OSError:
                    return
                data = data[n:]
        finally:
            sel.close()

    def _relay(self):
        sel = selectors.DefaultSelector()
        while not self._stopping:
            p = self._proc
            sel.register(p.stdout, selectors.EVENT_READ)
            sel.register(self._master, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select(0.2):
                    if key.fileobj is p.stdout:
                        data = p.stdout.read(65536)
                        if data:
                            self._from_node(data)
                    else:
                        try:
                            data = os.read(self._master, 4096)
                        except (BlockingIOError, OSError):
                            data = b""
                        if data:
                            self._to_node(data)
                if p.poll() is not None:
                    rest = p.stdout.read()
                    if rest:
                        self._from_node(rest)
                    break
            sel.unregister(p.stdout)
            sel.unregister(self._master)
            p.stdout.close()
            p.stdin.close()
            if self._stopping:
                break
            self._restart(p.returncode)
        sel.close()
        with self._cond:
            self._cond.notify_all()

    def _restart(self, code: int):
        clock = self._read_clock()
        if clock:
            self.world = clock[0] // 1000000
        with self._cond:
            cut, self._cut = self._cut, None
        no_app = False
        if cut is not None and cut != "hard":  # power cut: the RTC forgets, the sensors restart
            self.world += int(cut)
            self._rtc_offset = None
            cause = "power_on"
            self._spawn_sims()
        else:
            self._rtc_offset = clock[1] if clock else self._rtc_offset
            if cut == "hard":
                cause = "hard"
            elif clock and clock[2]:
                cause = clock[2]  # the firmware reset itself: machine.reset(), WDT, deepsleep
            else:
                cause = "soft"  # the REPL exited: Ctrl-D, as a soft reset
                self._from_node(b"soft reboot\n")
                no_app = self._raw
        self.resets.append(cause)
        self._spawn(cause, no_app)
        if no_app:
            self._to_node(b"\x01")  # back into raw REPL, where the host left it
