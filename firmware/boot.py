# boot.py on the board's flash: runs after every reset and every soft reset, also the soft reset
# into the raw REPL that mpremote makes before it copies files or runs code, after which main.py
# does not run. A watchdog the node armed stays armed through a soft reset and the Timer feeding
# it stops: keep it fed until main.py's node (or someone at the REPL) takes over (node/__init__.py).
import machine

if machine.reset_cause() == machine.SOFT_RESET:
    import node

    node.watchdog()  # held: fed every second
