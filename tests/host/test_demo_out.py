"""make demo's --out: a directory the demo did not make is never cleared (the run itself: tests/e2e/test_demo.py)."""

import pytest

from tynys import demo

pytestmark = pytest.mark.host


def test_the_demo_refuses_to_clear_a_directory_it_did_not_make(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("months of work")
    (tmp_path / "nodes.csv").write_text("")
    assert demo.main(["--out", str(tmp_path), "--nodes", "1", "--hours", "1"]) == 2
    assert capsys.readouterr().err == (f"tynys demo: error: {tmp_path} holds files the demo did not make (thesis.tex); "
                                       "choose a new or empty --out: the demo clears its directory\n")
    assert (tmp_path / "thesis.tex").read_text() == "months of work"
