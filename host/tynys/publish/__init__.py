"""Publishing a city: a static map site, open data beside it, and the daily bulletin.

    from tynys import publish
    r = publish.build(store, "site", city="oskemen", standard="us-epa")  # -> Published
    r.index, r.notes                                                     # index.html; what is missing
    b = publish.bulletin.write(store, "2026-11-27", out=".", lang="ru", city="oskemen")  # b.pdf, b.png, b.notes

Module map: ``snapshot`` (what is shown: 24 hours of values, indices, data quality, notes),
``site`` (the page and its data files; front-end sources in ``web/``), ``opendata`` (CSV,
GeoJSON, Sensor.Community-shaped feeds, daily per-node CSVs), ``districts`` (district areas
from a city layout), ``folder`` (writes only the site's own files), ``bulletin`` (PNG and PDF),
``watch`` (rebuild every hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..aqi import city as aqi_city
from ..store import Store
from . import bulletin, opendata, site as _site, snapshot
from .folder import Abandoned, Folder
from .snapshot import Note, PublishError, Snapshot

__all__ = ["Abandoned", "Folder", "Note", "PublishError", "Published", "Snapshot", "build", "bulletin", "opendata", "snapshot"]


@dataclass
class Published:
    index: Path
    folder: Path
    snapshot: Snapshot
    open_data: dict

    @property
    def notes(self) -> list[Note]:
        return self.snapshot.notes


def build(store: Store, out, *, city: str | None = None, standard: str = "us-epa", at: int | None = None,
         tiles: _site.Tiles | None = _site.OSM, licence: str = opendata.LICENCE,
         rules: aqi_city.Rules = aqi_city.Rules(), bulletin=None, stop=None) -> Published:
    """Write the site and its open data into the folder *out* (made if missing; refused if it holds
    files an earlier publish did not write). *bulletin* is a callable ``(snapshot, folder) -> [paths]``
    run inside the same folder (``tynys publish --every``). *stop* (``is_set()``): once set, the
    run is abandoned (:class:`Abandoned`) and the folder left as it was."""
    snap = snapshot.take(store, city=city, standard=standard, at=at, rules=rules)
    folder = Folder(Path(out), stop=stop)
    with folder:
        links = bulletin(snap, folder) if bulletin else None
        od = opendata.write(snap, store, folder, licence=licence, bulletin=links)
        index = _site.write(snap, folder, tiles=tiles, open_data=od)
    return Published(index, folder.root, snap, od)
