"""Virtual nodes: the real firmware (``.mpy``) on the MicroPython unix port, with a flash image,
sensor simulators, virtual time and a console on a pty that pyserial and mpremote open like a board.

    from tynys.vnode import VirtualNode
    vn = VirtualNode.create("nodes/osk-01", config={...}, scenario={...})   # flash image + files
    with vn.start():                    # the node's and its sensors' processes, a relay thread
        print(vn.port)                  # /dev/pts/7: open it with pyserial, mpremote, tynys ingest
        vn.expect(rb'"seq":3,')         # wait for console output
        vn.power_cycle(off_s=600)       # cut the power; back 10 simulated minutes later
    vn.get("spool/head")                # read a file from the flash image (node stopped)

A node lives in a directory: ``flash.img`` (its LittleFS, 4 KB blocks), ``config.json``,
``board.json`` and ``scenario.json`` (what was provisioned and simulated; the node's process reads
only the scenario's network plan, copied to ``network.json``; the simulators' process the rest),
``console.log`` (all console output) and ``clock`` (world time, written by the node's time shim).
The files that hold the node's key (``flash.img``, ``config.json``) are its owner's alone (0600).
``tynys sim`` starts many of these, each with its own directory, scenario and uplink.

One module per job: :mod:`.flashimage` (the flash image and its files), :mod:`.board` (the
processes, restarted as a board's reset circuit would, with the reset cause the chip reports),
:mod:`.console` (the pty relay, the console's 259-byte input ring, ``expect``), :mod:`.rawrepl`
(a soft reset in the raw REPL, as mpremote expects it), :mod:`.clock` (the world clock the node notes).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from .. import boards, firmware
from .board import RESET_CAUSES, Board  # noqa: F401  (RESET_CAUSES: part of the API)
from .clock import POWER_ON_RTC, WorldClock
from .console import CONSOLE_RING, Console  # noqa: F401
from .errors import VnodeError
from .flashimage import FlashImage, private


class VirtualNode:
    def __init__(self, home: str | Path, *, heap: str | None = None, vtime: str = "virtual",
                 start: int | None = None, end: int | None = None, rtc: int | str | None = POWER_ON_RTC,
                 unique_id: str | None = None, env: dict | None = None, on_line=None, keep_lines: int = 10000,
                 from_flash: bool = False):
        """*vtime*: "virtual" (as fast as the CPU goes), "real", or a speed factor such as "60".
        *start*/*end*: world time [Unix s] at the first start, and where a virtual clock slows to real
        time. *rtc*: what the node's clock reads after power-on (default 2000-01-01 as on an ESP32;
        "world" for a clock that is right from the start). *on_line(bytes)*: called for each console line.
        *from_flash*: run the firmware copied onto the flash (boot.py, main.py, lib/, as tynys provision
        puts it), not the host's build: a board as a volunteer gets it. *heap*: MicroPython's heap
        (default: what its config's uplinks need, firmware.heap_for)."""
        self.home = Path(home).resolve()
        if not (self.home / "flash.img").exists():
            raise VnodeError(f"{self.home} is not a virtual node (no flash.img); create it with `tynys vnode create`")
        if heap is None:
            cfg = self.home / "config.json"
            heap = firmware.heap_for(json.loads(cfg.read_text()) if cfg.exists() else None)
        self.flash = FlashImage(self.home / "flash.img")
        self.clock = WorldClock(self.home / "clock", start)
        self.console = Console(self.home / "console.log", keep_lines, on_line)
        self.board = Board(self.home, self.clock, self.console, heap=heap, vtime=str(vtime), end=end, rtc=rtc,
                           unique_id=unique_id, env=dict(env or {}), from_flash=from_flash)

    # -- creating
    @classmethod
    def create(cls, home: str | Path, config: dict | str | Path | None, *, board: str = "virtual",
               scenario: dict | str | Path | None = None, blocks: int = 512, force: bool = False,
               **kw) -> "VirtualNode":
        """Make a node directory: format a flash image and put config.json and board.json on it.
        With config None the flash stays empty, as on a board just flashed with MicroPython (the
        scenario's sensors with a "type" are wired all the same; see simhost.py). An existing node
        (a flash.img there) is refused unless *force*: its flash would be lost."""
        home = Path(home).resolve()
        if (home / "flash.img").exists() and not force:
            raise VnodeError(f"{home} is a virtual node already (its flash.img holds its records): "
                             "choose another folder, or pass --force to format it anew")
        home.mkdir(parents=True, exist_ok=True)
        cfg = json.loads(Path(config).read_text()) if isinstance(config, (str, Path)) else config
        sc = scenario if isinstance(scenario, dict) or scenario is None else json.loads(Path(scenario).read_text())
        (home / "scenario.json").write_text(json.dumps(sc or {}, indent=1) + "\n")
        brd = boards.node_json(board)  # checked, with its chip's limits
        firmware.build()
        img = FlashImage(home / "flash.img")
        img.format(blocks)
        (home / "board.json").write_text(brd)
        (home / "config.json").unlink(missing_ok=True)
        if cfg is not None:
            private(home / "config.json", (json.dumps(cfg, indent=1) + "\n").encode())
            img.put("config.json", (home / "config.json").read_bytes())
            img.put("board.json", brd.encode())
        for f in ("clock", "console.log"):
            (home / f).unlink(missing_ok=True)
        return cls(home, **kw)

    # -- flash files (node stopped)
    def _idle(self):
        if self.running:
            raise VnodeError("stop the node before reading or writing its flash image")

    def put(self, name: str, data: bytes | str) -> None:
        self._idle()
        self.flash.put(name, data.encode() if isinstance(data, str) else data)

    def get(self, name: str) -> bytes:
        self._idle()
        return self.flash.get(name)

    def ls(self, path: str = "") -> dict[str, int]:
        self._idle()
        return self.flash.ls(path)

    # -- running
    @property
    def running(self) -> bool:
        return self.board.running

    @property
    def port(self) -> str:
        """The console's pty: open it like a board's serial port."""
        return self.console.port

    def start(self) -> "VirtualNode":
        if self.running:
            return self
        firmware.build()
        self.console.open()
        self.board.start()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stop(self, timeout: float = 10) -> None:
        """Power the node off for good (as pulling the plug: flash writes in flight are cut)."""
        self.board.stop(timeout)
        self.console.close()

    def power_cycle(self, off_s: int = 0) -> None:
        """Cut the power now and restore it `off_s` simulated seconds later (reset: power_on)."""
        self.board.cut(off_s)

    def reset(self) -> None:
        """Press the reset (EN) button: the chip restarts as at power-on (its RTC too)."""
        self.board.cut("en")

    def write(self, data: bytes) -> None:
        """Type into the node's console (as the host would on the serial port)."""
        self.board.type(data)

    # -- what it did
    @property
    def lines(self):
        """The console's last lines (bytes, without line ends)."""
        return self.console.lines

    @property
    def typed(self):
        """Lines typed into its console (by the host, a test, an attacker), as sent."""
        return self.console.typed

    @property
    def console_dropped(self) -> int:
        """Bytes typed into its console that the full input ring lost."""
        return self.console.dropped

    def console_unread(self) -> int:
        """Bytes typed into its console that the node has not read yet."""
        return self.console.unread(self.board.proc)

    @property
    def resets(self) -> list[str]:
        """What restarted it, each start after the first: "soft", "wdt", "hard", "en", "power_on", ..."""
        return self.board.resets

    @property
    def chip(self) -> str:
        return self.board.chip

    def expect(self, pattern: bytes | str, timeout: float = 60, since: int = 0) -> re.Match:
        """Wait for a console line matching the regex (the unfinished last line, such as a
        ``>>> `` prompt, counts too); `since`: skip lines before this index."""
        return self.console.expect(pattern, timeout, since)

    def at_repl(self) -> bool:
        """True when the console's last output is a REPL prompt (the firmware is not running)."""
        return self.console.at_repl()

    def world_time(self) -> int:
        """The simulated world's time [Unix s] now (as the node last noted it, carried on by the
        real time since where the world keeps a pace): what a host's clock reads in this world."""
        return self.clock.current()

    def wait_world(self, t: int, timeout: float = 120) -> None:
        """Wait until the node's world clock has reached Unix time t; fail early when the node
        sits at its REPL (safe mode, a config problem, Ctrl-C), where its clock stands still."""
        deadline = time.monotonic() + timeout
        idle = None
        while self.clock.now() < t:
            if not self.running:
                raise VnodeError(f"the node stopped before world time {t}")
            now = time.monotonic()
            if now > deadline:
                raise VnodeError(f"world time {self.clock.now()} did not reach {t} within {timeout} s")
            idle = (idle or now) if self.at_repl() else None
            if idle and now - idle > 2:
                raise VnodeError(f"the node is at its REPL, not measuring; last lines:\n{self.console.tail(4)}")
            time.sleep(0.05)
