"""Compare printed text with what the docs show, numbers within a tolerance.

Floating-point sums and fits differ in their last bits between BLAS kernels (OPENBLAS_CORETYPE,
CPU features), so a number a document shows may be printed a hair differently on another
machine. The words and the layout must match exactly; each number may differ from the one shown
by one unit in the last digit shown (35.03 matches 35.02 and 35.04; 98 matches 97 to 99).
"""

from __future__ import annotations

import re

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _tolerance(shown: str) -> float:
    mantissa, _, exp = shown.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exp or 0) - decimals)


def differences(shown: str, printed: str) -> list[str]:
    """What differs beyond the tolerance: text between numbers, or numbers further apart than one
    unit in the last digit shown. Empty when the two agree."""
    a, b = NUMBER.split(shown), NUMBER.split(printed)
    na, nb = NUMBER.findall(shown), NUMBER.findall(printed)
    if a != b or len(na) != len(nb):
        return [f"the text differs:\n--- shown\n{shown}--- printed\n{printed}"]
    return [f"{x} shown, {y} printed" for x, y in zip(na, nb)
            if abs(float(x) - float(y)) > _tolerance(x) * (1 + 1e-9)]
