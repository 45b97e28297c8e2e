"""Air-quality indices: US EPA (with the PM NowCast and the SO2/O3 rules), the European index,
Kazakhstan's ПДК/СИ/НП/ИЗА, UK DAQI, India NAQI, China HJ 633 (2012, 2026), Canada AQHI — and a
city value from many nodes.

    >>> from tynys import aqi
    >>> aqi.sub_index([35.9], "pm25", "24h", "us-epa").index           # array([102.])
    >>> nc = aqi.nowcast(hourly_pm25)                                   # oldest first
    >>> aqi.sub_index(nc.concentration, "pm25", "24h").index            # hourly AQI
    >>> aqi.kz.multiples([0.4], "pm25", "20min")                       # array([2.5])

Every table is data in ``tables/`` (source, confidence, effective date), read by
:mod:`tynys.aqi.tables`; values are scored with the version in force at their time (``times=``)
or a named one (``version=``). Module map:

- ``tables``      the loader; ``units`` ppb <-> ug/m3
- ``breakpoints`` the lookup arithmetic (quantise, row, interpolate, round) and status codes
- ``index``       sub-index, per-pollutant rules (US SO2/O3), overall index and main pollutant
- ``nowcast``     PM NowCast; ``averaging`` hourly/running/daily means with completeness
- ``series``      each standard's hourly and daily index from hourly means
- ``kz``          Kazakhstan's indicators; ``aqhi`` Canada's formula; ``city`` many nodes -> areas
"""

from . import aqhi, averaging, city, kz, series, tables, units
from .breakpoints import STATUS, Scores
from .index import overall, pollutant_index, sub_index
from .nowcast import nowcast
from .tables import AqiError, load, standards

__all__ = [
    "AqiError", "STATUS", "Scores", "aqhi", "averaging", "city", "kz", "load", "nowcast", "overall",
    "pollutant_index", "series", "standards", "sub_index", "tables", "units",
]
