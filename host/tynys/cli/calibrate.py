"""``tynys calibrate``: evaluate sensors against a reference, list corrections, compare and fit models,
watch for drift, write a report. Each command is a few lines over ``tynys.calibrate``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
import numpy as np

from ..errors import TynysError
from ..importers import read
from ..store import Store
from ..timeutil import iso
from .common import Time, db_option
from .output import emit, output_options, table

_CSV_OPTS = [
    click.option("--tz", default=None, help="Time zone of timestamps that carry none: UTC, +06:00, Asia/Almaty."),
    click.option("--day-tz", default=None, help="Zone whose standard-time midnight starts the 24-h days (default: "
                 "--tz, else the zone the sensor file names; UTC for UTC days, as sensortoolkit averages)."),
    click.option("--time-column", default=None, help="Time column of plain CSV inputs."),
    click.option("--site-column", default=None, help="Column naming the sensor/site when a CSV holds several."),
    click.option("--keep-flagged", is_flag=True, help="Keep reference values with a non-zero QC code."),
]


def _csv_options(fn):
    for opt in reversed(_CSV_OPTS):
        fn = opt(fn)
    return fn


def _split(spec: str) -> tuple[str, str | None]:
    """``FILE[:COLUMN]``; a path that exists as given wins over a colon inside it."""
    if Path(spec).exists() or ":" not in spec:
        return spec, None
    path, col = spec.rsplit(":", 1)
    return path, col or None


def _load(spec, column, ctx) -> tuple[str, object, str]:
    path, col = _split(spec)
    opts = {k: ctx[k] for k in ("time_column",) if ctx.get(k)}
    if ctx.get("site_column"):
        opts["site_column"] = ctx["site_column"]
    from ..importers import detect
    fmt = detect(path)
    if fmt == "airnowtech":
        from ..importers.airnowtech import read_airnowtech
        tab = read_airnowtech(path, keep_flagged=ctx.get("keep_flagged", False))
    else:
        tab = read(path, fmt, tz=ctx.get("tz"), **(opts if fmt == "csv" else {}))
    return path, tab, col or column


def _series(spec, column, ctx) -> dict:
    """``{label: (time, values)}`` for one FILE[:COLUMN], one entry per site in the file. The zone
    the file's times were read in is kept in ``ctx["zones"]`` (for the days of 24-h means)."""
    path, tab, col = _load(spec, column, ctx)
    ctx.setdefault("zones", []).append(tab.meta.get("tz"))
    label = Path(path).name.split(".")[0]
    if tab.site is None:
        return {label: (tab.time, tab.column(col))}
    return {s: (sub.time, sub.column(col)) for s in tab.sites() for sub in [tab.select(s)]}


def _day_tz(ctx) -> str | None:
    """The zone whose standard-time days make 24-h means: --day-tz, --tz, else the first zone a
    sensor or reference file was read in (a sensortoolkit preamble); None for UTC days."""
    found = [z for z in ctx.get("zones", []) if z]
    return ctx.get("day_tz") or ctx.get("tz") or (found[0] if found else None)


def _basis(column: str | None, given: str | None) -> str | None:
    if given:
        return given
    c = (column or "").lower().replace("_", "").replace(".", "")
    return "cf1" if "cf1" in c else "atm" if "atm" in c else None


def _pollutant(column: str | None, given: str | None) -> str:
    if given:
        return given
    c = (column or "pm25").lower()
    return next((p for p in ("pm10", "so2", "pm25") if p in c.replace(".", "").replace("_", "")), "pm25")


def _corrected(sensors: dict, rh: dict | None, correction: str | None, basis: str | None, allow: bool) -> dict:
    if not correction:
        return sensors
    from ..calibrate import corrections
    from ..calibrate.colocation import average, recording_interval
    out = {}
    for label, (t, v) in sensors.items():
        rh_v = None
        if rh is not None:
            rt, rv = rh.get(label, next(iter(rh.values())))
            if len(rt) != len(t) or not np.array_equal(rt, t):  # align RH on the sensor's own times
                step = recording_interval(t)
                at, av, _ = average(rt, rv, step)
                rh_v = np.full(len(t), np.nan)
                j = np.searchsorted(at, t // step * step)
                ok = (j < len(at)) & (at[np.minimum(j, len(at) - 1)] == t // step * step)
                rh_v[ok] = av[j[ok]]
            else:
                rh_v = rv
        out[label] = (t, corrections.apply(correction, x=v, basis=basis, rh=rh_v, allow_unverified=allow))
    return out


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
@click.option("--basis", type=click.Choice(["cf1", "atm"]), default=None, help="Which Plantower output the sensor column is.")
@click.option("--pollutant", type=click.Choice(["pm25", "pm10", "so2"]), default=None, help="Targets to judge by.")
@click.option("--interval", "intervals", multiple=True, type=click.Choice(["1h", "24h"]), help="Averaging interval(s).")
@click.option("--bootstrap", "n_boot", default=0, help="Bootstrap resamples for confidence intervals (0 = none).")
@click.option("--allow-unverified", is_flag=True, help="Allow corrections marked unverified.")
@_csv_options
@output_options
def evaluate(sensor_specs, reference, rh_spec, correction, basis, pollutant, intervals, n_boot, allow_unverified, fmt, **ctx):
    """Judge sensors against a reference by EPA's metrics and targets, per averaging interval.

    Example: tynys calibrate evaluate --sensor RT01.csv --reference airnowtech.csv:pm25 --tz -05:00 --json
    """
    from ..calibrate.evaluate import evaluate as run
    ref_col = _split(reference)[1]
    pol = _pollutant(_split(sensor_specs[0])[1] or ref_col, pollutant)
    sensors = {}
    for spec in sensor_specs:
        sensors.update(_series(spec, pol, ctx))
    refs = _series(reference, pol, ctx)
    rh = _series(rh_spec, "rh", ctx) if rh_spec else None
    sensors = _corrected(sensors, rh, correction, _basis(_split(sensor_specs[0])[1], basis), allow_unverified)
    rows, notes = [], []
    tz = _day_tz(ctx)
    if len(refs) == 1:
        ev = run(sensors, next(iter(refs.values())), pollutant=pol, intervals=intervals or None, n_boot=n_boot, tz=tz)
        rows, notes = ev.rows, ev.notes
    else:  # one reference per site: evaluate each site on its own
        for site, ref in refs.items():
            if site in sensors:
                ev = run({site: sensors[site]}, ref, pollutant=pol, intervals=intervals or None, n_boot=n_boot, tz=tz)
                rows += ev.rows
                notes += [n for n in ev.notes if n not in notes]
    for n in notes:
        click.echo(f"note: {n}", err=True)
    emit(rows, fmt, human=_human_eval)


def _human_eval(rows):
    from ..calibrate.report import verdict
    cols = ("interval", "sensor", "r2", "slope", "intercept", "rmse", "nrmse", "n", "sd", "cv", "pass", "failed")
    out = [{c: ("" if r.get(c) is None else (verdict(r) if c == "pass" else
                                              ", ".join(r[c]) if c == "failed" else r[c])) for c in cols} for r in rows]
    click.echo(table(out), nl=False)


@calibrate.command()
@click.option("--check", is_flag=True, help="Also run each correction's test vectors and report the worst error.")
@output_options
def corrections(check, fmt):
    """List the published corrections with citation, input basis and required inputs.

    Example: tynys calibrate corrections --json
    """
    from ..calibrate import corrections as corr
    rows = []
    for name, doc in corr.catalogue().items():
        row = corr.summary(doc)
        if check:
            pairs = corr.check_vectors(name)
            err = max((abs(a - b) for a, b in pairs if not (np.isnan(a) and np.isnan(b))), default=0.0)
            row["vectors"] = f"{len(pairs)} ok" if err <= doc["test_vectors"]["atol"] else f"max error {err:.3g}"
        rows.append(row)
    def human(rs):
        shown = [{"name": r["name"], "pollutant": r["pollutant"], "basis": r["basis"], "inputs": ", ".join(r["inputs"]),
                  "status": r["status"]} | ({"vectors": r["vectors"]} if check else {}) for r in rs]
        click.echo(table(shown), nl=False)

    emit(rows, fmt, human=human)


def _paired(sensor_specs, reference, rh_spec, t_spec, interval, pol, ctx):
    """Co-located pairs over all sites/sensors: arrays x, y, rh, t_c, time, site."""
    from ..calibrate.colocation import INTERVALS, colocate, recording_interval
    sensors = {}
    for spec in sensor_specs:
        sensors.update(_series(spec, pol, ctx))
    refs = _series(reference, pol, ctx)
    rh = _series(rh_spec, "rh", ctx) if rh_spec else {}
    tc = _series(t_spec, "t_c", ctx) if t_spec else {}
    parts = []
    for label, (t, v) in sensors.items():
        rt, rv = refs.get(label, next(iter(refs.values())))
        iv = interval
        if INTERVALS[iv] < max(recording_interval(t), recording_interval(rt)):
            iv = "24h"
        extras = {}
        if rh:
            extras["rh"] = rh.get(label, next(iter(rh.values())))
        if tc:
            extras["t_c"] = tc.get(label, next(iter(tc.values())))
        p = colocate(t, v, rt, rv, iv, extras=extras, tz=_day_tz(ctx))
        parts.append((label, p))
    cat = lambda f: np.concatenate([f(p) for _, p in parts])  # noqa: E731
    return {"x": cat(lambda p: p.sensor), "y": cat(lambda p: p.reference),
            "rh": cat(lambda p: p.extras["rh"]) if rh else None, "t_c": cat(lambda p: p.extras["t_c"]) if tc else None,
            "time": cat(lambda p: p.time), "site": np.concatenate([np.full(len(p), lab) for lab, p in parts]),
            "interval": parts[0][1].interval}


_PAIR_OPTS = [
    click.option("--reference", required=True, metavar="FILE[:COLUMN]", help="Reference file."),
    click.option("--rh", "rh_spec", default=None, metavar="FILE:COLUMN", help="Raw RH."),
    click.option("--t", "t_spec", default=None, metavar="FILE:COLUMN", help="Temperature [°C]."),
    click.option("--interval", default="1h", type=click.Choice(["1h", "24h"]), help="Averaging interval."),
    click.option("--pollutant", type=click.Choice(["pm25", "pm10", "so2"]), default=None),
]


def _pair_options(fn):
    fn = click.option("--sensor", "sensor_specs", multiple=True, required=True, metavar="FILE[:COLUMN]", help="Sensor file(s).")(
        _pair_options_without_sensor(fn))
    return fn


def _pair_options_without_sensor(fn):
    for opt in reversed(_PAIR_OPTS):
        fn = opt(fn)
    return _csv_options(fn)


@calibrate.command()
@_pair_options
@click.option("--validation", type=click.Choice(["site", "time"]), default="time",
              help="Leave-site-out, or 10-fold blocked leave-time-out.")
@click.option("--folds", default=10, help="Folds for leave-time-out.")
@click.option("--model", "names", multiple=True, help="Models to fit (default: all).")
@click.option("--basis", type=click.Choice(["cf1", "atm"]), default=None, help="Plantower output of the sensor column.")
@output_options
def compare(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, validation, folds, names, basis, fmt, **ctx):
    """Compare raw, every applicable published correction and fitted models under held-out validation.

    Example: tynys calibrate compare --sensor pa.csv:A_B_Avg --reference pa.csv:conc --rh pa.csv:humidity_a
             --time-column DAILY --site-column sensor_index --tz America/New_York --validation site
    """
    from ..calibrate import corrections as corr, models, validation as val
    col = _split(sensor_specs[0])[1]
    d = _paired(sensor_specs, reference, rh_spec, t_spec, interval, _pollutant(col, pollutant), ctx)
    if validation == "site":
        sites, merged = val.shared_reference_sites(d["site"], d["time"], d["y"])
        for m in merged:
            click.echo(f"note: {', '.join(m)} share one reference monitor: held out together as one site", err=True)
        if len(set(sites.tolist())) < 2:
            raise TynysError(f"leave-site-out needs sensors at 2 or more reference sites; these {len(set(d['site'].tolist()))} "
                             "sensor(s) were all paired with the same reference values (one site): "
                             "use --validation time")
        folds_arr, _ = val.group_folds(sites)
    else:
        folds_arr = val.blocked_folds(d["time"], folds)
    b = _basis(col, basis)
    fixed = {"raw": d["x"]}
    for name, doc in corr.catalogue().items():
        if doc["form"] == "aan803":
            continue
        if doc["basis"] != b:
            click.echo(f"note: {name} skipped: it needs {doc['basis']}, the sensor column is {b or 'of unknown basis (--basis)'}", err=True)
            continue
        if "rh" in doc["inputs"] and d["rh"] is None:
            click.echo(f"note: {name} skipped: it needs --rh", err=True)
            continue
        fixed[name] = corr.apply(name, x=d["x"], basis=b, rh=d["rh"], allow_unverified=True)
    names = names or [m for m in models.NAMES if all(d.get(k) is not None for k in models.NEEDS[m])]
    rows = val.compare(names, {"x": d["x"], "rh": d["rh"], "t_c": d["t_c"]}, d["y"], folds_arr, fixed=fixed,
                       validation="leave-site-out" if validation == "site" else f"{folds}-fold blocked")
    keep = ("candidate", "kind", "validation", "rmse", "nrmse", "r2", "slope", "intercept", "bias", "mae", "n")
    emit([{k: r[k] for k in keep} for r in rows], fmt)


@calibrate.command()
@click.option("--sensor", "sensor_specs", multiple=True, metavar="FILE[:COLUMN]",
              help="Sensor file(s); without it the node's channel is read from the store (--db).")
@_pair_options_without_sensor
@click.option("--model", "name", default="ols", help="Model: ols, deming, mlr_rh, mlr_rh_t, kappa, piecewise.")
@click.option("--node", required=True, help="Node id the profile is for.")
@click.option("--channel", default="pm.pm25_cf1", show_default=True, help="Node channel the profile corrects.")
@click.option("--profiles", "root", default=None, type=click.Path(file_okay=False), help="Profile folder (with --sensor files).")
@click.option("--valid-from", type=Time, default=None, help="Start of validity (UTC); default: the fit's first interval.")
@click.option("--valid-to", type=Time, default=None, help="End of validity (UTC); default: open.")
@click.option("--from", "t_from", type=Time, default=None, help="With --db: co-locate from this time (UTC).")
@click.option("--to", "t_to", type=Time, default=None, help="With --db: co-locate until this time (UTC).")
@db_option
@output_options
def fit(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, name, node, channel, root, valid_from, valid_to,
        t_from, t_to, db, keys, fmt, **ctx):
    """Fit a model on co-located data and store it as the next profile version.

    From the store (--db, no --sensor): the node's CHANNEL against an imported reference,
    --reference SITE[:PARAMETER] (tynys db sites); --rh/--t name node channels (found when omitted).
    From files (--sensor): FILE[:COLUMN] inputs, the profile written to --profiles DIR.

    Example: tynys calibrate fit --db city.db --node osk-01 --channel pm.pm25_cf1 --reference csv:kazhydromet-1:pm25 --model mlr_rh
    """
    from ..calibrate import profiles, stored, validation as val
    if not sensor_specs:
        with Store.open(db, create=False) as store:
            s, summary = stored.fit(store, node, channel, reference, model=name, rh=rh_spec, t_c=t_spec, interval=interval,
                                    t0=t_from, t1=t_to, valid_from=valid_from, valid_to=valid_to,
                                    include_flagged=ctx.get("keep_flagged", False), tz=_day_tz(ctx))
        emit({"id": s.id, **asdict(s.profile), "summary": summary}, fmt, human=_human_fit)
        return
    if root is None:
        raise TynysError("with --sensor FILE the profile is written to a folder: pass --profiles DIR "
                         "(or fit from the store: --db DB without --sensor)")
    d = _paired(sensor_specs, reference, rh_spec, t_spec, interval, _pollutant(_split(sensor_specs[0])[1], pollutant), ctx)
    data = {"x": d["x"], "rh": d["rh"], "t_c": d["t_c"]}
    coef, metrics = val.fit_validated(name, data, d["y"], d["time"], interval=d["interval"])
    inputs = {"x": channel} | ({"rh": "th.rh"} if d["rh"] is not None else {}) | ({"t_c": "th.t_c"} if d["t_c"] is not None else {})
    p = profiles.profile_from_fit(node, channel, name, coef, d["time"], inputs=inputs, reference=reference,
                                  metrics=metrics, valid_from=iso(valid_from) if valid_from is not None else None,
                                  valid_to=iso(valid_to) if valid_to is not None else None, interval=d["interval"])
    if d["interval"] == "24h":  # provenance: which days the daily means were made on
        from ..calibrate.colocation import days_label
        p.fitted_on["days"] = days_label(_day_tz(ctx))
    p = profiles.ProfileStore(root).save(p)
    emit(asdict(p), fmt)


def _g(x) -> str:
    return "-" if x is None else f"{x:.4g}" if isinstance(x, float) else str(x)


def _human_fit(doc):
    coef = "  ".join(f"{k} {_g(v)}" for k, v in doc["coefficients"].items())
    f, sm = doc["fitted_on"], doc["summary"]
    click.echo(f"{doc['node']} {doc['sensor']} v{doc['version']}: {doc['model']}  {coef}  [{doc['unit']}]")
    click.echo(f"fitted on {f['reference']} ({f.get('reference_name') or f.get('reference_kind')}), "
               f"{f['from']} .. {f['to']}, {f['n']} {f['interval']} pairs" + (f" (days: {f['days']})" if f.get("days") else ""))
    for label, m in (("raw", sm["raw"]), ("corrected", sm["validated"])):
        extra = f"  ({m['validation']})" if "validation" in m else ""
        click.echo(f"  {label:<10} rmse {_g(m['rmse'])}  r2 {_g(m['r2'])}  slope {_g(m['slope'])}  intercept {_g(m['intercept'])}{extra}")
    click.echo(f"valid from {doc['valid_from']}" + (f" to {doc['valid_to']}" if doc["valid_to"] else "") +
               f"; apply it with: tynys calibrate apply --node {doc['node']}")


# Which channel a published correction reads by default, by its input basis.
_DEFAULT_CHANNEL = {"cf1": "pm.pm25_cf1", "atm": "pm.pm25_atm", "we_ae_mv": "so2.we_mv"}


def _params(param_file, items) -> dict | None:
    out = {}
    if param_file:
        try:
            out = json.loads(Path(param_file).read_text())
        except (OSError, ValueError) as e:
            raise TynysError(f"cannot read the sensor sheet {param_file}: {e}; write a JSON object such as "
                             '{"sensor_model": "so2-b4", "we_e_mv": 270, ...}') from None
    for item in items:
        k, sep, v = item.partition("=")
        if not sep:
            raise TynysError(f"cannot read --param {item!r}: write KEY=VALUE, e.g. we_e_mv=270")
        try:
            out[k.strip()] = float(v)
        except ValueError:
            out[k.strip()] = v.strip()
    return out or None


@calibrate.command("apply")
@click.option("--node", default=None, help="Only this node (default: every node with a profile, or with the channel).")
@click.option("--channel", default=None, help="Only this channel; with --correction, the channel it corrects "
              "(default pm.pm25_cf1 / pm.pm25_atm / so2.we_mv by its basis).")
@click.option("--correction", default=None, help="First make this published correction a profile (tynys calibrate corrections).")
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
def apply_(node, channel, correction, param_file, param_items, rh, t_c, valid_from, valid_to, t_from, t_to,
           allow_unverified, db, keys, fmt):
    """Write corrected values beside the raw ones, by the profiles valid at each window's time.

    Raw values are never changed; each corrected value records the profile (and version) that made it.
    --correction NAME first adds NAME as a profile of each node with the channel and no profile
    of its own for it yet (name a node with --node to supersede its profile).

    Example: tynys calibrate apply --db city.db --correction barkjohn2021
    """
    from ..calibrate import corrections as corr, stored
    with Store.open(db, create=False) as store:
        if correction:
            doc = corr.get(correction)
            channel = channel or _DEFAULT_CHANNEL.get(doc["basis"])
            nodes = [node] if node else [n.id for n in store.nodes() if channel in store.channel_names(n.id)]
            if not nodes:
                raise TynysError(f"no node has a {channel} channel to apply {correction} to: name one with --channel")
            for nid in nodes:
                have = stored.profiles(store, nid, channel)
                if have and not node:  # never supersede a node's own profile unless that node is named
                    p = have[-1].profile
                    click.echo(f"{nid} {channel} already has v{p.version} ({p.model}): kept; to replace it with "
                               f"{correction}, name the node: --node {nid}", err=True)
                    continue
                s = stored.use_correction(store, nid, channel, correction, params=_params(param_file, param_items), rh=rh,
                                          t_c=t_c, valid_from=valid_from, valid_to=valid_to, allow_unverified=allow_unverified)
                click.echo(f"{nid} {channel} v{s.profile.version}: {s.profile.model} (profile {s.id})", err=True)
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


@calibrate.command()
@_pair_options
@click.option("--baseline-days", default=30.0, help="Days from the start that define normal behaviour.")
@click.option("--shift", type=float, default=None, help="Smallest drift worth an alarm, in the pollutant's unit.")
@click.option("--node", default=None, help="Node id for the alarm text (default: file name).")
@output_options
def drift(sensor_specs, reference, rh_spec, t_spec, interval, pollutant, baseline_days, shift, node, fmt, **ctx):
    """Detect drift against a co-located reference: CUSUM and KS alarms, plus the rolling refit.

    Example: tynys calibrate drift --sensor node.csv:so2 --reference station.csv:so2 --tz Asia/Almaty
    """
    from ..calibrate import drift as dr, models
    d = _paired(sensor_specs, reference, rh_spec, t_spec, interval, _pollutant(_split(sensor_specs[0])[1], pollutant), ctx)
    t0 = int(d["time"].min())
    base_end = t0 + int(baseline_days * 86400)
    train = d["time"] < base_end
    coef = models.fit("ols", {"x": d["x"][train]}, d["y"][train], interval=d["interval"])
    corrected = models.predict("ols", coef, {"x": d["x"]})
    alarms = dr.detect_drift(node or Path(_split(sensor_specs[0])[0]).stem, d["time"], corrected, d["y"],
                             baseline_end=base_end, shift=shift, tz=_day_tz(ctx))
    emit([a.as_dict() for a in alarms], fmt)


@calibrate.command()
@click.option("--sensor", "sensor_specs", multiple=True, required=True, metavar="FILE[:COLUMN]")
@click.option("--reference", required=True, metavar="FILE[:COLUMN]")
@click.option("--pollutant", type=click.Choice(["pm25", "pm10", "so2"]), default=None)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--title", default="Sensor performance report")
@_csv_options
def report(sensor_specs, reference, pollutant, out_path, title, **ctx):
    """Write an HTML report: metrics vs EPA targets, scatter, time series, drift over time.

    Example: tynys calibrate report --sensor RT01.csv --sensor RT02.csv --reference airnow.csv --tz -05:00 --out r.html
    """
    from ..calibrate import drift as dr
    from ..calibrate.evaluate import evaluate as run
    from ..calibrate.report import write_report
    pol = _pollutant(_split(sensor_specs[0])[1] or _split(reference)[1], pollutant)
    sensors = {}
    for spec in sensor_specs:
        sensors.update(_series(spec, pol, ctx))
    refs = _series(reference, pol, ctx)
    if len(refs) != 1:
        raise TynysError("report takes one reference series (one site)")
    ev = run(sensors, next(iter(refs.values())), pollutant=pol, tz=_day_tz(ctx))
    for n in ev.notes:
        click.echo(f"note: {n}", err=True)
    first = next((p for (iv, _), p in ev.pairs.items() if iv == "1h"), None)
    fits = dr.rolling_refit(first.time, first.sensor, first.reference, window=7 * 86400) if first is not None and len(first) > 200 else None
    path = write_report(ev, out_path, title=title, drift=fits,
                        sources={"sensors": ", ".join(sensor_specs), "reference": reference})
    click.echo(f"wrote {path}", err=True)
