"""`make bench`: every bench/bench_*.py in one run, printing `name: value unit` lines.

Each module defines ``run(report)``. ``report(name, value, unit)`` prints one figure; a ratio
against a baseline is measured in the same process, never against a remembered number. For a
comparison, time every side in the same run, in alternation, several times::

    def run(report):
        def ours():                      # set-up here is not timed ...
            lines = make_lines()
            return lambda: ingest(lines)  # ... only the callable it returns is
        report.compare("ingest", {"tynys": ours, "one per commit": baseline, "executemany": ceiling},
                       work=5000, per="records", baseline="one per commit", ceiling="executemany")

prints, per side, the median and best rate over the rounds, then the first side's speed against
the baseline and its "fraction of the ceiling" (the best the machine allows for the same job,
e.g. a plain ``executemany`` of the same rows), each as the median of the per-round ratios (the
sides of one round run back to back, so machine noise hits them alike). Keep library imports
out of the timed callables (import in set-up). ``report.peak_memory`` compares peak RSS the same
way, each side in a fresh child process.

Select modules with ``python bench/run.py drivers node``; ``--repeats N`` overrides every
comparison's rounds (``make bench BENCH_ARGS="--repeats 3 ingest"``).
"""

from __future__ import annotations

import gc
import importlib.util
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent

Side = Callable[[], object]  # set-up (untimed) -> the callable to time, or (callable, cleanup)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


class Report:
    """What ``run(report)`` gets: call it to print a figure; ``compare`` and ``peak_memory`` measure sides."""

    def __init__(self, repeats: int | None = None, out=sys.stdout):
        self.repeats = repeats
        self.out = out
        self.cpu: dict[str, list[float]] = {}

    def __call__(self, name: str, value, unit: str = "") -> None:
        print(f"{name}: {_fmt(value)} {unit}".rstrip(), file=self.out, flush=True)

    def compare(self, name: str, sides: dict[str, Side], *, work: float | dict[str, float] | None = None, per: str = "",
                repeats: int = 5, baseline: str | None = None, ceiling: str | None = None,
                warmup: bool = False) -> dict[str, list[float]]:
        """Time each side *repeats* times in alternation (the order rotates every round) and print
        the figures. The first side is ours. With *work* (units of *per* done by one call, or a
        dict of it per side when the sides do different amounts) figures are rates, *per*/s;
        without, seconds per call. Returns ``{side: [seconds per round]}``."""
        repeats = self.repeats or repeats
        labels = list(sides)
        times: dict[str, list[float]] = {k: [] for k in labels}
        cpu: dict[str, list[float]] = {k: [] for k in labels}
        if warmup:
            for k in labels:
                _timed(sides[k])
        for r in range(repeats):
            for k in labels[r % len(labels):] + labels[: r % len(labels)]:
                wall, used = _timed(sides[k])
                times[k].append(wall)
                cpu[k].append(used)
        amount = {k: (work.get(k, 1) if isinstance(work, dict) else work or 1) for k in labels}
        for k in labels:
            ts, w = times[k], amount[k]
            if work is not None:
                # on a shared machine the best CPU-time rate is the steadiest figure (waits for the disk left out)
                by_cpu = f"; best by CPU time {_fmt(w / min(cpu[k]))}" if min(cpu[k]) > 0 else ""
                self(f"{name} [{k}]", w / statistics.median(ts), f"{per}/s (median; best {_fmt(w / min(ts))}{by_cpu}, "
                                                                f"{len(ts)} runs)")
            else:
                self(f"{name} [{k}]", statistics.median(ts), f"s (median; best {_fmt(min(ts))}, {len(ts)} runs)")
        ours = labels[0]
        for other, what in ((baseline, f"{ours} / {baseline}"), (ceiling, "fraction of the ceiling")):
            if other is None:
                continue
            # the speed of ours relative to the other side, round by round; CPU time too, which a
            # busy machine disturbs less than wall time (but it leaves out waiting for the disk)
            ratios = [(amount[ours] / a) / (amount[other] / b) for a, b in zip(times[ours], times[other])]
            by_cpu = [(amount[ours] / a) / (amount[other] / b) for a, b in zip(cpu[ours], cpu[other]) if a > 0 and b > 0]
            label = f"{name}: {what}" + (f" ({ours} / {other})" if other == ceiling else "")
            self(label, statistics.median(ratios), f"{'x ' if other == baseline else ''}(median of {len(ratios)} rounds; "
                 f"range {_fmt(min(ratios))}..{_fmt(max(ratios))}"
                 f"{f'; by CPU time {_fmt(statistics.median(by_cpu))}' if by_cpu else ''})".lstrip())
        self.cpu = cpu  # {side: [CPU seconds per round]} of this comparison, for a goal stated in time
        return times

    def peak_memory(self, name: str, sides: dict[str, Side], *, baseline: str | None = None) -> dict[str, int]:
        """Peak resident memory each side adds over its set-up, in a fresh child process per side
        (Linux: ``ru_maxrss`` of the child minus its RSS after set-up). Prints MiB and the first
        side's fraction of the baseline's. Returns ``{side: bytes}``."""
        peaks = {k: _child_peak(fn) for k, fn in sides.items()}
        for k, b in peaks.items():
            self(f"{name} peak memory [{k}]", b / 2**20, "MiB over set-up (child process, ru_maxrss)")
        if baseline is not None:
            ours = next(iter(sides))
            self(f"{name} peak memory: {ours} / {baseline}", peaks[ours] / max(peaks[baseline], 1), "")
        return peaks


def _prepare(side: Side):
    got = side()
    return got if isinstance(got, tuple) else (got, None)


def _timed(side: Side) -> tuple[float, float]:
    """Wall and CPU seconds (of this process) of one run of *side*."""
    go, cleanup = _prepare(side)
    gc.collect()
    try:
        t, c = time.perf_counter(), time.process_time()
        go()
        return time.perf_counter() - t, time.process_time() - c
    finally:
        if cleanup is not None:
            cleanup()


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child_peak(side: Side) -> int:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: set up, note RSS, run, report through the pipe
        code = 1
        try:
            os.close(r)
            go, cleanup = _prepare(side)
            gc.collect()
            os.write(w, f"{_rss()}\n".encode())
            go()
            if cleanup is not None:
                cleanup()
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r) as f:
        start = f.read().strip()
    _, status, usage = os.wait4(pid, 0)
    if status != 0 or not start:
        raise RuntimeError(f"the measured side failed in its child process (status {status})")
    return max(usage.ru_maxrss * 1024 - int(start), 0)


def main(argv: list[str]) -> int:
    repeats = None
    if "--repeats" in argv:
        i = argv.index("--repeats")
        repeats = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    mods = sorted(HERE.glob("bench_*.py"))
    if argv:
        mods = [m for m in mods if any(a in m.stem for a in argv)]
    print(f"# tynys bench on {platform.machine()} {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")
    report = Report(repeats)
    failed = 0
    for path in mods:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        print(f"## {path.stem[6:]}", flush=True)
        t = time.perf_counter()
        try:
            mod.run(report)
        except Exception as e:  # one broken benchmark must not hide the others' figures
            failed += 1
            print(f"{path.stem}: FAILED {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        print(f"# {path.stem[6:]} took {time.perf_counter() - t:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
