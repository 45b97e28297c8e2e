"""The one error of virtual nodes."""

from __future__ import annotations

from ..errors import TynysError


class VnodeError(TynysError):
    """A virtual node could not be created, started or driven."""
