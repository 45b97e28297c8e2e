"""The shared output options: one format at a time, and CSV cells that hold plain values (nested
values as JSON, booleans as in JSON), never Python reprs."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tynys import rows
from tynys.cli import main

pytestmark = pytest.mark.host


@pytest.mark.parametrize("argv", [
    ["aqi", "value", "-p", "pm25", "--period", "24h", "35.9", "--json", "--csv"],
    ["aqi", "standards", "--nl", "--json"],
    ["decode", "--sensor", "sds011", "--hex", "AA", "--csv", "--nl"],
])
def test_two_output_formats_are_a_usage_error(capsys, argv):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Error: use just one of --" in err and "they choose the output format" in err


def test_csv_cells_are_json_for_nested_values_and_booleans(capsys):
    assert main(["aqi", "index", "o3:8h=0.078", "pm25:24h=35.9", "--csv"]) == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["complete"] == "true" and row["index"] == "126" and row["note"] == ""
    pollutants = json.loads(row["pollutants"])  # JSON, not "[{'index': 126, ...}]"
    assert [p["pollutant"] for p in pollutants] == ["o3", "pm25"] and pollutants[0]["index"] == 126


def test_csv_cell_forms():
    assert [rows.csv_cell(v) for v in (None, float("nan"), True, False, 1.5, "a,b", {"k": [1, None]}, (1, 2))] == \
        ["", "", "true", "false", "1.5", "a,b", '{"k": [1, null]}', "[1, 2]"]
    buf = io.StringIO()
    rows.write_csv([{"a": 1, "b": [1]}, {"a": None, "b": False}], buf)
    assert buf.getvalue() == 'a,b\r\n1,[1]\r\n,false\r\n'
