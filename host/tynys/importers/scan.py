"""Reading a delimited file in column batches with pyarrow's C CSV reader — never as Python rows.

    s = scan("2024-01-15_sds011_sensor_1.csv", delimiter=";", numbers=["P1", "P2"], texts=["sensor_id"],
             times={"timestamp": lambda cells, row: parse_times(cells, tz="UTC", first_row=row)})
    s.rows, s.number("P2"), s.time("timestamp"), s.text("sensor_id"), s.dropped["P2"]

Only the columns asked for are converted. Each batch's numbers are cast in C (``abc``, ``inf``
and ``NaN`` become NaN and are counted per column in :attr:`Scan.dropped`, with the first such
cell and its row), its times parsed by the caller's vectorised parser, its text columns
dictionary-encoded: a million-row file never exists as Python objects. Rows with the wrong
number of cells (a truncated last line, a stray delimiter) are skipped and counted. A file with
a header and no rows, or cut short mid-stream, is refused with what was found.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .table import ImportFormatError, open_text

_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
BLOCK = 1 << 18  # bytes per batch: a few thousand rows; memory stays bounded whatever the file


@dataclass
class Dropped:
    """Cells of one value column that were not kept, by why, with the first one and its row."""

    not_number: int = 0  # text that is not a number: 'abc', 'n/a'
    not_finite: int = 0  # inf, NaN written out
    out_of_range: int = 0  # outside the quantity's physical range (table.PLAUSIBLE)
    first: dict = field(default_factory=dict)  # why -> "'abc' (row 3)"

    @property
    def total(self) -> int:
        return self.not_number + self.not_finite + self.out_of_range

    def note(self, where: str, unit_range: str = "") -> str:
        parts = [(self.not_number, "not numbers"), (self.not_finite, "not finite"),
                 (self.out_of_range, f"out of range{' ' + unit_range if unit_range else ''}")]
        why = "; ".join(f"{n} {label} (first {self.first[key]})" for (n, label), key in
                        zip(parts, ("not_number", "not_finite", "out_of_range")) if n)
        return f"{where}: {self.total} value(s) dropped: {why}"

    def add(self, why: str, n: int, example: str) -> None:
        if n:
            setattr(self, why, getattr(self, why) + n)
            self.first.setdefault(why, example)


@dataclass
class Scan:
    """The columns read from one file."""

    path: str
    header: list[str]
    rows: int = 0
    skipped: int = 0  # rows with the wrong number of cells, skipped
    skipped_first: str = ""
    dropped: dict[str, Dropped] = field(default_factory=dict)
    firsts: dict = field(default_factory=dict)  # key column -> {value: {column: the first row's cell}}
    _numbers: dict = field(default_factory=dict)  # column -> _Grow
    _times: dict = field(default_factory=dict)
    _texts: dict = field(default_factory=dict)  # column -> (_Grow of codes, {label: code})

    def number(self, col: str) -> np.ndarray:
        return self._numbers[col].array()

    def time(self, key) -> np.ndarray:
        return self._times[key].array()

    def codes(self, col: str) -> tuple[np.ndarray, list[str]]:
        """A text column as (code per row, labels): few distinct values, however many rows."""
        grow, index = self._texts[col]
        return grow.array(), list(index)

    def text(self, col: str) -> np.ndarray:
        """A text column as one str per row (stripped)."""
        codes, labels = self.codes(col)
        return np.asarray(labels, dtype=str)[codes] if len(labels) else np.zeros(len(codes), dtype=str)

    def timed(self, key, label: str) -> tuple[np.ndarray, slice | np.ndarray]:
        """The times of *key* and which rows to keep (``slice(None)`` when all): a row whose time is
        outside the plausible years (``NO_TIME``) is dropped and counted under *label*."""
        from ..timeutil import NO_TIME
        t = self.time(key)
        keep = t != NO_TIME
        if keep.all():
            return t, slice(None)
        k = int(np.flatnonzero(~keep)[0])
        self.dropped.setdefault(label, Dropped()).add("out_of_range", int((~keep).sum()),
                                                      f"a year outside 1900-2199 (row {k + 1})")
        return t[keep], keep

    def notes(self) -> list[str]:
        out = []
        if self.skipped:
            out.append(f"{self.path}: {self.skipped} row(s) with the wrong number of cells skipped (first: "
                       f"{self.skipped_first!r}): a truncated line or a stray delimiter")
        return out


class _Grow:
    """A column filled batch by batch into one array, grown by half when full: no list of batches
    and no final copy. Capacity not yet written is never touched, so it costs no memory."""

    def __init__(self, dtype, capacity: int):
        self.buf, self.n = np.empty(max(capacity, 1024), dtype), 0

    def put(self, values) -> None:
        end = self.n + len(values)
        if end > len(self.buf):
            bigger = np.empty(max(end, len(self.buf) * 3 // 2), self.buf.dtype)
            bigger[:self.n] = self.buf[:self.n]
            self.buf = bigger
        self.buf[self.n:end] = values
        self.n = end

    def array(self) -> np.ndarray:
        return self.buf[:self.n]


def _put_codes(grow: _Grow, index: dict, cells, pc) -> None:
    """Dictionary-encode one batch of text cells and store the codes of a file-wide label index."""
    enc = pc.dictionary_encode(pc.fill_null(cells, ""))
    local = [index.setdefault(v.strip(), len(index)) for v in enc.dictionary.to_pylist()]
    grow.put(np.asarray(local, np.int32)[np.asarray(enc.indices)] if local else np.zeros(len(cells), np.int32))


def read_header(path, *, skip: int = 0, delimiter: str = ",") -> list[str]:
    """The header row after *skip* preamble lines (a UTF-8 BOM dropped, ``.gz`` read through)."""
    return _header(path, skip, delimiter)[0]


def _header(path, skip: int, delimiter: str) -> tuple[list[str], int]:
    """The header and how many lines come before it (the preamble and any blank lines)."""
    with open_text(path) as f:
        for _ in range(skip):
            f.readline()
        for k, line in enumerate(f):
            if line.strip():
                return [h.strip() for h in next(csv.reader([line], delimiter=delimiter))], skip + k
    raise ImportFormatError(f"{path}: no header row (the file is empty after {skip} preamble lines)")


def scan(path, *, skip: int = 0, delimiter: str = ",", numbers=(), texts=(), times: dict | None = None,
         firsts: dict | None = None) -> Scan:
    """Read the named columns of *path* in batches.

    *numbers*: columns cast to float64; *texts*: columns kept dictionary-encoded; *times*:
    ``{column or (columns joined by a space): parse(cells, first_row) -> int64}``; *firsts*:
    ``{key column: [columns]}``, the cells of the first row of each key (a sensor's name and place:
    kept per sensor, not per row). A file with a header and no data rows is refused.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    header, before = _header(path, skip, delimiter)
    pos = {}
    for i, h in enumerate(header):
        pos.setdefault(h, i)
    times, firsts = times or {}, firsts or {}
    wanted = list(dict.fromkeys([*numbers, *texts, *(c for k in times for c in (k if isinstance(k, tuple) else (k,))),
                                 *(c for k, cs in firsts.items() for c in (k, *cs))]))
    missing = [c for c in wanted if c not in pos]
    if missing:
        raise ImportFormatError(f"{path}: missing column(s) {', '.join(map(repr, missing))}; "
                                f"columns found: {', '.join(map(repr, header))}")
    names = [f"c{i}" for i in range(len(header))]
    col = {c: names[pos[c]] for c in wanted}
    s = Scan(str(path), header, dropped={c: Dropped() for c in numbers})
    guess = _rows_guess(path)
    s._numbers = {c: _Grow(np.float64, guess) for c in numbers}
    s._texts = {c: (_Grow(np.int32, guess), {}) for c in texts}
    s._times = {k: _Grow(np.int64, guess) for k in times}
    s.firsts = {k: {} for k in firsts}

    def bad_row(row) -> str:
        s.skipped += 1
        s.skipped_first = s.skipped_first or row.text[:80]
        return "skip"

    compressed = "gzip" if Path(path).suffix == ".gz" else None
    try:
        reader = pacsv.open_csv(
            pa.input_stream(str(path), compression=compressed),
            read_options=pacsv.ReadOptions(skip_rows=before + 1, column_names=names, block_size=BLOCK),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=bad_row),
            convert_options=pacsv.ConvertOptions(column_types={col[c]: pa.string() for c in wanted},
                                                 include_columns=[col[c] for c in wanted], strings_can_be_null=True,
                                                 null_values=[""], quoted_strings_can_be_null=True))
        for batch in reader:
            first = s.rows + 1
            for c in numbers:
                s._numbers[c].put(_floats(batch.column(col[c]), s.dropped[c], first, pc))
            for c in texts:
                _put_codes(*s._texts[c], batch.column(col[c]), pc)
            for key, cols in firsts.items():
                _first_rows(batch, col, key, cols, s.firsts[key], pc)
            for key, parse in times.items():
                cells = (batch.column(col[key]) if not isinstance(key, tuple) else
                         pc.binary_join_element_wise(*[batch.column(col[c]) for c in key], " "))
                s._times[key].put(parse(cells, first))
            s.rows += batch.num_rows
    except pa.ArrowInvalid as e:
        if "UTF8" in str(e):
            raise ImportFormatError(f"{path}: not UTF-8 text (a cell holds other bytes): save it as UTF-8, e.g. "
                                    f"iconv -f CP1251 -t UTF-8 {path} > utf8.csv for a Windows Cyrillic export") from None
        raise ImportFormatError(f"{path}: not a readable CSV ({e})") from None
    except (OSError, EOFError) as e:
        raise ImportFormatError(f"{path}: the file ends early or is damaged ({e}): copy or download it again") from None
    pa.default_memory_pool().release_unused()  # the reader's buffers go back to the system, not kept for later
    if s.rows == 0:
        why = f" ({s.skipped} row(s) had the wrong number of cells: {s.skipped_first!r})" if s.skipped else ""
        raise ImportFormatError(f"{path}: a header and no data rows{why}: nothing to read; check the file is complete")
    return s


def _rows_guess(path) -> int:
    """Rows to make room for: the file's size over a short row's (a guess; columns grow past it)."""
    size = Path(path).stat().st_size * (5 if Path(path).suffix == ".gz" else 1)
    return size // 40


def _first_rows(batch, col: dict, key: str, cols, seen: dict, pc) -> None:
    """Record the cells of *cols* in the first row of each value of *key* not seen before."""
    enc = pc.dictionary_encode(pc.fill_null(batch.column(col[key]), ""))
    labels = [v.strip() for v in enc.dictionary.to_pylist()]
    if all(v in seen for v in labels):
        return
    idx = np.asarray(enc.indices)
    _, at = np.unique(idx, return_index=True)
    for code, row in zip(np.unique(idx).tolist(), at.tolist()):
        if labels[code] not in seen:
            seen[labels[code]] = {c: ("" if batch.column(col[c])[row].as_py() is None else
                                      batch.column(col[c])[row].as_py().strip()) for c in cols}


def _floats(cells, dropped: Dropped, first: int, pc) -> np.ndarray:
    """float64 of one batch of text cells; 'abc', inf and NaN become NaN, counted."""
    import pyarrow as pa
    try:
        v = pc.cast(cells, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # some cell is not a number: find them
        text = pc.utf8_trim_whitespace(cells)
        ok = pc.match_substring_regex(text, _NUMBER, ignore_case=True)
        special = pc.match_substring_regex(text, r"^[+-]?(nan|inf|infinity)$", ignore_case=True)
        keep = pc.or_kleene(ok, special)
        bad = np.flatnonzero(np.asarray(pc.and_(pc.invert(keep), pc.is_valid(text)).fill_null(False)))
        if len(bad):
            dropped.add("not_number", len(bad), f"{text[int(bad[0])].as_py()!r} (row {first + int(bad[0])})")
        v = pc.cast(pc.if_else(keep, text, pa.scalar(None, pa.string())), pa.float64())
    out = v.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    inf = np.isinf(out) | (np.isnan(out) & np.asarray(v.is_valid()))
    if inf.any():
        k = int(np.flatnonzero(inf)[0])
        dropped.add("not_finite", int(inf.sum()), f"{cells[k].as_py()!r} (row {first + k})")
        out = np.where(inf, np.nan, out)
    return out
