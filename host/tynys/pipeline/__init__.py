"""The hourly pipeline over the store: node windows (raw and corrected) -> hourly means -> indices
per node and for the city and each district. ``tynys aqi node/city`` and the demo call it.

    from tynys import pipeline
    h = pipeline.hourly(store, t0, t1)               # nodes x hours: PM2.5 raw/corrected, SO2 ppb, 20-min means
    pipeline.node_rows(h, ("us-epa", "kz"))          # per node and hour: values, NowCast, AQI, main pollutant, KZ grade
    pipeline.city_rows(h, ("us-epa", "kz"))          # per area ("city", then each district) and hour
    pipeline.node_summary(h)                         # per node over the period (the demo's table)
    pipeline.city_summary(store, t0, t1)             # city_rows(hourly(store, t0, t1))

One module per job:

- :mod:`~tynys.pipeline.hourly` — aggregation: windows -> hourly and 20-min means (75 % rule,
  time-weighted, a window sent twice counts once);
- :mod:`~tynys.pipeline.channels` — which channel stands for a pollutant and which profile
  corrected it (the rule, and a note when several profiles could apply);
- :mod:`~tynys.pipeline.indices` — index columns, dispatched on each standard's kind
  (breakpoints, ratio, formula); a measured pollutant without a sub-index makes the overall
  index ``incomplete``;
- :mod:`~tynys.pipeline.columns` — the columns and rows per node and area, rounded to their
  measurement precision, and what a person's table shows.

The city and districts (:func:`tynys.aqi.city.city_values`): outdoor nodes only; per hour at
least ``min_nodes`` usable nodes for the city (3) and ``district_min_nodes`` for a district, their
median; calibrated values preferred (only they are used when enough have one; ``basis`` says
calibrated/mixed/raw); ``nodes`` says how many nodes a value rests on. The index is then computed
on the area's hourly series (the NowCast of the city median).
"""

from __future__ import annotations

from ..aqi import city
from ..store import Store
from .channels import Choice, choose
from .columns import (category_cell, city_columns, city_rows, formatted, node_columns, node_rows, node_summary, report,
                      table_rows)
from .hourly import HOUR, LOOKBACK, SINGLE, Hourly, Quantity, hourly
from .indices import index_columns, prefix

__all__ = ["HOUR", "LOOKBACK", "SINGLE", "Choice", "Hourly", "Quantity", "category_cell", "choose", "city_columns",
           "city_rows", "city_summary", "formatted", "hourly", "index_columns", "node_columns", "node_rows", "node_summary",
           "prefix", "report", "table_rows"]


def city_summary(store: Store, t0: int | None = None, t1: int | None = None, *, standards=("us-epa", "kz"),
                 rules: city.Rules = city.Rules(), districts: bool = True) -> list[dict]:
    """The city's (and each district's) hourly rows for ``[t0, t1)``, straight from the store."""
    return city_rows(hourly(store, t0, t1), standards, rules, districts)
