"""All quantification metrics of one label volume in one call (the `electrovox quantify` contract).

Combines :mod:`fractions`, :mod:`surfaces` and :mod:`connectivity` into one JSON-ready dict:

- ``fractions``: {phase: volume fraction}
- ``crack_fraction_of_particles``: crack / (am + crack)
- ``contact_area_am_cbd_per_am_area``: A(am-cbd) / (A(am-cbd) + A(am-pore)) (the study's
  particle-CBD contact, crack faces excluded)
- ``specific_surface_um-1``: {"am-pore", "am-cbd", "cbd-pore", "am-crack"}: interface area per total
  volume (um^-1)
- ``interface_areas_um2``: {"a-b": um^2} for every pair of phases present
- ``cbd_largest_aggregate_fraction``: largest connected CBD aggregate / all CBD
- ``cbd_percolating_fraction``: CBD in aggregates touching both the collector and separator sides
- ``isolated_am_fraction``: active material without an electronic path (am + cbd) to z = 0
- ``dead_pore_fraction``: electrolyte space (pore + crack) not connected to the separator side
- ``profiles``: {"z_um": [...], "slice": [...], "voxels": [...], phase: [...]}: each phase's fraction per
  slice along the thickness (z), positions in um from the current collector
- ``crack_profile``: {"z_um", "slice", "particle_voxels", "crack_fraction"}: crack fraction of
  particles per slice (when the legend has am and crack)
"""

from __future__ import annotations

import time

import numpy as np

from electrovox.progress import report


def _present(legend, name):
    return any(v == name for v in legend.values())


def quantify_all(labels, legend, spacing, *, connectivity: int = 6, axis: str = "z", origin=None,
                 progress=None) -> dict:
    """Every metric of a label volume, as a JSON-ready dict.

    Every metric of a label volume ``labels`` [z, y, x] with ``legend`` {id: name} and voxel
    size ``spacing`` (dz, dy, dx) in um.  Returns a JSON-ready dict (see the module docstring);
    metrics of phases that are absent are 0 (fractions, areas) or None (shares of an absent phase).
    """
    from electrovox.filters.quantify import connectivity as conn
    from electrovox.filters.quantify import fractions as fr
    from electrovox.filters.quantify import surfaces as sf

    t0 = time.perf_counter()
    out: dict = {}
    timing = {}

    def step(name, fraction):
        timing[name] = round(time.perf_counter() - step.t, 3)
        step.t = time.perf_counter()
        report(progress, fraction, name)
    step.t = t0

    out["fractions"] = fr.volume_fractions(labels, legend)
    out["crack_fraction_of_particles"] = (fr.crack_fraction(labels, legend)
                                          if _present(legend, "am") else None)
    prof = fr.profiles(labels, legend, spacing, axis=axis, origin=origin)
    out["profiles"] = {k: np.asarray(v).tolist() for k, v in prof.items()}
    if _present(legend, "am") and _present(legend, "crack"):
        cp = fr.crack_profile(labels, legend, spacing, axis=axis, origin=origin)
        out["crack_profile"] = {k: np.asarray(v).tolist() for k, v in cp.items()}
    step("fractions", 0.15)

    areas = sf.interface_areas(labels, legend, spacing)
    out["interface_areas_um2"] = {f"{a}-{b}": float(v) for (a, b), v in sorted(areas.items())}
    volume = float(labels.size * np.prod(spacing))

    def area(a, b):
        return float(areas.get((a, b), areas.get((b, a), 0.0)))

    out["specific_surface_um-1"] = {k: area(*k.split("-")) / volume
                                    for k in ("am-pore", "am-cbd", "cbd-pore", "am-crack")}
    a_cbd, a_pore = area("am", "cbd"), area("am", "pore")
    out["contact_area_am_cbd_per_am_area"] = a_cbd / (a_cbd + a_pore) if a_cbd + a_pore > 0 else None
    step("surfaces", 0.6)

    if _present(legend, "cbd"):
        # max_rows: the per-component table is capped (its summary always covers every component)
        cbd = conn.component_table(labels, legend, "cbd", spacing, connectivity=connectivity, max_rows=10000)
        out["cbd_largest_aggregate_fraction"] = cbd["largest_share"]
        out["cbd_percolating_fraction"] = cbd["percolating_share"]
        out["cbd_aggregates"] = cbd["count"]
    else:
        out["cbd_largest_aggregate_fraction"] = out["cbd_percolating_fraction"] = None
        out["cbd_aggregates"] = 0
    out["isolated_am_fraction"] = (conn.isolated_am_fraction(labels, legend, connectivity=connectivity)
                                   if _present(legend, "am") else None)
    out["dead_pore_fraction"] = (conn.dead_pore_fraction(labels, legend, connectivity=connectivity)
                                 if _present(legend, "pore") else None)
    out["connectivity"] = connectivity
    step("connectivity", 1.0)
    out["timing_s"] = timing
    return out
