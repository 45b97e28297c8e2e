"""What ``tynys archive export`` reads: one UTC day of the nodes' readings, their corrected values
and the imported observations, as columns (lists per column, ready for Arrow), in a fixed order
so that exporting a day twice gives the same rows."""

from __future__ import annotations

DAY = 86400

# name -> (SQL selecting the day's rows [t0 >= ? AND t0 < ?], its column names)
TABLES = {
    "readings": (
        "SELECT r.node, r.boot, r.seq, r.t0, r.t1, r.timing, v.channel, v.n, v.mean, v.sd, v.min, v.max"
        " FROM timed_records r JOIN channel_values v ON v.record = r.id"
        " WHERE r.t0 >= ? AND r.t0 < ? ORDER BY r.node, r.t0, r.boot, r.seq, v.channel",
        ("node", "boot", "seq", "t0", "t1", "timing", "channel", "n", "mean", "sd", "min", "max")),
    "corrected": (
        "SELECT r.node, r.boot, r.seq, r.t0, r.t1, c.channel, c.value, p.version, p.model"
        " FROM corrected_values c JOIN timed_records r ON r.id = c.record JOIN calibration_profiles p ON p.id = c.profile"
        " WHERE r.t0 >= ? AND r.t0 < ? ORDER BY r.node, r.t0, r.boot, r.seq, c.channel",
        ("node", "boot", "seq", "t0", "t1", "channel", "value", "version", "model")),
    "observations": (
        "SELECT s.provider, s.provider_id, s.kind, s.name, s.lat, s.lon, o.parameter, o.t0, o.t1, o.value, o.unit, o.qc"
        " FROM observations o JOIN sites s ON s.id = o.site"
        " WHERE o.t0 >= ? AND o.t0 < ? ORDER BY s.provider, s.provider_id, o.parameter, o.t0",
        ("provider", "site", "kind", "name", "lat", "lon", "parameter", "t0", "t1", "value", "unit", "qc")),
}

# the day a time falls in: t0 minus its non-negative remainder (both engines' % keeps the sign)
_DAY_OF = f"(t0 - ((t0 % {DAY}) + {DAY}) % {DAY})"


def archive_days(db, t0: int, t1: int) -> list[int]:
    """Starts [s] of the UTC days in ``[t0, t1)`` that hold a reading or an observation."""
    rows = db.execute(f"SELECT DISTINCT {_DAY_OF} FROM timed_records WHERE t0 >= ? AND t0 < ?"
                      f" UNION SELECT DISTINCT {_DAY_OF} FROM observations WHERE t0 >= ? AND t0 < ?",
                      (t0, t1, t0, t1)).fetchall()
    return sorted(r[0] for r in rows)


def archive_rows(db, table: str, day: int) -> dict[str, list]:
    """The rows of *table* (a key of :data:`TABLES`) whose period starts on the UTC day starting at *day*."""
    sql, names = TABLES[table]
    rows = db.execute(sql, (day, day + DAY)).fetchall()
    cols = list(zip(*rows)) if rows else [()] * len(names)
    return {name: list(col) for name, col in zip(names, cols)}
