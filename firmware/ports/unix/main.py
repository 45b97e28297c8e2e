# Entry of the virtual node: `micropython -i ports/unix/main.py` (host/tynys/vnode.py runs it).
# The board is made first (flash, simulated world), then the firmware starts as main.py does.
import sys
import vnode

boot = vnode.start()  # node.startup.boot, or None when a soft reset in raw REPL skips main.py
vnode = None
sys.modules.pop("vnode", None)
if boot and __import__("os").getenv("TYNYS_MEASURE"):  # benchmarks only (measure.py)
    __import__("measure").install()
n = boot() if boot else None
boot = None
if "node.startup" in sys.modules:  # (a bare board run from its flash has no node package)
    import node

    node.forget("startup")
if n:
    n.serve()
