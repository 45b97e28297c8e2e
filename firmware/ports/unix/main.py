# Entry of the virtual node: `micropython -i ports/unix/main.py` (host/tynys/vnode.py runs it).
import vnode

node = vnode.start()
