"""``tynys sim``: a virtual city of nodes (the real firmware on the unix port) into the host's store."""

from __future__ import annotations

import time

import click

from .common import Duration, Time, db_option
from .output import emit, output_options, table


def _hm(t: int, offset: int = 0) -> str:
    return time.strftime("%H:%M", time.gmtime(t + offset))


def _day(iso_text: str | None) -> str:
    return "-" if iso_text is None else iso_text[5:16].replace("T", " ")  # 2026-11-27T00:05:00Z -> 11-27 00:05


def _listing(fmt) -> None:
    from ..sim.city import load, names
    from ..sim.runner import CHOICES
    from ..sim.scenarios import SCENARIOS

    cities = []
    for n in names():
        c = load(n)
        cities.append({"city": n, "title": c.title, "tz": f"{c.tz} (UTC{'+' if c.utc_offset_s >= 0 else '-'}"
                                                                  f"{abs(c.utc_offset_s) // 3600:02d}:{abs(c.utc_offset_s) % 3600 // 60:02d})",
                       "sites": len(c.sites), "districts": len(c.districts),
                       "so2 sources": ", ".join(s.id for s in c.sources)})
    scenarios = [{"scenario": s.name, "what": s.title} for s in SCENARIOS.values()]
    if fmt == "json":
        emit({"cities": cities, "scenarios": scenarios, "transports": list(CHOICES)}, fmt)
    elif fmt:
        emit(cities, fmt)
    else:
        click.echo(table(cities) + "\n" + table(scenarios) + f"\ntransports: {', '.join(CHOICES)}")


@click.command()
@click.option("--city", default="oskemen", show_default=True, help="oskemen, almaty, karaganda (see --list), or a layout .json.")
@click.option("--nodes", type=int, default=5, show_default=True, help="Virtual nodes, placed on the city's sites in turn.")
@click.option("--hours", type=int, default=24, show_default=True, help="Simulated hours: 12 five-minute windows per node each.")
@click.option("--scenario", default="inversion", show_default=True, help="clean, plume, inversion or smog (see --list).")
@click.option("--transport", default="http", show_default=True,
              help="serial, http, mqtt (a private Mosquitto), or mixed (round-robin).")
@click.option("--start", type=Time, default=None, help="World time at the start, on a 5-minute boundary (ISO or Unix s). Default: yesterday 00:00 UTC.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same air (and the same sensor noise).")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Keep the nodes' directories here (flash image, console.log); default a temporary one, removed after a good run.")
@click.option("--heap", default=None, help="MicroPython heap of each node (default 96K; 112K for HTTP and 128K for MQTT nodes).")
@click.option("--timeout", type=Duration, default=None, help="Wall time allowed (default 2 min + 1 min per node-day).")
@click.option("--truth", type=click.Path(dir_okay=False), default=None,
              help="Write the true air per node and 5-minute window here (CSV), and each node's sensor units beside it (.sensors.json).")
@click.option("--reference", "reference_csv", type=click.Path(dir_okay=False), default=None,
              help="A virtual reference station: node 1 stands at the city's reference post; its hourly values go here (CSV) and into --db.")
@click.option("--age-days", type=float, default=0.0, show_default=True,
              help="How long every sensor has run: its slow drift (and the SO2 cell's sheet ageing) with it.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("--list", "list_", is_flag=True, help="List the cities, scenarios and transports, then exit.")
@output_options(json="The summary as one JSON document.", nl="One JSON object per node.", csv="The per-node table as CSV.")
@db_option
def sim(city, nodes, hours, scenario, transport, start, seed, workdir, heap, timeout, truth, reference_csv, age_days, quiet,
        list_, fmt, db, keys):
    """Simulate a city's nodes (real firmware, virtual time) and ingest their records into --db.

    Ends with a per-node summary: records, first and last window, mean raw PM2.5 (CF=1) and the
    largest SO2 signal (ISB WE - AE, mV).

    Example: tynys sim --city oskemen --nodes 5 --hours 24 --scenario inversion --transport http --db city.db

    Example: tynys sim --scenario smog --truth truth.csv --reference ref.csv --db city.db
    """
    if list_:
        _listing(fmt)
        return
    from ..sim import runner
    from ..sim.city import load

    c = load(city)
    plans = runner.plan(city, nodes, hours, scenario, transport, start, seed, age_days,
                        colocate=reference_csv is not None)  # checks every argument first
    t_start = plans[0].world["start"]
    off = c.utc_offset_s
    last = {p.node: 0 for p in plans}
    shown = [t_start]
    stored = [0]

    def progress(row):
        last[row["node"]] = max(last[row["node"]], row["t1"])
        step = 3600 * max(1, hours // 24)  # a line an hour, a line a day for a month
        reached = min(last.values()) // step * step
        if reached > shown[0]:
            shown[0] = reached
            click.echo(f"tynys: {_hm(reached)} UTC ({_hm(reached, off)} local) reached by all {nodes} nodes; "
                       f"{stored[0]} records stored", err=True)

    def on_record(row):
        stored[0] += 1
        if not quiet:
            progress(row)

    if not quiet:
        via = transport if transport != "mixed" else "serial, http and mqtt in turn"
        click.echo(f"tynys: {nodes} virtual node(s) in {c.title}, scenario {scenario}, over {via}: {hours} h from "
                   f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(t_start))} UTC ({_hm(t_start, off)} local) into {db}", err=True)
    s = runner.run(city, nodes, hours, scenario, transport, db, keys=keys, start=t_start, seed=seed, heap=heap,
                   workdir=workdir, on_record=on_record, timeout=timeout, truth=truth, reference_csv=reference_csv,
                   age_days=age_days)
    if fmt == "json":
        emit(s, fmt)
        return
    if fmt:
        emit(s["per_node"], fmt)
        return
    rows = [{"node": r["node"], "site": r["name"], "district": r["district"], "via": r["transport"], "records": r["records"],
             "first window": _day(r["first"]), "last window": _day(r["last"]),
             "PM2.5 CF1 ug/m3": r["pm25_cf1_mean"], "SO2 max mV": r["so2_mv_max"]} for r in s["per_node"]]
    click.echo(table(rows), nl=False)
    for r in s["per_node"]:
        if r["resets"][1:]:  # after the one restart that runs the checked config
            click.echo(f"tynys: note: {r['node']} restarted during the run ({', '.join(r['resets'][1:])}): "
                       "its console.log in --workdir tells why", err=True)
    rejects = ", ".join(f"{k} {v}" for k, v in s["rejected_by_reason"].items()) or "none"
    node_hours = nodes * hours
    click.echo(f"\n{s['records']} records from {s['nodes']} nodes stored in {db} (expected {s['expected_records']}); "
               f"rejects: {rejects}; {s['wall_seconds']} s of wall time, {s['wall_seconds'] / node_hours:.2f} s per node-hour."
               + ("" if not s["workdir"] else f"\nnode directories: {s['workdir']}")
               + ("" if not truth else f"\ntruth: {s['truth'][0]} (sensor units: {s['truth'][1]})")
               + ("" if not reference_csv else f"\nreference: {s['reference']['file']}, stored as site {s['reference']['site']} "
                  f"beside {s['reference']['node']} (its windows: {s['reference']['node_file']})"))
