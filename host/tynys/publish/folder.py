"""The output folder of ``tynys publish``: it writes only its own files and never deletes anything else.

    with Folder(Path("site"), stop=stop) as out:  # refuses a folder holding files it did not write
        out.write("index.html", text)             # staged as a temporary file beside its place ...
        out.copy(src, "vendor/leaflet.js")
    # ... and on leaving, all of the run's files replace the old ones (renames: milliseconds, each
    # file atomic, so a web server never serves half a file); then its files from the previous run
    # that were not written again are removed, except under KEEP (the daily archive and bulletins
    # grow), and the list is saved

A run that raises (a full disk) or is asked to stop (*stop* set: :class:`Abandoned` at its next
file, or before the swap) changes nothing: its temporary files are removed and the site stays as
the previous run left it. The list of the site's own files is ``.tynys-site.json`` in the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .snapshot import PublishError

MANIFEST = ".tynys-site.json"
FORMAT = "tynys-site-files/1"
KEEP = ("open-data/daily/", "bulletin/")  # archives: kept from run to run
TMP = ".tynys-tmp-"  # a staged file's name: TMP + its name, beside its place


class Abandoned(Exception):
    """The run was asked to stop before it finished (``tynys publish --every/--watch`` got SIGTERM
    or Ctrl-C): nothing of it was kept, the site is as the previous run left it. Not an error."""


def own_files(root: Path) -> set[str]:
    """The files an earlier ``tynys publish`` wrote in *root*, as its list names them (none if
    there is no list); PublishError if the list cannot be read."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return set()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc.get("format") == FORMAT
        return set(doc["files"])
    except (ValueError, KeyError, AssertionError):
        raise PublishError(f"{path} is not a list of the site's files ({FORMAT}); nothing was changed: "
                           "choose a new --out folder") from None


def foreign_files(root: Path, own: set[str]) -> list[str]:
    """Files under *root* that are not in *own* (nor the list itself or a rebuild's temporary files)."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = set()
    for dirpath, _, names in os.walk(root):
        for n in names:
            rel = Path(dirpath, n).relative_to(root).as_posix()
            if rel != MANIFEST and not n.startswith(TMP):
                out.add(rel)
    return sorted(out - own)


class Folder:
    def __init__(self, root: Path, *, stop=None):
        """*stop*: anything with ``is_set()`` (:class:`tynys.publish.watch.Stop`); once set, the
        run is abandoned at its next file or before the swap."""
        self.root = Path(root)
        self.stop = stop
        if self.root.exists() and not self.root.is_dir():
            raise PublishError(f"--out {self.root} is a file, not a folder: choose a folder for the site")
        self.previous = own_files(self.root)
        foreign = foreign_files(self.root, self.previous)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise PublishError(f"{self.root} holds files tynys publish did not write ({shown}); nothing was changed: "
                               "choose an empty or new --out folder (or one an earlier tynys publish made)")
        self.written: set[str] = set()
        self.pending: dict[str, Path] = {}  # rel -> its staged file, until the swap

    def check(self) -> None:
        """Raise :class:`Abandoned` if the run was asked to stop."""
        if self.stop is not None and self.stop.is_set():
            raise Abandoned(f"stopped before the run finished: {self.root} is as the previous run left it")

    def path(self, rel: str) -> Path:
        return self.root / rel

    def stage(self, rel: str) -> Path:
        """Where to write *rel* now (a temporary file beside its place); it replaces *rel* when the
        run finishes."""
        self.check()
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.pending[rel] = tmp = dest.with_name(TMP + dest.name)
        self.written.add(rel)
        return tmp

    def write(self, rel: str, data: str | bytes) -> Path:
        tmp = self.stage(rel)
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        return self.root / rel

    def copy(self, src: Path, rel: str) -> Path:
        shutil.copyfile(src, self.stage(rel))
        return self.root / rel

    def keep(self, rel: str) -> None:
        """Count an existing own file as part of this run (an archive file not rewritten)."""
        self.written.add(rel)

    def finish(self) -> None:
        self.check()  # the last moment a stop abandons the run: the swap below is renames only
        swapped = set()
        try:
            for rel, tmp in self.pending.items():
                os.replace(tmp, self.root / rel)
                swapped.add(rel)
        except BaseException:
            self._save(self.previous | swapped)  # a file swapped in is the site's own
            raise
        self.pending.clear()
        kept = {f for f in self.previous - self.written if f.startswith(KEEP) and (self.root / f).is_file()}
        for rel in sorted(self.previous - self.written - kept):
            p = self.root / rel
            if p.is_file():
                p.unlink()
            self._prune(p.parent)
        self._save(self.written | kept)

    def _discard(self) -> None:
        """Remove the staged files not swapped in (all of them after a failure or a stop)."""
        for tmp in self.pending.values():
            tmp.unlink(missing_ok=True)
            self._prune(tmp.parent)
        self.pending.clear()

    def _save(self, files: set[str]) -> None:
        doc = {"format": FORMAT, "note": "files written by tynys publish; it removes only these", "files": sorted(files)}
        tmp = self.root / f"{TMP}{MANIFEST}"
        tmp.write_text(json.dumps(doc, indent=0) + "\n", encoding="utf-8")
        os.replace(tmp, self.root / MANIFEST)

    def _prune(self, d: Path) -> None:
        while d != self.root and d.is_dir() and not any(d.iterdir()):
            d.rmdir()
            d = d.parent

    def __enter__(self) -> "Folder":
        self.root.mkdir(parents=True, exist_ok=True)
        for tmp in self.root.rglob(TMP + "*"):  # left by a run that was killed (power cut, SIGKILL)
            tmp.unlink(missing_ok=True)
        self.check()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.finish()
        finally:
            self._discard()
