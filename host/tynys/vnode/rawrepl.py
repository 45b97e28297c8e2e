"""The raw REPL as a board plays it around the unix port's. The host enters it with Ctrl-A and
leaves with Ctrl-B; a soft reset there (Ctrl-D) ends the unix port's REPL, and a board answers it
with "soft reboot", restarts the firmware without main.py (boot.py only) and is in the raw REPL
again: that is what mpremote waits for before it copies a file or runs code."""

from __future__ import annotations


class RawRepl:
    def __init__(self):
        self.raw = False  # the host put the REPL into raw mode and has not left it

    def see(self, data: bytes) -> None:
        """Bytes typed into the console: the last Ctrl-A or Ctrl-B decides."""
        i = max(data.rfind(b"\x01"), data.rfind(b"\x02"))
        if i >= 0:
            self.raw = data[i] == 1

    def soft_reset(self, console) -> bool:
        """The REPL ended: say so as a board does; returns whether main.py is skipped (raw REPL)."""
        console.from_node(b"soft reboot\n")
        return self.raw
