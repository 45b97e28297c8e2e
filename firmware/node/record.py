# The record (docs/record.md): one signed JSON line per window, built once when the window closes.
# Floats never appear: every statistic is formatted from exact integer sums, so an ESP32
# (single-precision floats) and the unix port produce the same bytes.
#
#     signer = Signer(key32)
#     n = build(buf, signer, hdr, slots, health)   # the line in buf[:n], ends ,"sig":"<64 hex>"}
from hashlib import sha256
from binascii import hexlify
from json import dumps
from micropython import const

_BLOCK = const(64)  # SHA-256 block size


class Signer:
    """HMAC-SHA256 (RFC 2104) over hashlib.sha256: MicroPython has no hmac module."""

    def __init__(self, key):
        if len(key) > _BLOCK:
            key = sha256(key).digest()
        key = bytes(key) + bytes(_BLOCK - len(key))
        self._ipad = bytes(b ^ 0x36 for b in key)
        self._opad = bytes(b ^ 0x5C for b in key)

    def hexdigest(self, msg):
        h = sha256(self._ipad)
        h.update(msg)
        o = sha256(self._opad)
        o.update(h.digest())
        return hexlify(o.digest()).decode()


def isqrt(n):
    """floor(sqrt(n)) for a non-negative int of any size (Newton from above)."""
    if n < 2:
        return n
    b = 0
    m = n
    while m:
        m >>= 1
        b += 1
    x = 1 << ((b + 1) >> 1)
    while True:
        y = (x + n // x) >> 1
        if y >= x:
            return x
        x = y


def dec(num, den, d):
    """num/den rounded half away from zero to d decimals, without trailing zeros ("12.41", "-4.3", "9")."""
    neg = (num < 0) != (den < 0)
    num = abs(num)
    den = abs(den)
    p = 10 ** d
    q = (2 * num * p + den) // (2 * den)
    s = str(q // p)
    f = q % p
    if f:
        f = str(f)
        s += "." + ("0" * (d - len(f)) + f).rstrip("0")
    return "-" + s if neg and q else s


def _stats(st, i, scale):
    n = st.n
    if n == 0:
        return '{"n":0,"mean":null,"sd":null,"min":null,"max":null}'
    d = 2  # digits after the point: those the raw value carries (scale 100 -> 2), plus two
    while 10 ** (d - 2) < scale:
        d += 1
    s1, s2, lo, hi = st.get(i)
    v = n * s2 - s1 * s1  # n**2 * variance * scale**2, exact
    ns = n * scale
    return '{"n":%d,"mean":%s,"sd":%s,"min":%s,"max":%s}' % (
        n, dec(s1, ns, d), dec(isqrt(v * 10 ** (2 * d + 2)), ns * 10 ** (d + 1), d),
        dec(lo, scale, d), dec(hi, scale, d))


class _Out:
    # Writes the record piece by piece into a preallocated buffer: no long strings, no list of
    # pieces, so a window's close needs little more heap than the pieces themselves.
    def __init__(self, buf):
        self.buf = buf
        self.n = 0

    def w(self, s):
        b = s.encode() if isinstance(s, str) else s
        n = self.n + len(b)
        if n > len(self.buf):
            raise ValueError("record longer than its %d-byte buffer" % len(self.buf))
        self.buf[self.n:n] = b
        self.n = n


def build(buf, signer, hdr, slots, health):
    """Serialise and sign one window into buf (a bytearray); returns the line's length.

    hdr: (node, boot, seq, t0, t1, clock, fw); slots: objects with name, type, model, ident,
    counts() -> (frames, bad, warmup, missing), state, channels, scale, stats; health: a list of
    (name, value) pairs in record order. The line has no newline.
    """
    node, boot, seq, t0, t1, clock, fw = hdr
    o = _Out(buf)
    o.w('{"v":1,"node":%s,"boot":%d,"seq":%d,"t0":%d,"t1":%d,"clock":"%s","fw":%s,"sensors":{'
        % (dumps(node), boot, seq, t0, t1, clock, dumps(fw)))
    for j, s in enumerate(slots):
        frames, bad, warmup, missing = s.counts()
        o.w('%s"%s":{"type":"%s",' % ("," if j else "", s.name, s.type))
        if s.model:
            o.w('"model":%s,' % dumps(s.model))
        o.w('"id":%s,"frames":%d,"bad":%d,"warmup":%d,"missing":%d,' % (
            dumps(s.ident), frames, bad, warmup, missing))
        if s.state is not None:
            o.w('"state":%d,' % s.state)
        o.w('"ch":{')
        st = s.stats
        for i, name in enumerate(s.channels):
            o.w('%s"%s":' % ("," if i else "", name))
            o.w(_stats(st, i, s.scale[i]))
        o.w("}}")
    o.w('},"health":{')
    for j, (k, v) in enumerate(health):
        o.w('%s"%s":%s' % ("," if j else "", k, dumps(v)))
    o.w("}}")
    sig = signer.hexdigest(memoryview(buf)[:o.n])  # signed: the line without its sig member
    o.n -= 1
    o.w(',"sig":"%s"}' % sig)
    return o.n


def size(slots):
    """A generous upper bound of a record's length for these slots."""
    return 512 + sum(200 + 96 * len(s.channels) for s in slots)
