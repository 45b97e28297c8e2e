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
#
#     rp = Replies(node)     # node: id, signer (node.sign), spool, host_time(t)
#     doc = rp.take(line)    # the reply (a dict) when obeyed, else None; rp.bad counts refusals
#     rp.freed               # records the last obeyed reply freed from the spool
import json
from micropython import const

_TAG = b"tynys-reply-1\n"
_TAIL = const(74)  # ,"sig":"<64 hex>"}


class Replies:
    def __init__(self, node):
        self.node = node
        self.bad = 0
        self.freed = 0
        self._time_seq = -1  # seq of the reply whose time was taken last

    def take(self, line):
        doc = self._check(line)
        if doc is None:
            self.bad += 1
            return None
        n = self.node
        self.freed = n.spool.ack(doc["ack"])
        t = doc.get("time")
        seq = doc["seq"]
        if type(t) is int and seq == n.spool.last_seq and seq > self._time_seq:
            self._time_seq = seq
            n.host_time(t)
        return doc

    def _check(self, line):
        # Checking a reply allocates a little (a copy, the decoded dict); replies are rare.
        line = bytes(line).rstrip()
        i = len(line) - _TAIL
        if i < 1 or line[i:i + 8] != b',"sig":"' or line[-2:] != b'"}':
            return None
        s = self.node.signer
        h = s.begin()
        h.update(_TAG)
        body = line[:i] + b"}"
        h.update(body)
        if s.end(h).encode() != line[i + 8:-2]:
            return None
        try:
            doc = json.loads(body)
        except ValueError:
            return None
        if type(doc) is not dict or doc.get("node") != self.node.id:
            return None
        seq = doc.get("seq")
        acks = doc.get("ack")
        if type(seq) is not int or type(acks) is not list or not 0 <= seq <= self.node.spool.last_seq:
            return None
        for a in acks:
            if type(a) is not int or not 0 <= a <= seq:
                return None
        return doc
