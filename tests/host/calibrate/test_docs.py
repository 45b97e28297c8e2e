"""Every ``tynys calibrate`` command has help text and is shown in docs/calibration.md, and every
example there runs on the files that ship with Tynys and prints what the docs show."""

import re
import shlex
from pathlib import Path

import pytest
from numtext import differences

from tynys.cli import main
from tynys.cli.calibrate import calibrate

pytestmark = pytest.mark.host

REPO = Path(__file__).resolve().parents[3]
DOC = (REPO / "docs" / "calibration.md").read_text()


@pytest.mark.parametrize("name", sorted(calibrate.commands))
def test_command_documented(name):
    cmd = calibrate.commands[name]
    assert cmd.help and "Example:" in cmd.help
    assert f"tynys calibrate {name}" in DOC


def file_examples():
    """Each plain code block's ``$ tynys …`` commands (the files in calibration/examples; the ``console``
    blocks run on a synthetic city in test_store_docs.py), with what the block shows after each."""
    env, out, blocks, block, fence = {}, [], [], [], None
    for line in DOC.splitlines():
        if fence is None and line.startswith("```"):
            fence, block = line[3:], []
        elif fence is not None and line == "```":
            if fence == "":
                blocks.append(block)
            fence = None
        elif fence is not None:
            block.append(line)
    for lines in blocks:
        steps, k = [], 0
        while k < len(lines):
            line = lines[k]
            k += 1
            if not line.startswith("$ "):
                continue
            cmd = line[2:]
            while cmd.endswith("\\") and k < len(lines):
                cmd = cmd[:-1] + lines[k].strip()
                k += 1
            var = re.fullmatch(r"([A-Z])=(\S+)", cmd)
            if var:
                env[var.group(1)] = var.group(2)
                continue
            shown = []
            while k < len(lines) and not lines[k].startswith("$ "):
                shown.append(lines[k])
                k += 1
            steps.append((shlex.split(re.sub(r"\$([A-Z])\b", lambda m: env[m.group(1)], cmd)), shown))
        if any(argv[:2] == ["tynys", "calibrate"] for argv, _ in steps):
            out.append(pytest.param(steps, id=" ".join(steps[-1][0][1:4])))
    return out


@pytest.mark.parametrize("steps", file_examples())
def test_file_examples_run_from_a_fresh_clone_and_print_what_the_docs_show(steps, tmp_path, monkeypatch, capsys):
    # Run where the repository's files are found as the docs name them (calibration/examples/…), writing
    # what they write (profiles, reports, databases) into a scratch folder.
    (tmp_path / "calibration").symlink_to(REPO / "calibration")
    monkeypatch.chdir(tmp_path)
    for argv, shown in steps:
        code = main(argv[1:])
        out, err = capsys.readouterr()
        printed = (out + err).splitlines()
        assert code == (2 if any(s.startswith("tynys: error") for s in shown) else 0), err
        if shown and shown[0].startswith("[{"):  # JSON shown with its numbers shortened
            continue
        at = 0
        for want in shown:
            if want.strip() in ("…", "") or set(want.strip()) <= set("- "):
                continue
            while at < len(printed) and differences(want + "\n", printed[at] + "\n"):
                at += 1
            assert at < len(printed), (f"{' '.join(argv)}: not printed (in this order): {want!r}\n--- printed\n"
                                       + "\n".join(printed))
            at += 1
