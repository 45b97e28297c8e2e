"""Network-scale compute: one function per node (or sensor) in this process, or on Dask workers.

    from tynys.cluster import map_parts
    results = map_parts(fit_one, nodes, cluster="local:4")       # a LocalCluster of 4 processes
    results = map_parts(fit_one, nodes, cluster="tcp://10.0.0.5:8786")  # a running scheduler
    results = map_parts(fit_one, nodes)                           # here, one after another

The function is the single-process path's own (same numpy kernels); each part is independent,
so the results are those of the loop, in the parts' order. Nothing is stored by the parts: the
caller stores the results once all came back, so a cluster that fails mid-run leaves nothing
half-written. Dask's ``distributed`` is imported only when a cluster is named.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Callable, Iterable, Iterator

from .errors import TynysError, first_line

_LOCAL = re.compile(r"local:(\d+)")
_REMOTE = re.compile(r"(tcp|tls)://[^\s/]+:\d+")
CONNECT_TIMEOUT = 10.0  # [s] to reach a named scheduler


class ClusterError(TynysError):
    """The Dask cluster cannot be used as named, or went away during a run."""


def check_spec(spec: str) -> str:
    """*spec* if it names a cluster this module can use: ``local:N`` or ``tcp://HOST:PORT``."""
    m = _LOCAL.fullmatch(spec)
    if (m and int(m.group(1)) >= 1) or _REMOTE.fullmatch(spec):
        return spec
    raise ClusterError(f"--cluster {spec!r}: write local:N (N worker processes on this machine) or "
                       "tcp://HOST:PORT (a running dask scheduler)")


@contextlib.contextmanager
def client(spec: str, *, timeout: float | None = None) -> Iterator:
    """A ``distributed.Client`` for *spec* (see :func:`check_spec`); a ``local:N`` cluster is
    started here (N single-threaded worker processes) and stopped on leaving."""
    check_spec(spec)
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.comm.timeouts.connect": f"{timeout:g}s", "distributed.logging.distributed": "error"}):
        m = _LOCAL.fullmatch(spec)
        if m:
            # the dashboard on a free port: two clusters at once must not fight over 8787
            with LocalCluster(n_workers=int(m.group(1)), threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                              silence_logs=50) as cluster, Client(cluster) as c:
                yield c
            return
        try:
            c = Client(spec, timeout=timeout)
        except (OSError, TimeoutError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler at {spec} ({first_line(e)}): start it (dask scheduler; "
                               "dask worker ADDRESS on each machine) or fix --cluster") from None
        with c:
            yield c


def map_parts(fn: Callable, parts: Iterable, *args, cluster: str | None = None, **kw) -> list:
    """``[fn(part, *args, **kw) for part in parts]``, on the Dask cluster *cluster* when named."""
    parts = list(parts)
    if cluster is None:
        return [fn(p, *args, **kw) for p in parts]
    try:
        # closing the client is inside: with the scheduler gone, its close can fail too
        with _quiet(), client(cluster) as c:
            futures = c.map(fn, parts, *[[a] * len(parts) for a in args], pure=False, **kw)
            return c.gather(futures)
    except TynysError:
        raise
    except Exception as e:
        # the scheduler's connection closed (an OSError), its tasks cancelled, a worker killed
        if gone(e):
            raise ClusterError(f"the Dask cluster {cluster} went away during the run ({first_line(e)}): nothing was "
                               "stored; run the command again once the scheduler and its workers are up") from None
        raise


_GONE = {"KilledWorker", "CancelledError", "CommClosedError", "ClosedClientError"}


def gone(e: BaseException) -> bool:
    """Whether *e* says the cluster went away: a closed connection, or one of Dask's errors for
    lost tasks and clients, subclasses included (``gather`` raises ``FuturesCancelledError``)."""
    return isinstance(e, (OSError, TimeoutError)) or bool(_GONE & {k.__name__ for k in type(e).__mro__})


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Dask's own log lines (reconnect attempts, tracebacks of cancelled tasks) say what the one
    line of :class:`ClusterError` says."""
    import distributed  # noqa: F401 - its loggers exist once it is imported

    logs = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in ("distributed", "tornado")]
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for log, level in zip(logs, levels):
            log.setLevel(level)
