"""Serial ports as a volunteer meets them: one table from what the OS says when a port will not
open to one plain line saying what to do (flash, provision and doctor all open ports this way)::

    from tynys import ports
    try:
        ...open /dev/ttyUSB0...
    except Exception as e:
        raise ports.explain("/dev/ttyUSB0", e) from None      # a PortError with the fix
"""

from __future__ import annotations

import re

from .errors import TynysError

# (pattern in the OS/pyserial text, what it means and what to do); {port} and {known} filled in
HINTS = [
    (r"Errno 2\b|No such file|FileNotFoundError|could not find port",
     "no such port {port}: is the board plugged in (with a data cable)? Ports here: {known}"),
    (r"Errno 13\b|Permission denied|Access is denied",
     "no permission to open {port}: add yourself to the dialout group (sudo usermod -aG dialout $USER), "
     "then log out and in again"),
    (r"Errno 16\b|Errno 11\b|busy|exclusively lock|Resource temporarily unavailable",
     "{port} is in use by another program (tynys monitor, mpremote, screen, the Arduino IDE): close it and try again"),
]


class PortError(TynysError):
    """A serial port that cannot be opened."""


def known() -> str:
    try:
        from serial.tools import list_ports

        found = sorted(p.device for p in list_ports.comports())
    except Exception:  # listing ports is a courtesy; never the error itself
        found = []
    return ", ".join(found) or "none found"


def explain(port: str, err: BaseException | str) -> PortError | None:
    """The PortError for an open failure on `port`, or None when `err` is not one of those."""
    text = str(err)
    for pattern, msg in HINTS:
        if re.search(pattern, text, re.IGNORECASE):
            return PortError(msg.format(port=port, known=known() if "{known}" in msg else ""))
    return None
