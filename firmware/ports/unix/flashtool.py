# Files in a virtual node's flash image, from the host (host/tynys/vnode/flashimage.py calls these):
#     micropython -c "import flashtool; flashtool.main(['put', IMAGE, 'config.json', '/tmp/c.json'])"
# commands: format IMAGE BLOCKS | put IMAGE NAME HOSTFILE | get IMAGE NAME HOSTFILE | ls IMAGE [DIR]
#           rm IMAGE NAME
import os
import flash
import vnode


def main(argv):
    try:
        _main(argv)
    except OSError as e:  # one line for the host (host/tynys/vnode/flashimage.py shows it)
        print("flashtool: %s: %s" % (" ".join(argv[2:3]) or argv[1], "no such file" if e.errno == 2 else e))
        raise SystemExit(1)


def _main(argv):
    cmd, image = argv[0], argv[1]
    if cmd == "format":
        dev = flash.Flash(image, int(argv[2]))
        os.VfsLfs2.mkfs(dev, **vnode.LFS)
        dev.close()
        return
    vnode.mount(image)
    if cmd == "put":
        d = argv[2].rpartition("/")[0]
        if d:
            try:
                os.mkdir(d)
            except OSError:
                pass
        with open(argv[3], "rb") as src, open(argv[2] + ".tmp", "wb") as dst:
            dst.write(src.read())
        os.rename(argv[2] + ".tmp", argv[2])
    elif cmd == "get":
        with open(argv[2], "rb") as src:
            data = src.read()
        os.chdir("/")
        with open(argv[3], "wb") as dst:
            dst.write(data)
    elif cmd == "ls":
        for e in os.ilistdir(argv[2] if len(argv) > 2 else ""):
            print("%s %d" % (e[0] + ("/" if e[1] == 0x4000 else ""), e[3] if len(e) > 3 else 0))
    elif cmd == "rm":
        os.remove(argv[2])
    else:
        raise ValueError("unknown command " + cmd)
