"""Dependencies point one way, CLI -> library -> store: no library module (``host/tynys/**``
outside ``host/tynys/cli/``) imports ``tynys.cli`` or the tests, at module level or inside a
function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.host

PACKAGE = Path(__file__).resolve().parents[2] / "host" / "tynys"


def imported(path: Path, package_dir: Path = PACKAGE) -> set[str]:
    """Absolute names of the modules *path* imports (relative imports resolved)."""
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    if package and package[-1] == "__init__":
        package = package[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)  # `from . import cli`
    return out


def library_modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts[:1])


def forbidden(names: set[str]) -> list[str]:
    return sorted(n for n in names if n == "tynys.cli" or n.startswith(("tynys.cli.", "tests.")) or n == "tests")


def test_the_library_never_imports_the_cli_or_the_tests():
    bad = {str(p.relative_to(PACKAGE.parent)): forbidden(imported(p)) for p in library_modules()}
    assert len(bad) > 40
    assert {k: v for k, v in bad.items() if v} == {}


def test_the_check_sees_every_way_of_importing(tmp_path):
    pkg = tmp_path / "tynys"
    (pkg / "aqi").mkdir(parents=True)
    cases = {"from .cli.output import emit": ["tynys.cli.output", "tynys.cli.output.emit"],
             "from ..cli import output": ["tynys.cli", "tynys.cli.output"],
             "from .. import cli": ["tynys.cli"],
             "def f():\n    import tynys.cli.aqi": ["tynys.cli.aqi"],
             "from tests.e2e import receiver": ["tests.e2e", "tests.e2e.receiver"],
             "from .. import rows": []}
    for k, (src, want) in enumerate(cases.items()):
        path = pkg / "aqi" / f"m{k}.py" if src.startswith(("from ..", "def")) else pkg / f"m{k}.py"
        path.write_text(src + "\n")
        assert forbidden(imported(path, pkg)) == want, src


def test_time_is_read_and_written_in_one_module():
    # Issue 11.4: iso() existed twice and the vnode CLI parsed times and durations its own way. Times
    # (ISO text, durations, zones) are read and written by tynys.timeutil alone; others import it.
    found = {}
    for p in PACKAGE.rglob("*.py"):
        if p.name == "timeutil.py":
            continue
        bad = time_handling(ast.parse(p.read_text(encoding="utf-8"), str(p)))
        if bad:
            found[str(p.relative_to(PACKAGE))] = bad
    assert found == {}


OWN_TIME_FUNCTIONS = {"iso", "parse_time", "parse_duration", "parse_times", "period_starts"}


def time_handling(tree: ast.AST) -> list[str]:
    """Functions of timeutil's own defined here, and time parsing done by hand, under any alias
    (``from datetime import datetime as dt; dt.fromisoformat``, ``import datetime as d``)."""
    classes, modules, direct = {"datetime"}, {"datetime"}, set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            modules.update(a.asname or a.name for a in n.names if a.name == "datetime")
        elif isinstance(n, ast.ImportFrom) and n.module in ("datetime", "time"):
            for a in n.names:
                if n.module == "datetime" and a.name == "datetime":
                    classes.add(a.asname or a.name)
                elif a.name in ("strptime", "utcfromtimestamp"):
                    direct.add(a.name)

    def is_class(v):  # the datetime class (``date.fromisoformat`` reads a date, not a time)
        return isinstance(v, ast.Name) and v.id in classes or (
            isinstance(v, ast.Attribute) and v.attr == "datetime" and isinstance(v.value, ast.Name) and v.value.id in modules)

    defs = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    calls = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and (
        n.attr in ("utcfromtimestamp", "strptime") or n.attr == "fromisoformat" and is_class(n.value))}
    return sorted(defs & OWN_TIME_FUNCTIONS | calls | direct)


def test_the_time_check_sees_aliases():
    cases = {"from datetime import datetime as dt\ndt.fromisoformat(s)": ["fromisoformat"],
             "import datetime as d\nd.datetime.fromisoformat(s)": ["fromisoformat"],
             "from datetime import date\ndate.fromisoformat(s)": [],
             "from time import strptime": ["strptime"],
             "import time\ntime.strptime(s, f)": ["strptime"],
             "def iso(t):\n    pass": ["iso"],
             "from .timeutil import iso\niso(t)": []}
    for src, want in cases.items():
        assert time_handling(ast.parse(src)) == want, src
