# main.py on the board's flash: start the node (docs/node.md). The node package lives in /lib.
import node.startup

node.startup.run()
