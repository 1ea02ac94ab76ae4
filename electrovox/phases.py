"""Canonical phase names, the default legend, colours, and legend parsing/validation.

Code looks phases up by name, never by bare number.  A legend maps label id (int, 0..255) to a
canonical phase name.
"""

from __future__ import annotations

import numpy as np

from electrovox.errors import BadInput

#: canonical name -> (default id, display name, RGB colour in 0..1)
PHASES: dict[str, tuple[int, str, tuple[float, float, float]]] = {
    "pore": (0, "Pore (electrolyte)", (0.12, 0.12, 0.16)),
    "cbd": (1, "Carbon-binder domain", (0.20, 0.63, 0.17)),
    "am": (2, "Active material", (0.85, 0.55, 0.25)),
    "crack": (3, "Crack (inside a particle)", (0.89, 0.10, 0.11)),
    "separator": (4, "Separator", (0.55, 0.70, 0.90)),
    "collector": (5, "Current collector", (0.70, 0.70, 0.70)),
}

DEFAULT_LEGEND: dict[int, str] = {v[0]: k for k, v in PHASES.items()}
#: the canonical phase names, in the default legend's order
PHASE_NAMES: tuple[str, ...] = tuple(DEFAULT_LEGEND[i] for i in sorted(DEFAULT_LEGEND))


def display_name(name: str) -> str:
    """The display name of a phase (``am`` -> ``Active material``)."""
    return PHASES[name][1] if name in PHASES else name


def colour(name: str) -> tuple[float, float, float]:
    """The RGB colour (0..1) of a phase in ElectroVox's figures and views."""
    return PHASES[name][2] if name in PHASES else (0.5, 0.5, 0.5)


def parse_legend(text: str, source: str = "legend") -> dict[int, str]:
    """Parse ``"0=pore,1=am,2=cbd"`` into ``{0: 'pore', 1: 'am', 2: 'cbd'}``.

    Raises BadInput for malformed pairs, ids outside 0..255, duplicate ids or names, and names
    that are not canonical phases.
    """
    legend: dict[int, str] = {}
    fix = "write id=name pairs such as --legend 0=pore,1=am,2=cbd (names: " + ", ".join(PHASES) + ")"
    for item in filter(None, (p.strip() for p in str(text).split(","))):
        if "=" not in item:
            raise BadInput(source, f"legend entry '{item}' is not id=name", fix)
        key, name = (s.strip() for s in item.split("=", 1))
        try:
            idx = int(key)
        except ValueError:
            raise BadInput(source, f"legend id '{key}' is not an integer", fix) from None
        if not 0 <= idx <= 255:
            raise BadInput(source, f"legend id {idx} is outside 0..255 (labels are uint8)", fix)
        if name not in PHASES:
            raise BadInput(source, f"legend names an unknown phase '{name}'", fix)
        if idx in legend:
            raise BadInput(source, f"legend gives id {idx} twice", fix)
        if name in legend.values():
            raise BadInput(source, f"legend gives phase '{name}' twice", fix)
        legend[idx] = name
    if not legend:
        raise BadInput(source, "legend is empty", fix)
    return legend


def legend_to_text(legend: dict[int, str]) -> str:
    """A legend as ``id=name,...`` text (the inverse of :func:`parse_legend`)."""
    return ",".join(f"{k}={v}" for k, v in sorted(legend.items()))


def check_labels(labels: np.ndarray, legend: dict[int, str], source, *, legend_given: bool,
                 need_phases: int = 2) -> None:
    """Check that a label volume fits its legend.

    - labels must be integers (NaN or negative values are rejected);
    - every value present must be in the legend;
    - an explicitly given legend (``legend_given``) must not name ids that never occur;
    - at least ``need_phases`` distinct phases must be present (an empty or single-valued volume
      cannot be a segmentation).
    """
    if labels.size == 0:
        raise BadInput(source, "the volume is empty (0 voxels)", "check the file and the shape given")
    if labels.dtype.kind == "f":
        if np.isnan(labels).any():
            raise BadInput(source, "labels contain NaN values", "labels must be integer phase ids; "
                           "segment the image first (electrovox segment) or fix the export")
        if (labels != np.round(labels)).any():
            raise BadInput(source, "labels contain non-integer values",
                           "this looks like a greyscale image, not labels; segment it first")
    if labels.dtype.kind in "if" and (labels < 0).any():
        raise BadInput(source, "labels contain negative values",
                       "labels must be phase ids 0..255; fix the export or the legend")
    present = [int(v) for v in np.flatnonzero(label_counts(labels))]
    unknown = sorted(set(present) - set(legend))
    if unknown:
        raise BadInput(source, f"label values {unknown} are not in the legend {legend_to_text(legend)}",
                       "give the phase of every value with --legend id=name,...")
    if legend_given:
        absent = sorted(set(legend) - set(present))
        if absent:
            raise BadInput(source, f"the legend names ids {absent} that do not occur in the volume "
                           f"(values present: {present})", "correct the ids in --legend")
    if len(present) < need_phases:
        raise BadInput(source, f"the volume holds a single value ({present[0]}); at least {need_phases} "
                       "phases are needed", "check the segmentation or the file")


def label_counts(labels: np.ndarray, slab_voxels: int = 1 << 24) -> np.ndarray:
    """Voxel count of each label value 0..max, shape (max + 1,), int64.

    Counted slab by slab along z so that a large (possibly memory-mapped) volume never gets a
    full-size int64 copy (np.bincount casts its input to intp: 8x the memory of uint8 labels).
    Values must be non-negative integers (checked by :func:`check_labels`).
    """
    a = np.asarray(labels)
    if a.ndim < 3:
        a = a.reshape((1, 1, -1))
    per_z = max(1, a[0].size)
    step = max(1, slab_voxels // per_z)
    counts = np.zeros(256 if a.dtype == np.uint8 else 1, np.int64)
    for z0 in range(0, a.shape[0], step):
        c = np.bincount(a[z0:z0 + step].ravel().astype(np.intp, copy=False))
        if c.size > counts.size:
            c[:counts.size] += counts
            counts = c.astype(np.int64)
        else:
            counts[:c.size] += c
    return counts


def phase_fractions(labels: np.ndarray, legend: dict[int, str]) -> dict[str, float]:
    """Volume fraction of each legend phase (counts / total voxels), by phase name."""
    counts = label_counts(labels)
    total = float(labels.size)
    return {name: float(counts[i] / total) if i < counts.size else 0.0 for i, name in sorted(legend.items())}


def parse_conductivities(text: str, source: str = "conductivities") -> dict[str, float]:
    """Per-phase values from text: ``"am=10,cbd=1"`` -> ``{"am": 10.0, "cbd": 1.0}``.

    Parameters
    ----------
    text : str
        Comma-separated ``phase=value`` pairs (relative conductivities, dimensionless).
    source : str
        The keyword named in errors.

    Returns
    -------
    dict of str to float

    Raises
    ------
    BadInput
        When an item is not ``phase=number``.

    Examples
    --------
    >>> parse_conductivities("am=10, cbd=1")
    {'am': 10.0, 'cbd': 1.0}
    """
    out = {}
    for item in filter(None, (t.strip() for t in str(text).split(","))):
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise BadInput(source, f"{item!r} is not phase=value",
                           "write e.g. am=10,cbd=1 (relative conductivities)") from None
    return out
