# Entry of the virtual node: `micropython -i ports/unix/main.py` (host/tynys/vnode/board.py runs it).
# The board is made first (flash, simulated world); then, as an ESP32 does after every reset,
# boot.py runs, and main.py's firmware unless a soft reset into the raw REPL skips it. When the
# firmware stops (Ctrl-C, safe mode, a config problem), the REPL has the console and the world's
# clock, timers and watchdog run on in real time, as a chip's do.
import sys
import vnode

start = vnode.start()  # node.startup.boot, or None when a soft reset in raw REPL skips main.py
vnode = None
sys.modules.pop("vnode", None)
try:
    import boot  # noqa: E402  boot.py: the build's, or the flash's (TYNYS_FROM_FLASH), as the board runs it
except ImportError:
    pass  # a board just flashed with MicroPython has none of ours
sys.modules.pop("boot", None)
if start and __import__("os").getenv("TYNYS_MEASURE") not in (None, "peaks"):  # benchmarks only (measure.py)
    __import__("measure").install()
n = start() if start else None
start = None
if "node.startup" in sys.modules:  # (a bare board run from its flash has no node package)
    import node

    node.forget("startup")
if n and __import__("os").getenv("TYNYS_MEASURE") == "peaks":  # heap tests: after boot (measure.py)
    __import__("measure").install()
if n:
    n.serve()
__import__("time").repl_clock()
