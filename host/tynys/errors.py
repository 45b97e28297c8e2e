"""One family for problems in the world (bad input, absent device, forged record), not bugs.

``tynys.cli.main`` turns a :class:`TynysError` into one line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""


class TynysError(Exception):
    """A problem with input, configuration, a device or a peer: the message says what to do."""

    exit_code = 2


def first_line(e: BaseException) -> str:
    """An error's first line (a pyarrow or PostgreSQL message runs on), or its type's name."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
