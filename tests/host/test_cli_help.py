"""Every `tynys` command — walked from the root of the click tree, so commands added later are
covered too — has `--help` with an `Example:` whose command line names that command and parses
(every option it gives exists)."""

from __future__ import annotations

import shlex

import click
import pytest

from tynys.cli import cli, main

pytestmark = pytest.mark.host


def _walk(cmd, path, ctx):
    yield path, cmd, ctx
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            yield from _walk(sub, [*path, name], click.Context(sub, info_name=name, parent=ctx))


COMMANDS = list(_walk(cli, ["tynys"], click.Context(cli, info_name="tynys")))


def examples(help_text: str) -> list[str]:
    """The command lines after `Example:` (on its line or the indented lines below it)."""
    lines = help_text.splitlines()
    out = []
    for k, line in enumerate(lines):
        head, sep, rest = line.partition("Example:")
        if not sep:
            continue
        if rest.strip():
            out.append(rest.strip())
        for nxt in lines[k + 1:]:
            if nxt.strip().startswith("tynys "):
                out.append(nxt.strip())
            elif nxt.strip():
                break
    return out


def test_the_walk_reaches_every_command():
    names = {" ".join(p) for p, _, _ in COMMANDS}
    assert {"tynys aqi city", "tynys db stats", "tynys decode", "tynys vnode run", "tynys calibrate fit"} <= names
    assert len(names) > 40


@pytest.mark.parametrize("path, cmd, ctx", COMMANDS, ids=[" ".join(p) for p, _, _ in COMMANDS])
def test_every_command_has_help_with_an_example_that_parses(path, cmd, ctx, capsys):
    assert main([*path[1:], "--help"]) == 0
    shown = capsys.readouterr().out
    assert "Example:" in shown, f"`{' '.join(path)} --help` shows no Example:"
    lines = examples(cmd.help or "")
    assert lines and all(line.startswith("tynys ") for line in lines), f"{' '.join(path)}: no example command line"
    for line in lines:
        argv = shlex.split(line)
        assert argv[:len(path)] == path, f"{' '.join(path)}: its example runs `{line}`"
        args = argv[len(path):]
        if isinstance(cmd, click.Group):
            continue  # a group's example shows one of its commands, checked there
        cmd.make_parser(ctx).parse_args(args)  # raises NoSuchOption for an option the command lacks


def test_examples_are_read_from_one_line_or_an_indented_block():
    assert examples("Do it.\n\nExample: tynys db stats --db city.db\n") == ["tynys db stats --db city.db"]
    assert examples("Example:\n\n    tynys a --x 1\n    tynys a --y 2\n\nMore.") == ["tynys a --x 1", "tynys a --y 2"]
    assert examples("No example here.") == []
