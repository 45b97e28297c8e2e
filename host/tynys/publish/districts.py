"""District areas for the map from a city layout, which gives each district a centre point only.

    cells = areas(city, points=[(lat, lon), ...])   # {district: [(lat, lon), ...]} polygons

Each district is drawn as the part of the map nearer to its centre than to any other district's
(a Voronoi cell), clipped to a box around the centres and the nodes with a margin. These are
approximate areas, not official boundaries; the site says so in its legend.
"""

from __future__ import annotations

import math

from ..sim.city import City

MARGIN_M = 2000.0  # the box reaches this far beyond the outermost centre or node
_M_PER_DEG = 111_320.0


def areas(city: City, points=()) -> dict[str, list[tuple[float, float]]]:
    """Each district's cell as a closed ring of (lat, lon), rounded to 5 decimals (about 1 m)."""
    kx = _M_PER_DEG * math.cos(math.radians(city.lat))  # metres per degree of longitude here
    xy = {d.name: ((d.lon - city.lon) * kx, (d.lat - city.lat) * _M_PER_DEG) for d in city.districts}
    pts = list(xy.values()) + [((lon - city.lon) * kx, (lat - city.lat) * _M_PER_DEG) for lat, lon in points]
    x0, x1 = min(p[0] for p in pts) - MARGIN_M, max(p[0] for p in pts) + MARGIN_M
    y0, y1 = min(p[1] for p in pts) - MARGIN_M, max(p[1] for p in pts) + MARGIN_M
    box = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    out = {}
    for name, (cx, cy) in xy.items():
        cell = box
        for other, (ox, oy) in xy.items():
            if other != name and (ox, oy) != (cx, cy):
                cell = _clip(cell, (cx, cy), (ox, oy))
        out[name] = [(round(city.lat + y / _M_PER_DEG, 5), round(city.lon + x / kx, 5)) for x, y in cell]
    return out


def _clip(poly, a, b):
    """The part of convex *poly* nearer to *a* than to *b* (Sutherland-Hodgman on the bisector)."""
    nx, ny = b[0] - a[0], b[1] - a[1]
    c = (b[0] ** 2 + b[1] ** 2 - a[0] ** 2 - a[1] ** 2) / 2  # inside: n . p <= c

    def side(p):
        return nx * p[0] + ny * p[1] - c

    out = []
    for i, p in enumerate(poly):
        q = poly[(i + 1) % len(poly)]
        sp, sq = side(p), side(q)
        if sp <= 0:
            out.append(p)
        if (sp < 0 < sq) or (sq < 0 < sp):
            t = sp / (sp - sq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out
