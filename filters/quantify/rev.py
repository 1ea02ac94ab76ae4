"""Representative-volume analysis: metrics on growing or random sub-volumes.

Does a sub-volume of a given size represent the electrode?  Compute the metrics on sub-volumes
of growing size (centred, one per size) or on several random sub-volumes per size, and watch
the mean settle and the spread shrink.  The study runs its simulations on a 33 x 33 x 70 um
sub-volume (Fig. S6/S7): ``sizes_um=[(70, 33, 33)]`` with ``mode="random"`` gives that
sub-volume's spread over the electrode.
"""

from __future__ import annotations

import numpy as np

from electrovox.errors import BadInput
from electrovox.filters.quantify.compare import flatten
from electrovox.filters.quantify.connectivity import (
    component_table,
    dead_pore_fraction,
    isolated_am_fraction,
    largest_share,
)
from electrovox.filters.quantify.fractions import Table, as_spacing, phase_ids
from electrovox.phases import label_counts
from electrovox.progress import report

#: built-in metric names and what they compute on a sub-volume
BUILTIN_METRICS = {
    "fractions": "volume fraction of every legend phase (keys fractions.<phase>)",
    "crack_fraction": "crack / (am + crack)",
    "largest_cbd_share": "largest connected CBD aggregate's share of the CBD volume",
    "percolating_cbd_share": "share of the CBD volume in aggregates touching both z faces",
    "isolated_am_fraction": "share of AM with no am/cbd path to the sub-volume's z = 0 plane",
    "dead_pore_fraction": "share of pore + crack not connected to the sub-volume's z = max plane",
}


def _default_metrics(legend) -> list[str]:
    ids = phase_ids(legend)
    names = ["fractions"]
    if "crack" in ids:
        names.append("crack_fraction")
    if "cbd" in ids:
        names.append("largest_cbd_share")
    return names


def _builtin(names, sub, legend, spacing, connectivity) -> dict:
    ids = phase_ids(legend)
    out: dict = {}
    counts = None
    if "fractions" in names or "crack_fraction" in names:
        counts = label_counts(sub, slab_voxels=1 << 23)

    def n(p):
        i = ids.get(p)
        return int(counts[i]) if i is not None and i < counts.size else 0

    if "fractions" in names:
        out["fractions"] = {str(p): n(p) / sub.size for _, p in sorted(legend.items())}
    if "crack_fraction" in names:
        part = n("am") + n("crack")
        out["crack_fraction"] = n("crack") / part if part else float("nan")
    if "largest_cbd_share" in names:
        out["largest_cbd_share"] = largest_share(sub, legend, "cbd", connectivity) if "cbd" in ids else float("nan")
    if "percolating_cbd_share" in names:
        out["percolating_cbd_share"] = (component_table(sub, legend, "cbd", spacing, connectivity)["percolating_share"]
                                        if "cbd" in ids else float("nan"))
    if "isolated_am_fraction" in names:
        out["isolated_am_fraction"] = isolated_am_fraction(sub, legend, connectivity)
    if "dead_pore_fraction" in names:
        out["dead_pore_fraction"] = dead_pore_fraction(sub, legend, connectivity)
    return out


def _parse_metrics(metrics, legend):
    if metrics is None:
        metrics = _default_metrics(legend)
    elif isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    names, funcs = [], []
    for m in metrics:
        if callable(m):
            funcs.append(m)
        elif isinstance(m, str) and m in BUILTIN_METRICS:
            names.append(m)
        else:
            raise BadInput("metrics", f"unknown metric {m!r}",
                           "give built-in names (" + ", ".join(BUILTIN_METRICS) + ") or "
                           "callables f(labels_sub, legend, spacing) -> {name: value}")
    return names, funcs


def _shapes(shape, sp, sizes_um):
    """Sub-volume shapes (voxels) for the requested sizes, clipped to the volume."""
    if sizes_um is None:
        # eight steps of a common scale factor: sub-volumes similar to the whole, the last the whole
        return [tuple(max(1, int(round(n * k / 8))) for n in shape) for k in range(1, 9)]
    out = []
    for s in [sizes_um] if np.ndim(sizes_um) == 0 else sizes_um:
        e = np.atleast_1d(np.asarray(s, dtype=float)).ravel()
        if e.size == 1:
            e = np.repeat(e, 3)
        if e.size != 3 or not np.all(np.isfinite(e)) or np.any(e <= 0):
            raise BadInput("sizes_um", f"size {s!r} is not one or three positive lengths",
                           "give sub-volume edges in um: a number (cube) or (z, y, x)")
        out.append(tuple(int(min(n, max(1, round(x / d)))) for x, d, n in zip(e, sp, shape, strict=True)))
    if not out:
        raise BadInput("sizes_um", "no sizes given", "give at least one size, or None for the default")
    return out


def _positions(shape, sub, mode, n_random, rng):
    if mode == "growing":
        return [tuple((n - s) // 2 for n, s in zip(shape, sub, strict=True))]
    free = [n - s + 1 for n, s in zip(shape, sub, strict=True)]
    if int(np.prod(free)) <= n_random:
        # no more distinct places than samples asked for: take every one (exact, no repeats)
        return [tuple(int(v) for v in p) for p in np.ndindex(*free)]
    return [tuple(int(rng.integers(0, f)) for f in free) for _ in range(n_random)]


def representative_volume(labels, legend: dict[int, str], spacing, metrics=None, mode: str = "growing",
                          sizes_um=None, n_random: int = 8, seed: int = 0, connectivity: int = 6,
                          progress=None) -> Table:
    """Metrics on sub-volumes of growing size, to judge the representative volume.

    Parameters
    ----------
    labels : integer array [z, y, x]; legend : ``{id: phase name}``
    spacing : voxel size in um (dz, dy, dx) or one number
    metrics : None (default: ``fractions``, plus ``crack_fraction`` and ``largest_cbd_share`` when
        the legend has cracks / CBD), a built-in name (see :data:`BUILTIN_METRICS`), a callable
        ``f(labels_sub, legend, spacing) -> {name: value}`` (nested dicts are flattened to dotted
        keys), or a list of those
    mode : ``"growing"``: one centred sub-volume per size; ``"random"``: ``n_random`` sub-volumes
        per size at uniformly random positions (all positions when there are no more than
        ``n_random``, so a sub-volume as large as the volume is evaluated once)
    sizes_um : sub-volume sizes: a list of sizes in um, each a number (cube edge) or ``(z, y, x)``
        edges (so ``[(70, 33, 33)]`` is one sub-volume, ``(70, 33, 33)`` three cubes); clipped to the
        volume and rounded to whole voxels.  Default: the volume scaled by 1/8, 2/8, ..., 8/8
        along every axis.
    n_random, seed : samples per size and the random seed (``mode="random"``)
    connectivity : 6, 18 or 26, for the connectivity metrics

    Returns a :data:`Table`, one row per size, columns:

    - ``edge_um``: edge of the cube of the same volume (the chart's x axis);
    - ``size_z_um``, ``size_y_um``, ``size_x_um``: the sub-volume's edges; ``volume_um3``;
    - ``samples``: sub-volumes evaluated;
    - for each metric key m: ``m.mean``, ``m.std`` (sample standard deviation, ddof = 1; 0 for a
      single sample), ``m.min``, ``m.max`` over the samples (NaN values, e.g. a crack fraction of
      a sub-volume without particles, are left out).
    """
    a = np.asarray(labels)
    if a.ndim != 3 or a.size == 0:
        raise BadInput("labels", f"expected a non-empty 3-D volume, got shape {a.shape}", "pass a label volume")
    if mode not in ("growing", "random"):
        raise BadInput("mode", f"unknown mode {mode!r}", "give 'growing' or 'random'")
    if int(n_random) < 1:
        raise BadInput("n_random", f"{n_random!r} samples", "give at least 1")
    sp = as_spacing(spacing)
    names, funcs = _parse_metrics(metrics, legend)
    shapes = _shapes(a.shape, sp, sizes_um)
    rng = np.random.default_rng(seed)
    plan = [(s, _positions(a.shape, s, mode, int(n_random), rng)) for s in shapes]
    n_total = sum(len(p) for _, p in plan)

    rows = []                       # per size: list of flat metric dicts
    done = 0
    for s, positions in plan:
        samples = []
        for p in positions:
            sub = a[p[0]:p[0] + s[0], p[1]:p[1] + s[1], p[2]:p[2] + s[2]]
            vals = _builtin(names, sub, legend, sp, connectivity) if names else {}
            for f in funcs:
                vals.update(f(sub, legend, sp))
            samples.append(flatten(vals))
            done += 1
            report(progress, done / n_total, f"sub-volume {done}/{n_total}")
        rows.append(samples)

    keys: dict[str, None] = {}
    for samples in rows:
        for v in samples:
            keys.update(dict.fromkeys(v))
    ext = np.array([[n * d for n, d in zip(s, sp, strict=True)] for s, _ in plan])
    vol = ext.prod(axis=1)
    table: Table = {
        "edge_um": np.cbrt(vol), "size_z_um": ext[:, 0], "size_y_um": ext[:, 1], "size_x_um": ext[:, 2],
        "volume_um3": vol, "samples": np.array([len(p) for _, p in plan], dtype=np.int64),
    }
    for k in keys:
        stats = np.full((len(rows), 4), np.nan)
        for r, samples in enumerate(rows):
            x = np.array([v.get(k, np.nan) for v in samples], dtype=float)
            x = x[~np.isnan(x)]
            if x.size:
                stats[r] = (x.mean(), x.std(ddof=1) if x.size > 1 else 0.0, x.min(), x.max())
        for j, st in enumerate(("mean", "std", "min", "max")):
            table[f"{k}.{st}"] = stats[:, j]
    return table
