"""One link's plain values as the batch's columns hold them (the one-link path's conversions)."""

from __future__ import annotations

NAN = float("nan")


def number(value: float | bool | None) -> float:
    """A canonical value as the batch's float64 column holds it (bools 1/0, missing NaN)."""
    return NAN if value is None else float(value)
