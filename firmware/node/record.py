# The record (docs/record.md): one signed JSON line per window, built once when the window closes.
# Floats never appear: every statistic is formatted from exact integer sums, so an ESP32
# (single-precision floats) and the unix port produce the same bytes.
#
#     build(f, signer, hdr, slots, health)   # signer: node.Signer; writes the line, ending
#                                            # ,"sig":"<64 hex>"}, to f
from json import dumps


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


def build(out, signer, hdr, slots, health):
    """Serialise and sign one window, writing the line piece by piece to out (its write method);
    no newline. hdr: (node, boot, seq, t0, t1, clock, fw); slots: objects with name, type, model,
    ident, counts() -> (frames, bad, warmup, missing), state, channels, scale, stats; health:
    (name, value) pairs in record order. The signature covers the line without its sig member."""
    node, boot, seq, t0, t1, clock, fw = hdr
    h = signer.begin()

    def w(s):
        b = s.encode()
        h.update(b)
        out.write(b)

    w('{"v":1,"node":%s,"boot":%d,"seq":%d,"t0":%d,"t1":%d,"clock":"%s","fw":%s,"sensors":{'
      % (dumps(node), boot, seq, t0, t1, clock, dumps(fw)))
    for j, s in enumerate(slots):
        frames, bad, warmup, missing = s.counts()
        w('%s"%s":{"type":"%s",' % ("," if j else "", s.name, s.type))
        if s.model:
            w('"model":%s,' % dumps(s.model))
        w('"id":%s,"frames":%d,"bad":%d,"warmup":%d,"missing":%d,' % (
            dumps(s.ident), frames, bad, warmup, missing))
        if s.state is not None:
            w('"state":%d,' % s.state)
        w('"ch":{')
        st = s.stats
        for i, name in enumerate(s.channels):
            w('%s"%s":%s' % ("," if i else "", name, _stats(st, i, s.scale[i])))
        w("}}")
    w('},"health":{')
    for j, (k, v) in enumerate(health):
        w('%s"%s":%s' % ("," if j else "", k, dumps(v)))
    w("}")
    h.update(b"}")  # the line's closing brace, written after the sig member
    out.write(b',"sig":"%s"}' % signer.end(h).encode())
