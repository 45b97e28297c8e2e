"""`make bench`: every bench/bench_*.py in one run, printing `name: value unit` lines.

Each module defines ``run(report)`` and calls ``report(name, value, unit)`` for each figure; a
ratio against a baseline is measured in the same process, never against a remembered number.
Select modules with ``python bench/run.py drivers node``.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _report(name: str, value, unit: str = "") -> None:
    if isinstance(value, float):
        value = f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    print(f"{name}: {value} {unit}".rstrip(), flush=True)


def main(argv: list[str]) -> int:
    mods = sorted(HERE.glob("bench_*.py"))
    if argv:
        mods = [m for m in mods if any(a in m.stem for a in argv)]
    print(f"# tynys bench on {platform.machine()} {platform.python_implementation()} {platform.python_version()}")
    failed = 0
    for path in mods:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        print(f"## {path.stem[6:]}", flush=True)
        t = time.perf_counter()
        try:
            mod.run(_report)
        except Exception as e:  # one broken benchmark must not hide the others' figures
            failed += 1
            print(f"{path.stem}: FAILED {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        print(f"# {path.stem[6:]} took {time.perf_counter() - t:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
