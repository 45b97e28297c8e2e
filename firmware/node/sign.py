# HMAC-SHA256 (RFC 2104) over hashlib.sha256 (MicroPython has no hmac module), under the node's
# key: records are signed with it (node.record) and the host's replies checked (node.reply).
#
#     signer = Signer(key32)
#     h = signer.begin(); h.update(part); ...; signer.end(h)   # -> 64 lowercase hex digits
from hashlib import sha256
from binascii import hexlify
from micropython import const

_BLOCK = const(64)  # SHA-256 block size


class Signer:
    def __init__(self, key):
        if len(key) > _BLOCK:
            key = sha256(key).digest()
        key = bytes(key) + bytes(_BLOCK - len(key))
        self._ipad = bytes(b ^ 0x36 for b in key)
        self._opad = bytes(b ^ 0x5C for b in key)

    def begin(self):
        return sha256(self._ipad)

    def end(self, h):
        o = sha256(self._opad)
        o.update(h.digest())
        return hexlify(o.digest()).decode()
