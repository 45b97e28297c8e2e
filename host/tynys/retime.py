"""Re-timing the records a node's clock did not time right.

After power-on an ESP32's clock reads 2000-01-01 until NTP or the host sets it, and the node's
records say ``"clock":"unsynced"``; a clock can also be set wrong (a bad NTP answer, a virtual
node running faster than the host). Ingest stores such records *pending* (acknowledged, kept
raw, left out of every query by time) and calls :func:`retime` for their boot; records of the
**same boot** whose set clock the host found right (``ntp``/``host``, within its limits), stored
before or after them, give them world times:

- Within one boot the node's ``health.uptime`` (whole seconds since the firmware started, counted
  when the window closes, i.e. at its ``t1``: firmware/node/app.py) runs on without a jump. So
  ``t1 - uptime`` is the reading of the node's clock at uptime 0: one number for all the boot's
  unsynced records, another for its records with a right clock (world time at uptime 0). A
  window closed late (an uplink held up the loop) has a larger uptime, never a smaller one, so
  each number is the largest ``t1 - uptime`` of its group that agrees with the group's median
  (within :data:`LATE` below it, :data:`SLACK` above); the right-clock group is the boot's first
  :data:`ANCHORS` such records, before the clock drifts and is set again.
- The unsynced records move by one **shift**, the difference of the two, keeping the node's own
  window grid (lengths and contiguity); they are not snapped onto the UTC grid. When the clock
  was set during a window, the firmware closed that window on the old clock and started the next
  at the same instant on the new one: when the unsynced record just before the boot's first
  right-clock record ends, by the shift, within SLACK of where that one starts, the shift is
  exactly their difference. Uptime counts whole seconds: otherwise the shift is good to ~1 s.
- A record whose set clock was off is re-timed on its own: its window ends at world time at
  uptime 0 plus its uptime.

What it infers is checked, and what does not fit stays pending with the reason in
``timing_note``: an unsynced record whose ``t1 - uptime`` disagrees with its group's (an uptime
or a clock that jumped), or whose uptime does not grow with its seq; a window that would end
after the host clock (plus ``max_future``), start before ``max_past`` ago (or before
:data:`FLOOR`), before the node's installation or after its retirement, or overlap a window of
the same node timed by a right clock by more than SLACK. A boot that never sends a record with a
right clock stays pending: counted by ``tynys db stats``, never dropped, never used.
"""

from __future__ import annotations

import logging

import numpy as np

from .store import Store
from .timeutil import iso

log = logging.getLogger("tynys.retime")

ANCHORS = 12  # right-clock records of a boot that fix world time at uptime 0: an hour of 5-min windows
SLACK = 2  # s: uptime is whole seconds, counted as a window closes
LATE = 900  # s: how much later than due a window may close (uplinks held up the loop; the watchdog bounds it)
LONGEST = 86400  # s: no window is longer (the firmware's window_s is at most 3600)
FLOOR = 946684800  # 2000-01-01: no Tynys node measured before; an ESP32's unset clock reads this


def _agreeing(b: np.ndarray) -> tuple[np.ndarray, int]:
    """Which of the ``t1 - uptime`` values of one clock agree (with their median: at most SLACK
    above it, LATE below it), and the largest of those: that clock's reading at uptime 0. The
    median is one of the values (the lower middle one), so some always agree: with two far
    groups of equal size the mean of the middle two would match neither. On such a tie the
    earlier clock reading wins (a clock set wrong jumps forward more often than back)."""
    med = np.partition(b, (len(b) - 1) // 2)[(len(b) - 1) // 2]
    ok = (b <= med + SLACK) & (b >= med - LATE)
    return ok, int(b[ok].max())


def _increasing(x: np.ndarray) -> np.ndarray:
    """Which of *x* belong to a longest strictly increasing run of it (the others are out of order)."""
    tails, tail_at, prev = [], [], np.full(len(x), -1)
    for i, v in enumerate(x.tolist()):
        k = int(np.searchsorted(tails, v, side="left"))
        prev[i] = tail_at[k - 1] if k else -1
        if k == len(tails):
            tails.append(v)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = v, i
    keep = np.zeros(len(x), dtype=bool)
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep[i] = True
        i = prev[i]
    return keep


def retime(store: Store, node: str, boot: int, now: int, max_future: int | None, since: int | None = None,
           max_past: int | None = None) -> int | None:
    """Re-time the pending records of one boot of *node*, or keep them pending with the reason
    (inside the caller's transaction). The outcome depends on what is stored, not on the order
    it arrived in; running it again changes nothing (until the host's clock passes a limit).
    *since*: the lowest seq just stored, when all just stored were timed by a right clock: a
    record after the boot's first ANCHORS of those changes nothing, so then nothing more is read
    (a live node's steady state). Windows of *other* boots stored later are not checked against
    this boot's re-timed ones.

    Returns the seq of the boot's ANCHORS-th right-clock record when it has that many: later
    records with a right clock need no call (a caller may remember it)."""
    if since is not None and store.clocked_before(node, boot, since, ANCHORS) == ANCHORS:
        return None  # nothing new to re-time from
    anchors = store.clock_anchors(node, boot, ANCHORS)
    settled = anchors[-1][1] if len(anchors) == ANCHORS else None
    untimed = store.untimed(node, boot) if anchors else None
    if not untimed:
        return settled  # nothing to re-time from yet (pending as stored), or nothing to re-time
    rid, seq, t0, t1, up = np.array([r[:5] for r in untimed], dtype=np.int64).T
    unsynced = np.array([r[10] == "unsynced" for r in untimed])
    a = np.array(anchors, dtype=np.int64)
    a_id, a_seq, a_t0 = (int(x) for x in a[0, :3])
    _, world0 = _agreeing(a[:, 3] - a[:, 4])

    why = np.full(len(rid), "", dtype=object)
    shift = world0 - (t1 - up)  # a record with a set clock that was off: on its own
    how = np.full(len(rid), f"by its uptime against seq {a_seq}", dtype=object)
    if unsynced.any():
        b = (t1 - up)[unsynced]
        ok, clock0 = _agreeing(b)
        s = world0 - clock0
        group_how = f"by uptime against seq {a_seq}"
        cut = np.flatnonzero(unsynced & (seq == a_seq - 1))
        if len(cut) and abs(a_t0 - int(t1[cut[0]]) - s) <= SLACK:
            s, group_how = a_t0 - int(t1[cut[0]]), f"to meet seq {a_seq}, where the clock was set"
        shift[unsynced], how[unsynced] = s, group_how
        at = np.flatnonzero(unsynced)
        for i, good in zip(at, ok):
            if not good:
                why[i] = (f"its uptime ({up[i]} s at {iso(t1[i])} on the unset clock) disagrees by {int(t1[i] - up[i] - clock0):+d} s "
                          f"with the boot's other unsynced records: an uptime or clock that jumped")
        order = at[np.argsort(seq[at])]
        for i in order[~_increasing(up[order])]:  # uptime grows with seq within a boot
            if why[i] == "":
                why[i] = f"its uptime ({up[i]} s) is out of order with the boot's other unsynced records"
    w0, w1 = t0 + shift, t1 + shift

    def keep_pending(mask, reason):
        for i in np.flatnonzero(mask & (why == "")):
            why[i] = f"re-timed {iso(w0[i])} .. {iso(w1[i])} ({shift[i]:+d} s) would {reason(i)}"

    n = store.node(node)
    if max_future is not None:
        keep_pending(w1 > now + max_future, lambda i: f"end {w1[i] - now} s after the host clock")
    floor = FLOOR if max_past is None else max(FLOOR, now - max_past)
    keep_pending(w0 < floor, lambda i: f"start before {iso(floor)}" + ("" if max_past is None else f" ({max_past / 86400:g} days before the host clock)"))
    if n.installed is not None:
        keep_pending(w0 < n.installed, lambda i: f"start before the node was installed ({iso(n.installed)})")
    if n.retired is not None:
        keep_pending(w1 > n.retired, lambda i: f"end after the node was retired ({iso(n.retired)})")
    fit = why == ""
    if fit.any():
        e = store.set_windows(node, int(w0[fit].min()), int(w1[fit].max()), LONGEST)
        e = e[e[:, 3] - e[:, 2] > SLACK]
        if len(e):
            reach = np.maximum.accumulate(e[:, 3])  # the latest end among the windows starting so far
            k = np.searchsorted(e[:, 2], w1 - SLACK)  # windows starting more than SLACK before w1
            hit = (k > 0) & (reach[np.maximum(k - 1, 0)] > w0 + SLACK) & (w1 - w0 > SLACK)
            j = np.searchsorted(reach, w0 + SLACK, side="right")  # among them, the first ending after w0 + SLACK
            keep_pending(hit, lambda i: f"overlap boot {e[j[i], 0]} seq {e[j[i], 1]} ({iso(e[j[i], 2])} .. {iso(e[j[i], 3])})")

    ok = why == ""
    rows = [("retimed", int(w0[i]), int(w1[i]), a_id, f"moved {int(shift[i]):+d} s {how[i]}", int(rid[i])) if ok[i]
            else ("pending", None, None, None, why[i], int(rid[i])) for i in range(len(rid))]
    changed = [r for r, old in zip(rows, untimed) if r[:5] != tuple(old[5:10])]
    if changed:
        store.set_timing(changed)
        log.info("%s boot %d: %d windows re-timed, %d pending", node, boot, int(ok.sum()), int((~ok).sum()))
    return settled
