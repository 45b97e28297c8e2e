"""``tynys sim``: a virtual city. N virtual nodes (the real firmware as .mpy on the MicroPython unix
port, 96 KB heap; 112 KB with HTTP, 128 KB with MQTT) stand on a city's sites, measure a scenario's air through byte-exact sensor
simulators, and send signed records over serial ptys, HTTP or MQTT into the real host ingest
(one Collector, one SQLite store), on a virtual clock: a simulated day of five nodes takes a few
minutes of wall time.

    from tynys import sim
    summary = sim.run(city="oskemen", nodes=5, hours=24, scenario="inversion", transport="http",
                      db="city.db", start=None, seed=1, heap=None, workdir=None,
                      on_record=None, timeout=None, network=None, truth=None, reference_csv=None,
                      age_days=0.0)

Arguments: *city* ``oskemen | almaty | karaganda`` (or a layout file, :mod:`tynys.sim.city`);
*scenario* ``clean | plume | inversion | smog`` (:mod:`tynys.sim.scenarios`); *transport* ``serial |
http | mqtt | mixed`` (mixed: round-robin; mqtt starts a private Mosquitto); *db* the SQLite
file (created; its key file beside it unless *keys*); *start* Unix seconds on a 5-minute
boundary (default yesterday 00:00 UTC); *heap* each node's MicroPython heap (default 96K,
112K for HTTP and 128K for MQTT nodes: on the 64-bit unix port the typical node with HTTP
crashes now and then in 96 KB and with MQTT does not start, see tynys.firmware.heap_for); *workdir*
keeps the nodes' directories (flash image, console.log) there, else a temporary one is removed after a successful run; *on_record(row)*
is called in the caller's thread for each stored record, ``row`` = ``{"node", "boot", "seq",
"t0", "t1", "clock", "transport", "received", "record"}`` (``record``: the parsed line);
*timeout* wall seconds (default 120 + 60 per node-day); *keys* the key file; *network* the
virtual network's plan for every node (outages of WiFi or of the host, docs/node.md); *truth* a
CSV path for the true air per node and window (:mod:`tynys.sim.truth`); *reference_csv* a CSV
path for a virtual reference station beside node 1 (:mod:`tynys.sim.reference`, also imported
into *db*); *age_days* how long every sensor has run (its drift, :mod:`tynys.sim.models`).

The sensors err as their models say (:mod:`tynys.sim.models`: parameters with sources, drawn per
unit and node from ``seed``); :mod:`tynys.sim.loop` compares what the host published with the
truth.

Nodes are switched on 37 s into the first window (POWER_ON_S) and set their clock by NTP, whose
answers are world time; the first window is therefore partial (from about start + 40 s) and
counts as the run's first: *hours* hours give exactly ``12 * hours`` records per node, the
last ending at start + hours. The host's clock is the nodes' world clock. The run ends when
every node's windows to the end are stored (each node's seqs without a gap), then stops the
nodes, the transports and the collector.

The summary: ``nodes``, ``records``, ``expected_records``, ``rejected``, ``rejected_by_reason``
(``{reason: n}``, this run's refusals, e.g. ``replay`` for resends), ``per_node`` (a list of
``{"node", "name", "district", "transport", "records", "first", "last", "pm25_cf1_mean",
"so2_mv_max", "heap_free_min", "resets", "sensors"}``: PM2.5 CF=1 mean [ug/m3] raw, the largest window mean of
the ISB's WE - AE [mV], the least free heap a node reported [bytes], what restarted the node each time (``["soft"]``:
once, to run its checked config), the node's sensor units
``{slot: {"model", "params"[, "sheet"]}}``), with *truth* ``truth`` (the files written), with
*reference_csv* ``reference`` (``{"file", "site", "node", "values", "status"}``), ``city``, ``scenario``,
``transport``, ``hours``, ``start``, ``end`` (ISO UTC), ``seed``, ``db``, ``workdir``,
``wall_seconds``.

Errors are :class:`SimError` (a TynysError): an unknown city, scenario or transport, a database
that already has these node ids, mosquitto missing for mqtt, a node stuck at its REPL, or nodes
late at the timeout (named, with where their consoles are).
"""

from .runner import (CHOICES, POWER_ON_S, TRANSPORTS, WINDOW_S, Endpoints, NodePlan, SimError, create_node, default_start,
                     node_config, plan, register, run, units)

__all__ = ["CHOICES", "POWER_ON_S", "TRANSPORTS", "WINDOW_S", "Endpoints", "NodePlan", "SimError", "create_node", "default_start",
           "node_config", "plan", "register", "run", "units"]
