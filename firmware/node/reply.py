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


def verify(node, line):
    # Checking a reply allocates a little (a copy, the decoded dict); replies are rare.
    line = bytes(line).rstrip()
    i = len(line) - _TAIL
    if i < 1 or line[i:i + 8] != b',"sig":"' or line[-2:] != b'"}':
        return None
    s = node.signer
    h = s.begin()
    h.update(b"tynys-reply-1\n")  # the tag: a record's signature never passes as a reply's
    body = line[:i] + b"}"
    h.update(body)
    if s.end(h).encode() != line[i + 8:-2]:
        return None
    try:
        doc = json.loads(body)
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
