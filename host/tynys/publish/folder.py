"""The output folder of ``tynys publish``: it writes only its own files and never deletes anything else.

    with Folder(Path("site")) as out:       # refuses a folder holding files it did not write
        out.write("index.html", text)       # each file replaced atomically (a web server never
        out.copy(src, "vendor/leaflet.js")  #   serves half a file)
    # on leaving: its files from the previous run that were not written again are removed,
    # except under KEEP (the daily archive and bulletins grow), and the list is saved

The list of the site's own files is ``.tynys-site.json`` in the folder.
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
            if rel != MANIFEST and not n.startswith(".tynys-tmp-"):
                out.add(rel)
    return sorted(out - own)


class Folder:
    def __init__(self, root: Path):
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise PublishError(f"--out {self.root} is a file, not a folder: choose a folder for the site")
        self.previous = own_files(self.root)
        foreign = foreign_files(self.root, self.previous)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise PublishError(f"{self.root} holds files tynys publish did not write ({shown}); nothing was changed: "
                               "choose an empty or new --out folder (or one an earlier tynys publish made)")
        self.written: set[str] = set()

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write(self, rel: str, data: str | bytes) -> Path:
        """Write *data* to *rel* (atomically: a temporary file renamed over it)."""
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".tynys-tmp-{dest.name}")
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, dest)
        self.written.add(rel)
        return dest

    def copy(self, src: Path, rel: str) -> Path:
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".tynys-tmp-{dest.name}")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        self.written.add(rel)
        return dest

    def keep(self, rel: str) -> None:
        """Count an existing own file as part of this run (an archive file not rewritten)."""
        self.written.add(rel)

    def finish(self) -> None:
        kept = {f for f in self.previous - self.written if f.startswith(KEEP) and (self.root / f).is_file()}
        for rel in sorted(self.previous - self.written - kept):
            p = self.root / rel
            if p.is_file():
                p.unlink()
            self._prune(p.parent)
        self._save(self.written | kept)

    def _save(self, files: set[str]) -> None:
        doc = {"format": FORMAT, "note": "files written by tynys publish; it removes only these", "files": sorted(files)}
        tmp = self.root / f".tynys-tmp-{MANIFEST}"
        tmp.write_text(json.dumps(doc, indent=0) + "\n", encoding="utf-8")
        os.replace(tmp, self.root / MANIFEST)

    def _prune(self, d: Path) -> None:
        while d != self.root and d.is_dir() and not any(d.iterdir()):
            d.rmdir()
            d = d.parent

    def __enter__(self) -> "Folder":
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.finish()
        elif self.root.is_dir():
            self._save(self.previous | self.written)  # what was written stays the site's own
