# The host's replies (docs/record.md, "Replies"): what it has stored (ack) and its clock (time),
# one signed JSON line on every transport (console, HTTP answer, MQTT ack message):
#
#     {"node":"osk-01","seq":4711,"ack":[4710,4711],"time":1795813512,"sig":"<64 hex>"}
#
# sig is HMAC-SHA256 under the node's key over b"tynys-reply-1\n" and the line without its sig
# member (the tag keeps a reply from passing as a record: both are signed with the same key).
# The node obeys a reply only when it verifies, names this node and acknowledges no seq the node
# never wrote (every ack <= seq <= the spool's last seq). Its time is taken only when it answers
# the newest record (seq == last seq) and a newer one than the last time taken, so an old reply
# played again cannot set an old clock. Anything else is ignored and counted (health
# "bad_replies"): a forgery, a line cut on the console, a host that holds another key.
# Loaded for each reply and let go (node.app.Node.reply), as the record module is for a window.
#
#     doc = take(node, line)   # node: id, key, spool, host_time(t), replies: [refused, the seq
#                              # of the reply whose time was taken last]; the reply (a dict)
#                              # when obeyed, else None (counted)
import json
from hashlib import sha256
from binascii import hexlify
from micropython import const

_TAIL = const(74)  # ,"sig":"<64 hex>"}


def _mac(key, body):
    # HMAC-SHA256 over the tag and body, as node.record's Signer computes it over a record: kept
    # here too so that checking a reply does not load the record module (node keys: 32 bytes)
    k = key + bytes(64 - len(key))
    h = sha256(bytes(b ^ 0x36 for b in k))
    h.update(b"tynys-reply-1\n")  # the tag: a record's signature never passes as a reply's
    h.update(body)
    o = sha256(bytes(b ^ 0x5C for b in k))
    o.update(h.digest())
    return hexlify(o.digest())


def take(node, line):
    doc = _check(node, line)
    if doc is None:
        node.replies[0] += 1
        return None
    node.spool.ack(doc["ack"])
    t = doc.get("time")
    seq = doc["seq"]
    if type(t) is int and seq == node.spool.last_seq and seq > node.replies[1]:
        node.replies[1] = seq
        node.host_time(t)
    return doc


def _check(node, line):
    # Checking a reply allocates a little (a copy, the decoded dict); replies are rare.
    line = bytes(line).rstrip()
    i = len(line) - _TAIL
    if i < 1 or line[i:i + 8] != b',"sig":"' or line[-2:] != b'"}':
        return None
    body = line[:i] + b"}"
    if _mac(node.key, body) != line[i + 8:-2]:
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
