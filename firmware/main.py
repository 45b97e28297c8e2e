# main.py on the board's flash: start the node (docs/node.md). The node package lives in /lib.
import node.startup

n = node.startup.boot()
node.forget("startup")  # needed once; its code leaves the heap
if n:
    n.serve()
