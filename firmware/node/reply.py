# The host's replies (docs/record.md, "Replies"): what it has stored (ack) and its clock (time),
# one signed JSON line on every transport (console, HTTP answer, MQTT ack message):
#
#     {"node":"osk-01","seq":4711,"ack":[4710,4711],"time":1795813512,"sig":"<64 hex>"}
#
# sig is HMAC-SHA256 under the node's key over b"tynys-reply-1\n" and the line without its sig
# member (the tag keeps a reply from passing as a record: both are signed with the same key).
# The node obeys a reply only when it verifies, names this node and acknowledges no seq the node
# never wrote (every ack <= seq <= the spool's last seq); node.app.Node.reply does what it says.
# Anything else is ignored and counted (health "bad_replies"): a forgery, a line cut on the
# console, a host that holds another key. Loaded for each reply and let go, as the record
# module is for a window.
#
#     doc = verify(node, line)   # node: id, signer (node.Signer), spool; the reply or None
import json
from micropython import const

_TAIL = const(74)  # ,"sig":"<64 hex>"}
_HEX = b"0123456789abcdef"


def verify(node, line):
    # Read in place (a memoryview; no copies of the line) and the signature compared digit by
    # digit, so a reply allocates little beyond the decoded dict (measured in
    # tests/firmware/test_heap.py).
    mv = memoryview(line)
    n = len(mv)
    while n and mv[n - 1] in b" \t\r\n":
        n -= 1
    i = n - _TAIL
    if i < 1 or mv[n - 2] != 0x22 or mv[n - 1] != 0x7D:  # '"}'
        return None
    for k in range(8):
        if mv[i + k] != b',"sig":"'[k]:
            return None
    s = node.signer
    h = s.begin()
    h.update(b"tynys-reply-1\n")  # the tag: a record's signature never passes as a reply's
    h.update(mv[:i])  # the line without its sig member...
    h.update(b"}")  # ...closed
    d = s.digest(h)  # bytes, compared with the hex digits in place
    i += 8
    for k in range(32):
        b = d[k]
        if mv[i] != _HEX[b >> 4] or mv[i + 1] != _HEX[b & 15]:
            return None
        i += 2
    try:
        doc = json.loads(mv[:n])  # with its sig member: the same members, and no copy to make
    except ValueError:
        return None
    if type(doc) is not dict or doc.get("node") != node.id:
        return None
    seq = doc.get("seq")
    acks = doc.get("ack")
    if type(seq) is not int or type(acks) is not list or not 0 <= seq <= node.spool.last_seq:
        return None
    for a in acks:
        if type(a) is not int or not 0 <= a <= seq:
            return None
    return doc
