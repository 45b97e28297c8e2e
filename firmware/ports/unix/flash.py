# The virtual node's flash: a block device for os.VfsLfs2, kept in a file (the flash image) or
# in RAM, with NOR-flash rules and power loss on demand.
#
#     dev = flash.Flash("flash.img", blocks=512)   # 2 MB of 4 KB erase blocks, like an ESP32 vfs
#     os.VfsLfs2.mkfs(dev); os.mount(os.VfsLfs2(dev), "/flash")
#
# NOR rules: erase sets a block to 0xFF; a program can only clear bits (new = old & data), so a
# file system that writes twice without erasing shows up as corrupt, as on the chip.
# Power loss: dev.cut_at(n) makes the n-th program operation from now the last one; it is torn
# (only the first `torn` percent of its bytes reach the flash) and it and everything after raise OSError(EIO),
# as if the power went. dev.writes counts program operations, dev.erases erase operations.
_BLOCK = const(4096)
_EIO = const(5)
_PROG = const(32)  # LittleFS program size on the node (MicroPython's default, as the ESP32 port uses)
_CACHE = const(128)  # LittleFS programs at most its cache: 4 program sizes


class PowerCut(OSError):
    pass


class Flash:
    def __init__(self, path=None, blocks=512, data=None):
        self.path = path
        self.blocks = blocks
        self.writes = 0
        self.erases = 0
        self._cut = -1
        self.torn = 50
        self.dead = False
        self._f = None
        # LittleFS may call in while the heap is locked (a file closed by the garbage
        # collector), so nothing below allocates: buffers and the exception exist up front.
        self._scratch = bytearray(_CACHE)
        sv = memoryview(self._scratch)
        self._views = [sv[:k] for k in range(0, _CACHE + 1, _PROG)]  # no slicing per write
        self._exc = PowerCut(_EIO)
        self.mem = data  # a bytearray image (tests copy and compare these)
        if data is None and path is None:
            self.mem = bytearray(b"\xff" * (blocks * _BLOCK))
        if self.mem is not None:
            self._mv = memoryview(self.mem)
        else:
            try:
                self._f = open(path, "r+b")
            except OSError:
                with open(path, "wb") as f:
                    chunk = b"\xff" * _CACHE
                    for _ in range(blocks * (_BLOCK // _CACHE)):
                        f.write(chunk)
                self._f = open(path, "r+b")

    def cut_at(self, n, torn=50):
        """Cut the power at the n-th program operation from now; `torn` percent of it lands."""
        self._cut = self.writes + n
        self.torn = torn

    def _die(self):
        self.dead = True
        raise self._exc

    def readblocks(self, block, buf, off=0):
        a = block * _BLOCK + off
        if self.mem is not None:
            n = len(buf)
            try:
                buf[:] = self._mv[a:a + n]
            except MemoryError:  # heap locked (a finaliser): copy without a slice
                mv = self._mv
                for i in range(n):
                    buf[i] = mv[a + i]
        else:
            self._f.seek(a)
            self._f.readinto(buf)

    def _program(self, a, data, n):
        if self.mem is not None:
            m = self.mem
            for i in range(n):
                m[a + i] &= data[i]
        else:
            # read-modify-write; LittleFS programs whole multiples of the program size
            v = self._views[n // _PROG] if n % _PROG == 0 and n <= _CACHE else memoryview(bytearray(n))
            self._f.seek(a)
            self._f.readinto(v)
            s = v
            for i in range(n):
                s[i] &= data[i]
            self._f.seek(a)
            self._f.write(v)

    def writeblocks(self, block, buf, off=None):
        if self.dead:
            self._die()
        if off is None:  # simple interface: erase, then program whole blocks
            off = 0
            for i in range(len(buf) // _BLOCK):
                self._erase(block + i)
        self.writes += 1
        a = block * _BLOCK + off
        n = len(buf)
        if self.writes == self._cut:
            self._program(a, buf, n * self.torn // 100)
            self._die()
        self._program(a, buf, n)

    def _erase(self, block):
        if self.dead:
            self._die()
        self.erases += 1
        a = block * _BLOCK
        if self.mem is not None:
            m = self.mem
            for i in range(a, a + _BLOCK):
                m[i] = 0xFF
        else:
            s = self._scratch
            for i in range(_CACHE):
                s[i] = 0xFF
            self._f.seek(a)
            for i in range(_BLOCK // _CACHE):
                self._f.write(s)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return _BLOCK
        if op == 6:  # erase
            self._erase(arg)
            return 0
        if op == 3:  # sync
            if self._f is not None:
                self._f.flush()
            return 0
        return 0 if op in (1, 2) else None

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None
