"""Which channel of a node stands for a pollutant, and which profile corrected it.

The rule (documented in docs/aqi.md, "Over the store"):

1. **Chosen** (``--channel``): a channel the user names, where the node has it.
2. **Profiled**: a channel with a calibration profile (``tynys calibrate``); when several of a
   pollutant's channels have one (``barkjohn2021`` on ``pm.pm25_cf1``, later ``epa2021_fsm_atm`` on
   ``pm.pm25_atm``), the one **profiled first** stays — a later profile on another channel never
   switches what "raw" means — and a note names the others and how to choose.
3. **Reported**: PM2.5 the first of ``pm25_atm``, ``pm25``, ``pm25_cf1`` the node reports; SO2
   ``so2_ppb`` (a sensor reporting ppb itself: ZE03, DGS). An ISB's WE/AE in mV without a
   calibration sheet has no SO2 value (a note says how to add one).

The corrected values are those of the chosen channel's profiles; outputs name the channel and
each profile as ``name vN`` (``barkjohn2021 v1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PM25_RAW = ("pm25_atm", "pm25", "pm25_cf1")
SO2_RAW = ("so2_ppb",)
PM10_RAW = ("pm10_atm", "pm10", "pm10_cf1")


class Text(str):
    """A note's English line that also names its text key in the site's language files
    (``web/i18n/*.json``) and its parameters, so a page in Kazakh or Russian words it too."""

    key: str
    params: dict

    def __new__(cls, text: str, key: str, **params) -> "Text":
        out = super().__new__(cls, text)
        out.key, out.params = key, params
        return out

    def __getnewargs_ex__(self):  # pickled to and from Dask workers (tynys.pipeline.parts)
        return (str(self), self.key), self.params


@dataclass(frozen=True)
class Choice:
    """One node's channel for one pollutant: ``channel`` (the one chosen), ``raw`` (the same
    channel where its stored values are already in the pollutant's unit — PM in µg/m³, SO2 in
    ppb —, else None: an ISB's mV), ``corrected`` (the channel when it has profiles, else None)
    and ``profiles`` (version -> profile name)."""

    channel: str | None
    raw: str | None
    corrected: str | None
    profiles: dict = field(default_factory=dict)

    def profile(self, version: int) -> str | None:
        """``barkjohn2021 v1`` for a version used; None for 0 (no profile)."""
        return f"{self.profiles.get(int(version), '?')} v{int(version)}" if version else None


def pm10_tries(pm25_raw: str | None) -> list[str]:
    """A node's PM10 channels to try, in order, given its raw PM2.5 channel: the same sensor
    output (``pm.pm25_cf1`` -> ``pm.pm10_cf1``), then PM10_RAW in that slot (none without PM2.5)."""
    if pm25_raw is None or "pm25" not in pm25_raw:
        return []
    slot = pm25_raw.partition(".")[0]
    return list(dict.fromkeys([pm25_raw.replace("pm25", "pm10", 1)] + [f"{slot}.{c}" for c in PM10_RAW]))


def profile_name(model: str) -> str:
    """``correction:barkjohn2021`` -> ``barkjohn2021``; a fitted model keeps its name (``mlr_rh``)."""
    return model.split(":", 1)[1] if model.startswith("correction:") else model


def choose(node: str, pollutant: str, have: set, profiled: list, chosen=(), notes: list | None = None) -> Choice:
    """The channel of *pollutant* for *node*. *have*: the node's channel names (``pm.pm25_cf1``);
    *profiled*: its stored profiles of this pollutant as ``(id, channel, version, model)``;
    *chosen*: channel names the user prefers (``pm.pm25_atm`` or ``pm25_atm``)."""
    notes = notes if notes is not None else []
    by_channel: dict[str, dict] = {}
    first: dict[str, int] = {}
    for pid, ch, version, model in sorted(profiled):
        by_channel.setdefault(ch, {})[int(version)] = profile_name(model)
        first.setdefault(ch, pid)
    names = PM25_RAW if pollutant == "pm25" else SO2_RAW
    mine = [c for c in sorted(have | set(by_channel)) if c in chosen or c.partition(".")[2] in chosen]
    if mine:
        channel = mine[0]
    elif by_channel:
        channel = min(first, key=first.get)
        others = [c for c in by_channel if c != channel]
        if others:
            named = lambda c: f"{c} ({', '.join(f'{n} v{v}' for v, n in by_channel[c].items())})"  # noqa: E731
            notes.append(Text(f"{node}: {pollutant} has profiles on {named(channel)} and {', '.join(named(c) for c in others)}: "
                              f"using {channel}, profiled first; use another with --channel {others[0].partition('.')[2]}",
                              "note.several_profiles", node=node, pollutant=pollutant, channel=channel, others=others))
    else:
        channel = next((c for name in names for c in sorted(have) if c.partition(".")[2] == name), None)
        if channel is None and pollutant == "so2" and any(c.endswith(".we_mv") for c in have):
            notes.append(Text(f"{node}: SO2 WE/AE in mV without a calibration sheet: no SO2 value "
                              f"(tynys calibrate apply --node {node} --correction aan803_alg4 --params sheet.json)",
                              "note.so2_no_sheet", node=node))
    raw = channel if channel is not None and channel.partition(".")[2] in names else None
    return Choice(channel, raw, channel if channel in by_channel else None, by_channel.get(channel, {}))
