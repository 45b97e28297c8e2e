# A flash in RAM for power-loss tests: NOR rules, and the power cut at a chosen write.
#
#     dev = powercut.RamFlash(blocks=48)          # or RamFlash(data=bytearray(image))
#     dev.cut_at(n, torn=50)                      # the n-th program from now is the last
#
# NOR rules: erase sets a block to 0xFF; a program can only clear bits (new = old & data), so a
# file system that writes twice without erasing shows up as corrupt, as on the chip.
# Power loss: the cut program is torn (only the first `torn` percent of its bytes reach the
# flash), and it and every later operation raise OSError(EIO), as if the power went.
# dev.writes counts program operations, dev.erases erase operations (wear).
_BLOCK = const(4096)
_EIO = const(5)


class PowerCut(OSError):
    pass


class RamFlash:
    def __init__(self, blocks=48, data=None):
        self.blocks = blocks
        self.mem = bytearray(b"\xff" * (blocks * _BLOCK)) if data is None else data
        self._mv = memoryview(self.mem)
        self.writes = 0
        self.erases = 0
        self._cut = -1
        self.torn = 50
        self.dead = False
        # LittleFS may call in while the heap is locked (a file closed by the garbage
        # collector), so the exception raised at the cut exists up front.
        self._exc = PowerCut(_EIO)

    def cut_at(self, n, torn=50):
        """Cut the power at the n-th program operation from now; `torn` percent of it lands."""
        self._cut = self.writes + n
        self.torn = torn

    def _die(self):
        self.dead = True
        raise self._exc

    def readblocks(self, block, buf, off=0):
        a = block * _BLOCK + off
        n = len(buf)
        try:
            buf[:] = self._mv[a:a + n]
        except MemoryError:  # heap locked (a finaliser): copy without a slice
            for i in range(n):
                buf[i] = self.mem[a + i]

    def writeblocks(self, block, buf, off=None):
        if self.dead:
            self._die()
        if off is None:  # simple interface: erase, then program whole blocks
            off = 0
            for i in range(len(buf) // _BLOCK):
                self.ioctl(6, block + i)
        self.writes += 1
        a = block * _BLOCK + off
        n = len(buf)
        if self.writes == self._cut:
            n = n * self.torn // 100
        m = self.mem
        for i in range(n):
            m[a + i] &= buf[i]
        if self.writes == self._cut:
            self._die()

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return _BLOCK
        if op == 6:  # erase
            if self.dead:
                self._die()
            self.erases += 1
            m = self.mem
            for i in range(arg * _BLOCK, (arg + 1) * _BLOCK):
                m[i] = 0xFF
            return 0
        return 0
