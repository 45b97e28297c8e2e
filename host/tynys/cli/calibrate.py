"""``tynys calibrate``: evaluate sensors against a reference, list corrections, compare and fit models,
watch for drift, write a report. Each command is a few lines over ``tynys.calibrate``; what is
here is options and how results read on a terminal."""

from __future__ import annotations

from dataclasses import asdict

import click
import numpy as np

from ..calibrate import inputs
from ..calibrate.watch import METHODS as DRIFT_METHODS
from ..errors import TynysError
from ..store import Store
from .common import Time, archive_option, cluster_option, db_option
from .output import emit, output_options, table

_FILE_OPTS = [
    click.option("--tz", default=None, help="Time zone of timestamps that carry none: UTC, +06:00, Asia/Almaty."),
    click.option("--day-tz", default=None, help="Zone whose standard-time midnight starts the 24-h days (default: "
                 "--tz, else the zone the sensor file names; UTC for UTC days, as sensortoolkit averages)."),
    click.option("--time-column", default=None, help="Time column of plain CSV inputs."),
    click.option("--site-column", default=None, help="Column naming the sensor/site when a CSV holds several."),
    click.option("--site", default=None, help="Only this site of files that hold several."),
    click.option("--keep-flagged", is_flag=True, help="Keep reference values with a non-zero QC code."),
]
_POLLUTANT = click.option("--pollutant", type=click.Choice(inputs.POLLUTANTS), default=None,
                          help="What the sensor column measures (default: the column's Tynys name, e.g. FILE:pm25).")
_BASIS = click.option("--basis", type=click.Choice(["cf1", "atm"]), default=None,
                      help="Which Plantower output the sensor column is (never read from its name).")


def _file_options(fn):
    for opt in reversed(_FILE_OPTS):
        fn = opt(fn)
    return fn


def _reading(ctx: dict) -> inputs.Reading:
    return inputs.Reading(**{k: ctx.pop(k) for k in ("tz", "day_tz", "time_column", "site_column", "site", "keep_flagged")})


def _notes(notes) -> None:
    for n in notes:
        click.echo(f"note: {n}", err=True)


def _name(pollutant: str, unit: str) -> str:
    return f"{inputs.LABELS.get(pollutant, pollutant)} [{unit}]" if unit else inputs.LABELS.get(pollutant, pollutant)


def _f(v, digits: int = 2) -> str:
    return "-" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{digits}f}"


@click.group()
def calibrate():
    """Calibrate sensors against reference stations: evaluate, correct, fit, watch drift.

    Example: tynys calibrate evaluate --sensor node.csv:pm25 --reference airnow.csv:pm25 --tz -05:00
    """


@calibrate.command()
@click.option("--sensor", "sensor_specs", multiple=True, required=True, metavar="FILE[:COLUMN]",
              help="Sensor file (repeat for co-located sensors); COLUMN defaults to the pollutant.")
@click.option("--reference", required=True, metavar="FILE[:COLUMN]", help="Reference file.")
@click.option("--rh", "rh_spec", default=None, metavar="FILE:COLUMN", help="Raw RH for corrections that need it.")
@click.option("--correction", default=None, help="Apply a published correction first (tynys calibrate corrections).")
@_BASIS
@_POLLUTANT
@click.option("--interval", "intervals", multiple=True, type=click.Choice(["1h", "24h"]),
              help="Averaging interval(s) (default: those EPA reports for the pollutant).")
@click.option("--bootstrap", "n_boot", default=0, show_default=True, help="Bootstrap resamples for confidence intervals.")
@click.option("--allow-unverified", is_flag=True, help="Allow corrections marked unverified.")
@_file_options
@output_options
def evaluate(sensor_specs, reference, rh_spec, correction, basis, pollutant, intervals, n_boot, allow_unverified, fmt,
             **ctx):
    """Judge sensors against a reference by EPA's metrics and targets, per averaging interval.

    Example: tynys calibrate evaluate --sensor RT01.csv:pm25 --reference airnowtech.csv --tz -05:00 --json
    """
    from ..calibrate.evaluate import evaluate_files
    ev = evaluate_files(sensor_specs, reference, rh=rh_spec, correction=correction, basis=basis, pollutant=pollutant,
                        intervals=intervals or None, n_boot=n_boot, reading=_reading(ctx), allow_unverified=allow_unverified)
    _notes(ev.notes)
    emit(ev.rows, fmt, human=lambda rows: _human_eval(ev, rows))


def _human_eval(ev, rows):
    from ..calibrate.report import verdict
    from ..calibrate.targets import epa_targets
    t = epa_targets(ev.pollutant)
    u = t["unit"]
    click.echo(f"{_name(ev.pollutant, u)} against the reference; EPA's targets apply to {t['applies_to']} means "
               "(other intervals are for information)")
    out = [{"interval": r["interval"], "sensor": r["sensor"], "n": r["n"], "R²": _f(r["r2"]), "slope": _f(r["slope"]),
            f"intercept [{u}]": _f(r["intercept"]), f"RMSE [{u}]": _f(r["rmse"]), "NRMSE %": _f(r["nrmse"], 1),
            f"SD [{u}]": _f(r["sd"]), "CV %": _f(r["cv"], 1),
            "targets": verdict(r) if r["targets_apply"] and r["sensor"] != "deployment" else "-",
            "failed": ", ".join(r["failed"]) if r["targets_apply"] else ""} for r in rows]
    click.echo(table(out), nl=False)


@calibrate.command()
@click.option("--check", is_flag=True, help="Also run each correction's test vectors and report the worst error.")
@output_options
def corrections(check, fmt):
    """List the published corrections with citation, input basis and required inputs.

    Example: tynys calibrate corrections --check
    """
    from ..calibrate import corrections as corr
    rows = [corr.summary(doc) | (corr.vector_summary(name) if check else {}) for name, doc in corr.catalogue().items()]

    def human(rs):
        shown = [{"name": r["name"], "pollutant": r["pollutant"], "basis": r["basis"], "inputs": ", ".join(r["inputs"]),
                  "status": r["status"]} | ({"vectors": r["vectors"]} if check else {}) for r in rs]
        click.echo(table(shown), nl=False)

    emit(rows, fmt, human=human)


_PAIR_OPTS = [
    click.option("--reference", required=True, metavar="FILE[:COLUMN]", help="Reference file."),
    click.option("--rh", "rh_spec", default=None, metavar="FILE:COLUMN", help="Raw RH."),
    click.option("--t", "t_spec", default=None, metavar="FILE:COLUMN", help="Temperature [°C]."),
    click.option("--interval", default=None, type=click.Choice(["1h", "24h"]),
                 help="Averaging interval (default: 1h, or 24h for daily data, with a note)."),
    _POLLUTANT,
]


def _pair_options(fn):
    for opt in reversed(_PAIR_OPTS):
        fn = opt(fn)
    return _file_options(fn)


def _sensor_option(required: bool = True):
    return click.option("--sensor", "sensor_specs", multiple=True, required=required, metavar="FILE[:COLUMN]",
                        help="Sensor file(s); COLUMN defaults to the pollutant.")


def _colocated(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, ctx):
    data = inputs.colocated(sensor_specs, reference, rh=rh_spec, t_c=t_spec, interval=interval, pollutant=pollutant,
                            reading=_reading(ctx))
    _notes(data.notes)
    return data


_NODE_HELP = ("Without --sensor: a node to read from --db or --archive (repeat for several), against --reference "
              "SITE[:PARAMETER]; --rh/--t name its channels.")


def _node_options(fn, node_help: str = _NODE_HELP):
    """--node (repeat), --channel, --from, --to, --archive, --db: nodes co-located from the store or the archive."""
    for opt in reversed([
            click.option("--node", "nodes", multiple=True, help=node_help),
            click.option("--channel", default=None, help="Without --sensor: the node channel (default: pm.pm25_cf1)."),
            click.option("--from", "t_from", type=Time, default=None, help="Without --sensor: co-locate from this time (UTC)."),
            click.option("--to", "t_to", type=Time, default=None, help="Without --sensor: co-locate until this time (UTC)."),
            archive_option, db_option]):
        fn = opt(fn)
    return fn


def _node_reading(rh_spec, t_spec, interval, t_from, t_to, archive, ctx) -> dict:
    """How nodes are co-located (the *read_kw* of :mod:`tynys.calibrate.network`)."""
    reading = _reading(ctx)
    read_kw = dict(rh=rh_spec, t_c=t_spec, interval=interval or "1h", t0=t_from, t1=t_to,
                   include_flagged=reading.keep_flagged, tz=reading.day_tz or reading.tz)
    if archive:
        _archive_days(read_kw["interval"], read_kw["tz"])
    return read_kw


def _from_nodes(fn, *args, archive, db, **kw):
    """``fn(*args, archive=DIR, **kw)``, or from the database ``fn(*args, store=…, **kw)``."""
    if archive:
        return fn(*args, archive=archive, **kw)
    with Store.open(db, create=False) as store:
        return fn(*args, store=store, **kw)


@calibrate.command()
@_sensor_option(required=False)
@_pair_options
@click.option("--validation", type=click.Choice(["site", "time"]), default="time", show_default=True,
              help="Leave-site-out, or blocked leave-time-out.")
@click.option("--folds", default=10, show_default=True, help="Folds for leave-time-out.")
@click.option("--model", "names", multiple=True, help="Models to fit (default: all the inputs allow).")
@_BASIS
@click.option("--bootstrap", "n_boot", default=2000, show_default=True, help="Resamples for the ΔRMSE interval.")
@cluster_option
@_node_options
@output_options
def compare(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, validation, folds, names, basis, n_boot, cluster,
            nodes, channel, t_from, t_to, archive, db, keys, fmt, **ctx):
    """Compare raw, every applicable published correction and fitted models under held-out validation;
    each against the best published correction (ΔRMSE with a bootstrap interval), and a recommendation.

    From files (--sensor), or nodes (--node, repeat) from --db or --archive DIR against an imported
    reference (--reference SITE[:PARAMETER]; each node read as a part with --cluster). Each
    candidate's cross-validation is a part on Dask workers with --cluster.

    Example: tynys calibrate compare --sensor pa.csv:A_B_Avg --reference pa.csv:conc --rh pa.csv:humidity_a
             --pollutant pm25 --basis cf1 --time-column DAILY --site-column sensor_index --tz UTC --validation site
    """
    from ..calibrate.comparison import compare as run
    from ..calibrate.network import colocate_nodes
    if sensor_specs:
        if nodes or archive or channel or t_from is not None or t_to is not None:
            raise TynysError("--node, --archive, --channel, --from and --to read nodes, not files: drop them or --sensor")
        data = _colocated(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, ctx)
    elif not nodes:
        raise TynysError("name what to compare: --sensor FILE[:COLUMN] files, or --node NODE (repeat) from --db or --archive")
    else:
        read_kw = _node_reading(rh_spec, t_spec, interval, t_from, t_to, archive, ctx)
        data = _from_nodes(colocate_nodes, nodes, reference, archive=archive, db=db, channel=channel, cluster=cluster,
                           read_kw=read_kw)
        _notes(data.notes)
    c = run(data, validation=validation, folds=folds, names=names or None, basis=basis, n_boot=n_boot, cluster=cluster)
    _notes(c.notes)
    keep = ("candidate", "kind", "validation", "rmse", "delta_rmse", "delta_rmse_ci", "significant", "nrmse", "r2", "slope",
            "intercept", "bias", "mae", "n", "recommended")
    emit([{k: r[k] for k in keep} for r in c.rows], fmt, human=lambda rows: _human_compare(c))


def _human_compare(c):
    u = c.unit
    pct = f"{100 * c.level:g} %"
    click.echo(f"{_name(c.pollutant, u)}, {c.interval} means, {c.pairs} pairs of {c.sensors} sensor(s); fitted models "
               f"scored {c.validation}")
    click.echo(f"ΔRMSE: against {c.baseline}" + (", the best published correction" if c.baseline != "raw" else "") +
               f"; {pct} interval from resampling the {c.groups} {c.group_kind}")
    ci = lambda r: "-" if r["delta_rmse_ci"] is None else f"{r['delta_rmse_ci'][0]:+.2f} … {r['delta_rmse_ci'][1]:+.2f}"  # noqa: E731
    rows = [{"candidate": r["candidate"], "kind": r["kind"], f"RMSE [{u}]": _f(r["rmse"]),
             f"ΔRMSE [{u}]": f"{r['delta_rmse']:+.2f}" if r["candidate"] != c.baseline else "0 (baseline)",
             f"{pct} interval": ci(r) if r["candidate"] != c.baseline else "", "NRMSE %": _f(r["nrmse"], 1),
             "R²": _f(r["r2"]), "slope": _f(r["slope"]), f"intercept [{u}]": _f(r["intercept"]),
             f"bias [{u}]": _f(r["bias"]), "n": r["n"]} for r in c.rows]
    click.echo(table(rows), nl=False)
    click.echo(f"recommendation: {c.recommendation}")


@calibrate.command()
@_sensor_option(required=False)
@_pair_options
@click.option("--model", "name", default="ols", show_default=True,
              help="Model: ols, deming, mlr_rh, mlr_rh_t, kappa, piecewise.")
@click.option("--node", "nodes", multiple=True, required=True, help="Node id the profile is for; with --db also an "
              "imported sensor site (sensortoolkit:…, written to --profiles). Repeat to fit several nodes.")
@click.option("--channel", default=None, help="Channel the profile corrects (default: pm.pm25_cf1; for an imported "
              "site the reference's parameter).")
@click.option("--profiles", "root", default=None, type=click.Path(file_okay=False), help="Profile folder (with --sensor files).")
@click.option("--valid-from", type=Time, default=None, help="Start of validity (UTC); default: the fit's first interval.")
@click.option("--valid-to", type=Time, default=None, help="End of validity (UTC); default: open.")
@click.option("--from", "t_from", type=Time, default=None, help="With --db: co-locate from this time (UTC).")
@click.option("--to", "t_to", type=Time, default=None, help="With --db: co-locate until this time (UTC).")
@cluster_option
@archive_option
@db_option
@output_options
def fit(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, name, nodes, channel, root, valid_from, valid_to,
        t_from, t_to, cluster, archive, db, keys, fmt, **ctx):
    """Fit a model on co-located data and store it as the next profile version.

    From the store (--db, no --sensor): the node's CHANNEL against an imported reference,
    --reference SITE[:PARAMETER] (tynys db sites); --rh/--t name node channels (found when omitted).
    From files (--sensor): FILE[:COLUMN] inputs, the profile written to --profiles DIR.

    From the Parquet archive (--archive DIR, no --sensor): the same, each node's rows read from
    the archive; the profiles go into --db, or to --profiles DIR when named.

    Several --node (or --cluster, or --archive): each node fitted as a part, on Dask workers with --cluster.

    Example: tynys calibrate fit --db city.db --node osk-01 --channel pm.pm25_cf1 --reference csv:kazhydromet-1:pm25 --model mlr_rh
    """
    from ..calibrate import fitting, profiles, stored
    if archive and sensor_specs:
        raise TynysError("--archive reads the nodes from the archive: drop --sensor (files are fitted with --profiles DIR)")
    if (len(nodes) > 1 or cluster) and not archive:
        if sensor_specs or root:
            raise TynysError("several nodes, or --cluster, are fitted from the store into it: drop --sensor and --profiles")
    node = nodes[0]
    if not sensor_specs:
        how = _node_reading(rh_spec, t_spec, interval, t_from, t_to, archive, ctx) | dict(
            model=name, valid_from=valid_from, valid_to=valid_to)
        if archive and root:
            _fit_network(None, nodes, channel, reference, how, cluster, fmt, archive=archive, folder=root)
            return
        with Store.open(db, create=False) as store:
            if archive or len(nodes) > 1 or cluster:  # each node a part, stored in turn once all came back
                _fit_network(store, nodes, channel, reference, how, cluster, fmt, archive=archive)
                return
            if root is None:  # into the database, as the node's next version
                s, summary = stored.fit(store, node, channel, reference, **how)
                emit({"id": s.id, **asdict(s.profile), "summary": summary}, fmt, human=_human_fit)
                return
            p, summary = stored.fit_profile_from_store(store, node, channel, reference, **how)
    else:
        if root is None:
            raise TynysError("with --sensor FILE the profile is written to a folder: pass --profiles DIR "
                             "(or fit from the store: --db DB without --sensor)")
        data = _colocated(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, ctx)
        p, summary = fitting.fit_colocated(data, name, node=node, channel=channel or "pm.pm25_cf1",
                                           valid_from=valid_from, valid_to=valid_to)
    files = profiles.ProfileStore(root)
    p = files.save(p)
    emit({**asdict(p), "summary": summary, "path": str(files.path(p))}, fmt, human=_human_fit)


def _archive_days(interval: str, tz: str | None) -> None:
    """The archive keeps no site's time zone: 24-h days from it need the zone named, not UTC by default."""
    if interval == "24h" and tz is None:
        raise TynysError("the archive does not keep the reference site's time zone, which 24-h days follow: name it "
                         "with --day-tz ZONE (tynys db sites shows the zone it was imported with; --day-tz UTC for UTC days)")


def _fit_network(store, nodes, channel, reference, how, cluster, fmt, archive=None, folder=None):
    from ..calibrate import network
    rows = network.fit_nodes(store, nodes, reference, channel=channel, cluster=cluster, archive=archive, folder=folder,
                             **how)
    fitted = [{k: r[k] for k in ("id", "path") if k in r} | {**asdict(r["profile"]), "summary": r["summary"]}
              for r in rows if "error" not in r]
    if fmt:
        emit(fitted, fmt)
    else:
        for doc in fitted:
            _human_fit(doc)
    failed = [f"{r['node']}: {r['error']}" for r in rows if "error" in r]
    for message in failed[:-1]:
        click.echo(f"tynys: error: {message}", err=True)
    if failed:
        raise TynysError(failed[-1])


def _human_fit(doc):
    sm, f = doc["summary"], doc["fitted_on"]
    where = doc.get("path") or f"profile {doc['id']} in the database"
    click.echo(f"{doc['node']} {doc['sensor']} v{doc['version']}: {doc['model']} ({where})")
    click.echo(f"  {sm['equation']}   [{doc['unit'] or 'the sensor unit'}]")
    ref = f.get("reference_name") or f.get("reference_kind") or ""
    click.echo(f"  fitted on {sm['pairs']} {sm['interval']} pairs, {sm['from']} .. {sm['to']}, against {f['reference']}"
               + (f" ({ref})" if ref else "") + (f"; days: {sm['days']}" if sm.get("days") else ""))
    u = doc["unit"] or "unit"
    rows = []
    for label, m in (("raw sensor", sm["raw"]), ("corrected", sm["validated"])):
        rows.append({"": label, "n": m.get("n"), "R²": _f(m["r2"]), "slope": _f(m["slope"]),
                     f"intercept [{u}]": _f(m["intercept"]), f"RMSE [{u}]": _f(m["rmse"]), "NRMSE %": _f(m["nrmse"], 1),
                     "scored": m.get("validation", "-")})
    click.echo("\n".join("  " + line for line in table(rows).splitlines()))
    click.echo(f"valid from {doc['valid_from']}" + (f" to {doc['valid_to']}" if doc["valid_to"] else "") +
               (f"; apply it with: tynys calibrate apply --node {doc['node']}" if "id" in doc else
                f"; apply it to a node with: tynys calibrate apply --profile '{doc['path']}' --node NODE"))


@calibrate.command("apply")
@click.option("--node", default=None, help="Only this node (default: every node with a profile, or with the channel).")
@click.option("--channel", default=None, help="Only this channel; with --correction, the channel it corrects "
              "(default pm.pm25_cf1 / pm.pm25_atm / so2.we_mv by its basis).")
@click.option("--correction", default=None, help="First make this published correction a profile (tynys calibrate corrections).")
@click.option("--profile", "profile_file", default=None, type=click.Path(dir_okay=False),
              help="First store this profile file (tynys calibrate fit --profiles) as the node's next version.")
@click.option("--params", "param_file", default=None, type=click.Path(dir_okay=False),
              help="AAN 803: the sensor's calibration sheet as a JSON object.")
@click.option("--param", "param_items", multiple=True, metavar="KEY=VALUE", help="AAN 803: one sheet value. Repeat.")
@click.option("--rh", default=None, help="RH channel for the correction (default: the node's own, e.g. th.rh).")
@click.option("--t", "t_c", default=None, help="Temperature channel for AAN 803 (default: the node's own).")
@click.option("--valid-from", type=Time, default=None, help="With --correction: valid from (default: always).")
@click.option("--valid-to", type=Time, default=None, help="With --correction: valid until (default: open).")
@click.option("--from", "t_from", type=Time, default=None, help="Correct windows from this time (default: all).")
@click.option("--to", "t_to", type=Time, default=None, help="Correct windows until this time.")
@click.option("--allow-unverified", is_flag=True, help="Allow corrections marked unverified.")
@db_option
@output_options
def apply_(node, channel, correction, profile_file, param_file, param_items, rh, t_c, valid_from, valid_to, t_from,
           t_to, allow_unverified, db, keys, fmt):
    """Write corrected values beside the raw ones, by the profiles valid at each window's time.

    Raw values are never changed; each corrected value records the profile (and version) that made it.
    --correction NAME first adds NAME as a profile of each node with the channel and no profile
    of its own for it yet (name a node with --node to supersede its profile). --profile FILE first
    stores a profile fitted from files (or on an imported site) as the next version of --node's
    channel, its inputs renamed to the node's channels (--channel, --rh, --t).

    Example: tynys calibrate apply --db city.db --correction barkjohn2021
    """
    from ..calibrate import corrections as corr, stored
    from ..calibrate.profiles import read_profile
    if correction and profile_file:
        raise click.UsageError("use --correction or --profile, not both")
    with Store.open(db, create=False) as store:
        if profile_file:
            s = stored.adopt(store, read_profile(profile_file), node=node, channel=channel, rh=rh, t_c=t_c,
                             source=str(profile_file))
            click.echo(f"{s.profile.node} {s.profile.sensor} v{s.profile.version}: {s.profile.model} from {profile_file} "
                       f"(profile {s.id})", err=True)
            node, channel = s.profile.node, s.profile.sensor
        if correction:
            sheet = corr.read_sheet(param_file, param_items)
            channel = channel or stored.DEFAULT_CHANNEL.get(corr.get(correction)["basis"])
            for nid, ch, s in stored.add_correction(store, correction, node=node, channel=channel, params=sheet, rh=rh,
                                                    t_c=t_c, valid_from=valid_from, valid_to=valid_to,
                                                    allow_unverified=allow_unverified):
                if s is None:
                    p = stored.profiles(store, nid, ch)[-1].profile
                    click.echo(f"{nid} {ch} already has v{p.version} ({p.model}): kept; to replace it with "
                               f"{correction}, name the node: --node {nid}", err=True)
                else:
                    click.echo(f"{nid} {ch} v{s.profile.version}: {s.profile.model} (profile {s.id})", err=True)
        rows = stored.apply(store, node, channel, t_from, t_to)
    emit(rows, fmt, human=lambda rs: click.echo(table([{**r, "versions": " ".join(f"{k} {v}" for k, v in r["versions"].items())}
                                                       for r in rs]), nl=False))


@calibrate.command("profiles")
@click.option("--node", default=None, help="Only this node.")
@click.option("--channel", default=None, help="Only this channel.")
@click.option("--export", "export_dir", default=None, type=click.Path(file_okay=False),
              help="Also write them as JSON files <DIR>/<node>/<channel>/v<N>.json.")
@db_option
@output_options
def profiles_(node, channel, export_dir, db, keys, fmt):
    """The calibration profiles in the store, every version, with what they were fitted on
    (--json adds the coefficients, inputs, metrics and when each was created).

    Example: tynys calibrate profiles --db city.db --node osk-01
    """
    from ..calibrate import stored
    with Store.open(db, create=False) as store:
        found = stored.profiles(store, node, channel)
        if export_dir:
            paths = stored.export(store, export_dir, node)
            click.echo(f"wrote {len(paths)} profile file(s) under {export_dir}", err=True)
    docs = [{"id": s.id, **asdict(s.profile)} for s in found]
    if fmt:
        emit(docs, fmt)
        return
    rows = []
    for d in docs:
        f, m = d["fitted_on"], d["metrics"]
        rows.append({"id": d["id"], "node": d["node"], "channel": d["sensor"], "version": d["version"], "model": d["model"],
                     "unit": d["unit"], "valid_from": d["valid_from"], "valid_to": d["valid_to"],
                     "fitted_on": f.get("reference") or f.get("source"), "rmse": m.get("rmse")})
    click.echo(table(rows), nl=False)


def _drift_rules_help() -> str:
    """The stated run lengths and delays of the drift rules, for --help (from calibration/drift)."""
    from ..calibrate import alarms
    try:
        lines = [line for p in alarms.known_pollutants() for line in alarms.describe(p)]
    except TynysError as e:
        return f"(drift rules not found: {e})"
    return "\b\nRules (self-starting; measured on bench/bench_drift.py, see docs/calibration.md):\n" + "\n".join(lines)


@calibrate.command(epilog=_drift_rules_help())
@_sensor_option(required=False)
@_pair_options
@click.option("--method", type=click.Choice(DRIFT_METHODS), default=DRIFT_METHODS[0],
              show_default=True, help="self-starting: the rules below, with stated false-alarm rates; fixed-baseline: "
              "the earlier CUSUM/KS alarms on a fixed baseline fit, kept for comparison.")
@click.option("--baseline-days", default=30.0, show_default=True,
              help="Days from the start that calibrate the sensor and define normal behaviour.")
@click.option("--shift", type=float, default=None, help="fixed-baseline: smallest drift worth an alarm, in the "
              "pollutant's unit (default: half a baseline SD per interval, CUSUM k = 0.5).")
@click.option("--params", "param_file", default=None, type=click.Path(dir_okay=False),
              help="SO2: the cell's calibration sheet as a JSON object (sensor_model, sensitivity_mv_ppb); with --t.")
@click.option("--param", "param_items", multiple=True, metavar="KEY=VALUE", help="SO2: one sheet value. Repeat.")
@cluster_option
@lambda fn: _node_options(fn, "With --sensor: name for the sensor in alarms (one sensor; default: its file or site "
                          "name). " + _NODE_HELP)
@output_options
def drift(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, method, baseline_days, shift, param_file,
          param_items, cluster, nodes, channel, t_from, t_to, archive, db, keys, fmt, **ctx):
    """Watch sensors for drift against a co-located reference: gain and offset alarms on daily
    residuals (each alarm with its rule, the rule's false-alarm rate and the drift's size), and a
    rolling 14-day refit (slope, intercept) every 7 days.

    From files (--sensor FILE[:COLUMN], --reference FILE[:COLUMN]); or nodes (--node, repeat) from
    --db or --archive DIR against an imported reference, --reference SITE[:PARAMETER], --rh/--t
    naming node channels; each sensor or node a part, on Dask workers with --cluster.

    Example: tynys calibrate drift --sensor node.csv:pm25 --reference station.csv:pm25 --tz Asia/Almaty
    """
    from ..calibrate.corrections import read_sheet
    from ..calibrate.network import watch_nodes, watch_sensors
    if method == "self-starting" and baseline_days != 30:
        _notes([f"the stated false-alarm rates were measured with 30 calibration days; with {baseline_days:g} "
                "they are not known"])
    how = dict(baseline_days=baseline_days, shift=shift, method=method, sheet=read_sheet(param_file, param_items))
    if sensor_specs:
        if archive or channel or t_from is not None or t_to is not None:
            raise TynysError("--archive, --channel, --from and --to read nodes, not files: drop them or --sensor")
        data = _colocated(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, ctx)
        if len(nodes) > 1 or (nodes and len(data.sensors) > 1):
            raise TynysError(f"--node names one sensor; these files hold {len(data.sensors)} ({', '.join(data.sensors)})")
        watched = watch_sensors(data, cluster=cluster, names={data.sensors[0]: nodes[0]} if nodes else None, **how)
        unit = data.unit
    else:
        if not nodes:
            raise TynysError("name what to watch: --sensor FILE[:COLUMN] files, or --node NODE (repeat) from --db or --archive")
        read_kw = _node_reading(rh_spec, t_spec, interval, t_from, t_to, archive, ctx)
        watched = _from_nodes(watch_nodes, nodes, reference, archive=archive, db=db, channel=channel, cluster=cluster,
                              read_kw=read_kw, **how)
        unit = next((w.unit for w in watched if w.unit), "")
    if fmt == "csv":   # one row per alarm: a sensor that could not be watched has no row, so say so
        _notes([f"{w.sensor} not watched: {w.problem}" for w in watched if w.problem])
        emit([a.as_dict() for w in watched for a in w.alarms], fmt)
        return
    emit([w.as_dict() for w in watched], fmt, human=lambda _: _human_drift(watched, unit))


def _human_drift(watched, u):
    from ..calibrate.alarms import arl_text
    for w in watched:
        click.echo(w.summary())
        if w.problem and not w.baseline_n:  # a node that could not be read: nothing more to show
            continue
        if w.alarms and hasattr(w.alarms[0], "rule"):   # self-starting rules: the message is in --json
            click.echo(table([{"day": a.as_dict()["time"][:10], "rule": a.rule, "reads": {"up": "high", "down": "low"}[a.direction],
                               "since": a.as_dict()["since"][:10], "drift": f"{a.estimate['size']:+g} {a.estimate['unit']}",
                               "95 %": f"{a.estimate['low']:g} .. {a.estimate['high']:g}",
                               "false alarm once in": arl_text(a.arl_days)} for a in w.alarms]), nl=False)
            click.echo("refit the calibration (tynys calibrate fit) or check the sensor")
        elif w.alarms:
            click.echo(table([{"time": a.as_dict()["time"], "kind": a.kind, "statistic": _f(a.statistic),
                               "message": a.message} for a in w.alarms]), nl=False)
        rows = [{"window end": r["window_end"][:10], "pairs": r["n"], "slope": _f(r["slope"]),
                 f"intercept [{u}]": _f(r["intercept"]), "R²": _f(r["r2"])} for r in w.refit_rows()]
        click.echo(f"rolling refit, reference = intercept + slope·sensor over {w.refit_window_days} days:" if rows else
                   f"rolling refit: no {w.refit_window_days}-day window with enough pairs (75 %)")
        if rows:
            click.echo(table(rows), nl=False)


@calibrate.command()
@click.option("--sensor", "sensor_specs", multiple=True, required=True, metavar="FILE[:COLUMN]",
              help="Sensor file (repeat for co-located sensors); COLUMN defaults to the pollutant.")
@click.option("--reference", required=True, metavar="FILE[:COLUMN]", help="Reference file.")
@_POLLUTANT
@click.option("--correction", default=None, help="Also report the sensors after this published correction (before/after).")
@click.option("--rh", "rh_spec", default=None, metavar="FILE:COLUMN", help="Raw RH for a correction that needs it.")
@_BASIS
@click.option("--allow-unverified", is_flag=True, help="Allow corrections marked unverified.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--title", default="Sensor performance report", show_default=True)
@_file_options
def report(sensor_specs, reference, pollutant, correction, rh_spec, basis, allow_unverified, out_path, title, **ctx):
    """Write an HTML report: metrics vs EPA targets, scatter, time series, drift over time; with
    --correction, the same after the correction beside the sensors as measured.

    Example: tynys calibrate report --sensor RT01.csv:pm25 --sensor RT02.csv:pm25 --reference airnow.csv --tz -05:00 --out r.html
    """
    from ..calibrate.evaluate import evaluate_files
    from ..calibrate.report import write_report
    reading = _reading(ctx)
    ev = evaluate_files(sensor_specs, reference, pollutant=pollutant, reading=reading)
    after = None
    if correction:
        after = evaluate_files(sensor_specs, reference, rh=rh_spec, correction=correction, basis=basis,
                               pollutant=pollutant, reading=reading, allow_unverified=allow_unverified)
    _notes(ev.notes)
    sources = {"sensors": ", ".join(sensor_specs), "reference": reference} | (
        {"correction": correction + (f" (RH: {rh_spec})" if rh_spec else "")} if correction else {})
    path = write_report(ev, out_path, title=title, sources=sources, after=after, after_label=correction or "")
    click.echo(f"wrote {path}", err=True)
