"""Re-timing the records a node made before its clock was set.

After power-on an ESP32's clock reads 2000-01-01 until NTP or the host sets it, and the node's
records say ``"clock":"unsynced"``. Ingest stores them *pending* (acknowledged, kept raw, left out
of every query by time) and calls :func:`retime` for their boot; a record of the **same boot** with
a set clock (``ntp``/``host``), stored before or after them, gives them world times:

- Within one boot the node's ``health.uptime`` (whole seconds since the firmware started, counted
  when the window closes, i.e. at its ``t1``: firmware/node/app.py) runs on without a jump, and so
  does its unset clock. So ``t1 - uptime`` is one number for all the boot's unsynced records (the
  unset clock at uptime 0) and another for its records with a set clock (world time at uptime 0);
  the difference is the **shift** that moves the unsynced windows to world time. A window closed
  late (an uplink held up the loop) has a larger uptime, never a smaller one, so each number is
  the largest ``t1 - uptime`` of its group; the set-clock group is the boot's first
  :data:`ANCHORS` such records, before the clock drifts and is set again. Uptime counts whole
  seconds: this shift is good to about a second.
- When the clock is set during a window, the firmware closes that window on the old clock and
  starts the next one at the same instant on the new clock. So when the unsynced record just
  before the boot's first set-clock record (seq - 1) ends, by the shift above, within
  :data:`SLACK` of where that record starts, the two meet: the shift is exactly their difference.
- One shift per boot keeps the node's own window grid: lengths and contiguity. The windows are
  not snapped onto the UTC grid of the set clock: they were not measured on it, and snapping
  would move up to half a window of readings into the neighbouring window (or hour).

A window stays pending, the reason in ``timing_note``, when the shift would make it end in the
future, start before the node's installation, end after its retirement, or overlap a window of
the same node timed by a set clock by more than :data:`SLACK`. A boot that never sends a record
with a set clock stays pending: counted by ``tynys db stats``, never dropped, never used.
"""

from __future__ import annotations

import logging

import numpy as np

from .store import Store
from .timeutil import iso

log = logging.getLogger("tynys.retime")

ANCHORS = 12  # set-clock records of a boot that fix world time at uptime 0: an hour of 5-min windows
SLACK = 2  # s: uptime is whole seconds, counted as a window closes
LONGEST = 86400  # s: no window is longer (the firmware's window_s is at most 3600)


def retime(store: Store, node: str, boot: int, now: int, max_future: int, since: int | None = None) -> None:
    """Re-time the unsynced records of one boot of *node*, or keep them pending with the reason
    (inside the caller's transaction). The outcome depends on what is stored, not on the order
    it arrived in; running it again changes nothing. *since*: the lowest seq just stored, when
    all just stored had a set clock: a record after the boot's first ANCHORS of those changes
    nothing, so then nothing more is read (a live node's steady state). Windows of *other* boots
    stored later are not checked against this boot's re-timed ones."""
    if since is not None and store.clocked_before(node, boot, since, ANCHORS) == ANCHORS:
        return  # nothing new to re-time from
    anchors = store.clock_anchors(node, boot, ANCHORS)
    untimed = store.untimed(node, boot) if anchors else None
    if not untimed:
        return  # nothing to re-time from yet (pending as stored), or nothing to re-time
    rid, seq, t0, t1, up = np.array([r[:5] for r in untimed], dtype=np.int64).T
    a = np.array(anchors, dtype=np.int64)
    a_id, a_seq, a_t0 = (int(x) for x in a[0, :3])
    shift = int((a[:, 3] - a[:, 4]).max() - (t1 - up).max())
    how = f"by uptime against seq {a_seq}"
    cut = np.flatnonzero(seq == a_seq - 1)
    if len(cut) and abs(a_t0 - int(t1[cut[0]]) - shift) <= SLACK:
        shift, how = a_t0 - int(t1[cut[0]]), f"to meet seq {a_seq}, where the clock was set"
    w0, w1 = t0 + shift, t1 + shift

    why = np.full(len(rid), "", dtype=object)

    def keep_pending(mask, reason):
        for i in np.flatnonzero(mask & (why == "")):
            why[i] = f"re-timed {iso(w0[i])} .. {iso(w1[i])} ({shift:+d} s) would {reason(i)}"

    n = store.node(node)
    keep_pending(w1 > now + max_future, lambda i: f"end {w1[i] - now} s after the host clock")
    if n.installed is not None:
        keep_pending(w0 < n.installed, lambda i: f"start before the node was installed ({iso(n.installed)})")
    if n.retired is not None:
        keep_pending(w1 > n.retired, lambda i: f"end after the node was retired ({iso(n.retired)})")
    e = store.set_windows(node, int(w0.min()), int(w1.max()), LONGEST)
    e = e[e[:, 3] - e[:, 2] > SLACK]
    if len(e):
        reach = np.maximum.accumulate(e[:, 3])  # the latest end among the windows starting so far
        k = np.searchsorted(e[:, 2], w1 - SLACK)  # windows starting more than SLACK before w1
        hit = (k > 0) & (reach[np.maximum(k - 1, 0)] > w0 + SLACK) & (w1 - w0 > SLACK)
        j = np.searchsorted(reach, w0 + SLACK, side="right")  # among them, the first ending after w0 + SLACK
        keep_pending(hit, lambda i: f"overlap boot {e[j[i], 0]} seq {e[j[i], 1]} ({iso(e[j[i], 2])} .. {iso(e[j[i], 3])})")

    ok = why == ""
    rows = [("retimed", int(w0[i]), int(w1[i]), a_id, f"moved {shift:+d} s {how}", int(rid[i])) if ok[i]
            else ("pending", None, None, None, why[i], int(rid[i])) for i in range(len(rid))]
    changed = [r for r, old in zip(rows, untimed) if r[:5] != tuple(old[5:])]
    if changed:
        store.set_timing(changed)
        log.info("%s boot %d: %d windows re-timed (moved %+d s %s), %d pending", node, boot, int(ok.sum()), shift, how,
                 int((~ok).sum()))
