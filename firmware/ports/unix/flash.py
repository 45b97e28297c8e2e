# The virtual node's flash: a block device for os.VfsLfs2 kept in a file, the flash image.
#
#     dev = flash.Flash("flash.img", blocks=512)   # 2 MB of 4 KB erase blocks, like an ESP32 vfs
#     os.VfsLfs2.mkfs(dev); os.mount(os.VfsLfs2(dev), "/flash")
#
# Kept small: it lives in the node's capped heap, though a board's flash driver is in ROM.
# powercut.py has a flash in RAM with NOR rules and power cuts for the power-loss tests.
_BLOCK = const(4096)
_CHUNK = const(128)  # the largest LittleFS program with MicroPython's defaults (its cache)


class Flash:
    def __init__(self, path, blocks=512):
        self.blocks = blocks
        # LittleFS may call in while the heap is locked (a file closed by the garbage
        # collector), so nothing below allocates: the erase pattern exists up front.
        self._ff = b"\xff" * _CHUNK
        try:
            self._f = open(path, "r+b")
        except OSError:
            with open(path, "wb") as f:
                for _ in range(blocks * (_BLOCK // _CHUNK)):
                    f.write(self._ff)
            self._f = open(path, "r+b")

    def readblocks(self, block, buf, off=0):
        self._f.seek(block * _BLOCK + off)
        self._f.readinto(buf)

    def writeblocks(self, block, buf, off=None):
        if off is None:  # simple interface: whole blocks, erased first
            off = 0
        self._f.seek(block * _BLOCK + off)
        self._f.write(buf)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return _BLOCK
        if op == 6:  # erase
            self._f.seek(arg * _BLOCK)
            for _ in range(_BLOCK // _CHUNK):
                self._f.write(self._ff)
            return 0
        if op == 3:  # sync
            self._f.flush()
        return 0

    def close(self):
        self._f.close()
