"""Axis arguments of the numerical cores: names ``"z"``, ``"y"``, ``"x"`` or array-axis indices.

Volumes are indexed ``[z, y, x]``, so an integer axis is an index into those array axes:
0 = z (the electrode thickness), 1 = y, 2 = x.
"""

from __future__ import annotations

import numpy as np

from electrovox.errors import BadInput

#: the array axes of a ``[z, y, x]`` volume, in order
ARRAY_AXES = ("z", "y", "x")


def array_axis(axis, name: str = "axis", source: str | None = None) -> int:
    """Index of an array axis of a ``[z, y, x]`` volume given by name or by index.

    Parameters
    ----------
    axis : {"z", "y", "x"} or {0, 1, 2}
        The axis name (case-insensitive), or an integer index into the ``(z, y, x)`` array axes
        (0 = z, 1 = y, 2 = x).
    name : str, optional
        The keyword the value was given as, named in the error message.
    source : str, optional
        The first word of the error message (default ``name``).

    Returns
    -------
    int
        0, 1 or 2.

    Raises
    ------
    BadInput
        ``axis`` is neither one of the names nor one of the indices (booleans are refused).

    Examples
    --------
    >>> array_axis("x"), array_axis("Z"), array_axis(1)
    (2, 0, 1)
    >>> array_axis("w", "slice_axis")
    Traceback (most recent call last):
    ...
    electrovox.errors.BadInput: slice_axis: slice_axis 'w' is not 'z', 'y' or 'x' ...
    """
    if isinstance(axis, str):
        key = axis.strip().lower()
        if key in ARRAY_AXES:
            return ARRAY_AXES.index(key)
    elif isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)) and 0 <= int(axis) <= 2:
        return int(axis)
    raise BadInput(source or name, f"{name} {axis!r} is not 'z', 'y' or 'x' (nor an index 0, 1, 2 of the "
                                   "[z, y, x] array axes)", f"give {name}='z', 'y' or 'x'")
