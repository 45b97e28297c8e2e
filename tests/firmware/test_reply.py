"""The host's signed replies as the node checks them (node/reply.py), against the shared vectors
(tests/vectors/replies/reply-1.json) that tynys.transport.reply's tests build byte for byte."""

import json

import pytest

from tests.conftest import VECTORS

pytestmark = pytest.mark.firmware

CASES = json.loads((VECTORS / "replies" / "reply-1.json").read_text())

TAKE = """
import json, sys
from node import Signer
from node.app import Node
v = json.loads(sys.stdin.read())
class Spool:
    def ack(self, seqs):
        self.acked = list(seqs)
        return len(seqs)
class Fake:  # the parts of a Node that a reply touches
    pass
n = Fake(); n.id = v["node"]; n.signer = Signer(bytes.fromhex(v["key"])); n.spool = Spool()
n.spool.last_seq = v["last_seq"]; n.taken = []; n.replies = [0, -1]
n.host_time = n.taken.append
out = []
for line in v["lines"]:
    n.spool.acked = None; n.taken.clear()
    doc = Node.reply(n, line.encode())
    out.append({"ok": True, "ack": sorted(n.spool.acked), "time": n.taken[0] if n.taken else None} if doc else {"ok": False})
print(json.dumps({"out": out, "bad": n.replies[0]}))
"""


@pytest.mark.parametrize("case", CASES["check"], ids=[c["about"] for c in CASES["check"]])
def test_the_node_obeys_only_verified_fresh_replies(mpy, case):
    spec = dict(case, key=CASES["key"], node=CASES["node"])
    got = json.loads(mpy("exec(" + repr(TAKE) + ")", stdin=json.dumps(spec).encode()).stdout)
    assert got["out"] == case["expect"]
    assert got["bad"] == sum(not e["ok"] for e in case["expect"])  # every refusal counted (health bad_replies)
