"""Tynys host toolkit: collect, verify, store, calibrate and publish air-quality node records.

The library sits under the ``tynys`` command: every subcommand is a few lines over a public
function in ``tynys.<module>`` that scripts and tests call as well.
"""

__version__ = "0.1.0"
