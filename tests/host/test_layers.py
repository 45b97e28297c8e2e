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
