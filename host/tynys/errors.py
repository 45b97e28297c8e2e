"""One family for problems in the world (bad input, absent device, forged record), not bugs.

``tynys.cli.main`` turns a :class:`TynysError` into one line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""


class TynysError(Exception):
    """A problem with input, configuration, a device or a peer: the message says what to do."""

    exit_code = 2
