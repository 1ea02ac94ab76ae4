"""One table of every metric for several volumes, with each metric's change relative to the first.

The study reports degradation this way: crack volume per particle volume +9 % / +24 % and
particle-CBD contact per particle surface -10 % / -20 % after cycling, relative to pristine.
:func:`compare` takes the metric dicts of any number of volumes (pristine first) and returns that
comparison for every numeric metric they hold.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from electrovox.errors import BadInput
from electrovox.filters.quantify.fractions import Table


def _scalar(v):
    """A float for a numeric scalar (bools as 0/1, None as NaN); None for anything else."""
    if v is None:
        return float("nan")
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()
    if isinstance(v, (bool, np.bool_, numbers.Real)) and not isinstance(v, str):
        return float(v)
    return None


def flatten(metrics: dict, prefix: str = "", sep: str = ".") -> dict[str, float]:
    """Numeric scalars of a nested dict as ``{"a.b.c": value}`` (insertion order kept).

    Nested dicts are walked with ``sep`` joining the keys; numbers and bools become floats, None
    becomes NaN; strings, lists, arrays and tables (dicts of arrays, whose entries are arrays)
    are left out: they are not one number per volume.
    """
    out: dict[str, float] = {}
    for k, v in metrics.items():
        key = f"{prefix}{sep}{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(flatten(v, key, sep))
            continue
        x = _scalar(v)
        if x is not None:
            out[key] = x
    return out


def relative_change(x: float, x0: float) -> float:
    """``(x - x0) / x0``; NaN when ``x0`` is 0 or either value is NaN."""
    if x0 == 0 or math.isnan(x0) or math.isnan(x):
        return float("nan")
    return (x - x0) / x0


def compare(results: list[dict], names: list[str]) -> Table:
    """Every numeric metric of several volumes side by side, and its change relative to the first.

    Parameters
    ----------
    results : one metric dict per volume (nested dicts allowed, flattened to dotted keys such as
        ``"fractions.am"``; non-numeric entries are ignored, see :func:`flatten`)
    names : one distinct name per volume, e.g. ``["pristine", "4.4V", "4.7V"]``; the first is the
        reference

    Returns a :data:`Table`, one row per metric (in first-seen order over the inputs):

    - ``"metric"``: the dotted key (text column);
    - ``<name>`` for every volume: its value (NaN where that volume lacks the metric);
    - ``<name>.rel_change`` for every volume after the first: ``(x - x0) / x0`` against the first
      volume's value ``x0`` (dimensionless: +0.24 is +24 %), NaN when ``x0`` is 0 or missing.
    """
    if len(results) != len(names):
        raise BadInput("names", f"{len(names)} names for {len(results)} results", "give one name per result")
    if not results:
        raise BadInput("results", "nothing to compare", "give at least one metric dict")
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        raise BadInput("names", f"names {names} are not distinct", "give every volume its own name")
    flat = [flatten(r) for r in results]
    keys: dict[str, None] = {}
    for f in flat:
        keys.update(dict.fromkeys(f))
    rows = list(keys)
    table: Table = {"metric": np.array(rows, dtype=str)}
    values = [np.array([f.get(k, np.nan) for k in rows], dtype=float) for f in flat]
    for n, v in zip(names, values, strict=True):
        table[n] = v
    x0 = values[0]
    for n, v in zip(names[1:], values[1:], strict=True):
        table[f"{n}.rel_change"] = np.array([relative_change(a, b) for a, b in zip(v, x0, strict=True)], dtype=float)
    return table
