"""The store examples in docs/host.md (import), docs/calibration.md and docs/aqi.md ("Over the
store") run, in that order, on the synthetic city of doc_city.py and print what the docs show —
numbers within one unit of the last digit shown (BLAS kernels differ: numtext.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from doc_city import build
from numtext import differences

from tynys.cli import main

pytestmark = pytest.mark.host

DOCS = Path(__file__).resolve().parents[2] / "docs"
RUN = ("import", "db sites", "calibrate fit", "calibrate apply", "calibrate profiles", "aqi city", "aqi node")
# Times of the run itself (when a file was imported) differ from run to run; the city's do not.
NOW = re.compile(r"\b(?!2026-01-|1970-01-)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def examples():
    for name in ("host.md", "calibration.md", "aqi.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        for block in re.findall(r"```console\n(.*?)```", text, re.S):
            lines = block.splitlines()
            for k, line in enumerate(lines):
                if not line.startswith("$ "):
                    continue
                words = line[2:].split()
                run = words[0] == "cat" or (words[0] == "tynys" and " ".join(words[1:3]).startswith(RUN) and "city.db" in words)
                if run:
                    argv = shlex.split(line[2:])
                    shown = []
                    for nxt in lines[k + 1:]:
                        if nxt.startswith("$ "):
                            break
                        shown.append(nxt)
                    yield name, argv, "\n".join(shown).rstrip("\n") + "\n"


def test_the_docs_show_store_examples():
    got = [(name, " ".join(argv[:3])) for name, argv, _ in examples()]
    for cmd in ("tynys import csv", "tynys db sites", "tynys calibrate fit", "tynys calibrate apply",
                "tynys calibrate profiles", "tynys aqi city", "tynys aqi node"):
        assert any(c.startswith(cmd) for _, c in got), cmd


def test_store_examples_print_what_the_docs_show(tmp_path, monkeypatch, capsys):
    build(tmp_path)
    monkeypatch.chdir(tmp_path)
    for name, argv, shown in examples():
        if argv[0] == "cat":
            assert Path(argv[1]).read_text() == shown, f"{name}: {' '.join(argv)}"
            continue
        code = main(argv[1:])
        out, err = capsys.readouterr()
        assert code == (2 if "tynys: error" in err else 0)
        want = NOW.sub("<time>", shown)
        diffs = min((differences(want, NOW.sub("<time>", got)) for got in (err + out, out + err)), key=len)
        assert not diffs, f"{name}: {' '.join(argv)}\n" + "\n".join(diffs)
