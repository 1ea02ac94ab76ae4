"""The thickness study (the study's Fig. S9): specific capacity against electrode thickness.

The study generated stochastic electrodes 80, 160 and 240 um thick with the same statistics and
discharged them at C/3: the 240 um electrode gave about 30 % less specific capacity than the two
thinner ones (the electrolyte cannot feed its collector side in time).  :func:`thickness_study`
does the same with the project's phantom generator: one generator set-up (fractions, particle
sizes, CBD) and one seed for every thickness, so only the thickness changes, and one parameter set
for every discharge.

Numpy in, numbers out; no VTK.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from electrovox.errors import BadInput

__all__ = ["thickness_study", "write_thickness_table", "STUDY_THICKNESSES_UM"]

#: the study's three thicknesses, um (Fig. S9)
STUDY_THICKNESSES_UM = (80.0, 160.0, 240.0)


def thickness_study(thicknesses_um=STUDY_THICKNESSES_UM, *, lateral_um: float = 20.0, voxel_um: float = 1.0,
                    seed: int = 1, c_rate: float = 1.0 / 3.0, cutoff_v: float | None = None, params=None,
                    outdir=None, phantom: dict | None = None, progress=None, **kwargs) -> dict:
    """Discharge synthetic electrodes of several thicknesses and return capacity against thickness.

    Parameters
    ----------
    thicknesses_um : sequence of float
        Electrode thicknesses, um (default the study's 80, 160, 240).
    lateral_um : float
        Side of the square cross-section, um (the same for every thickness).
    voxel_um : float
        Cubic voxel size, um.
    seed : int
        Phantom seed, the same for every thickness.
    c_rate : float
        Discharge rate, 1/h (the study's C/3).
    cutoff_v : float, optional
        Lower cut-off, V (default: the parameter set's).
    params : EchemParameters, optional
        The one parameter set of every run.
    outdir : str or Path, optional
        Parent of the run folders ``L<thickness>um/`` (resumed when unfinished).
    phantom : dict, optional
        Extra :func:`~electrovox.solvers.phantoms.electrode.generate_electrode` arguments, the same
        for every thickness (fractions, ``d50_um``, ``cbd_morphology``...).
    progress : callable, optional
        ``progress(fraction, message)``.
    **kwargs
        Passed to every :func:`~electrovox.solvers.echem.discharge.discharge` call.

    Returns
    -------
    dict
        ``rows``: one dict per thickness (``thickness_um``, ``capacity_mAh_g``, ``relative_to_thinnest``,
        ``mean_overpotential_mV``, ``cutoff_reached``, ``electrolyte_min_mol_m3``, ``porosity`` (pores
        and cracks), ``dead_pore_fraction`` (pores the separator cannot reach through pores,
        :func:`~electrovox.filters.quantify.connectivity.dead_pore_fraction`), ``voxels``,
        ``wall_s``); ``results``: thickness -> discharge result.
    """
    from electrovox.filters.quantify.connectivity import dead_pore_fraction
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.echem.discharge import discharge, write_tables
    from electrovox.solvers.phantoms.electrode import generate_electrode

    ts = [float(t) for t in thicknesses_um]
    if not ts or any(not np.isfinite(t) or t <= 0 for t in ts):
        raise BadInput("thicknesses_um", f"is {thicknesses_um!r}", "give positive thicknesses in um, e.g. 80 160 240")
    if not (voxel_um > 0 and lateral_um >= 2 * voxel_um):
        raise BadInput("lateral_um/voxel_um", f"are {lateral_um}/{voxel_um}",
                       "give a voxel > 0 and a cross-section at least two voxels wide")
    rows, results = [], {}
    for i, t in enumerate(ts):
        def sub(frac, msg, i=i, t=t):
            if progress is not None:
                progress((i + frac) / len(ts), f"{t:g} um: {msg}")
        ph = generate_electrode(size_um=(t, lateral_um, lateral_um), spacing=(voxel_um,) * 3, seed=seed,
                                **(phantom or {}))
        labels, legend = ph["labels"], DEFAULT_LEGEND   # the generator writes the default legend
        run_dir = Path(outdir) / f"L{t:g}um" if outdir is not None else None
        r = discharge(labels, legend, voxel_um, params=params, c_rate=c_rate, cutoff_v=cutoff_v, run_dir=run_dir,
                      progress=sub, **kwargs)
        if run_dir is not None:
            write_tables(run_dir, r)
        pore = np.isin(labels, [k for k, v in legend.items() if v in ("pore", "crack")])
        # the pores the separator cannot reach through pores: a thin phantom whose pore network does not
        # percolate starves its collector side for geometric, not transport, reasons (shown beside)
        dead = dead_pore_fraction(labels, legend)
        results[t] = r
        rows.append({"thickness_um": t, "capacity_mAh_g": r["capacity_mAh_g"],
                     "mean_overpotential_mV": r["mean_overpotential_mV"], "cutoff_reached": r["cutoff_reached"],
                     "electrolyte_min_mol_m3": float(np.min(r["history"]["ce_min_mol_m3"])),
                     "porosity": float(pore.mean()), "dead_pore_fraction": dead, "voxels": int(labels.size),
                     "wall_s": r["wall_s"]})
    q0 = rows[int(np.argmin(ts))]["capacity_mAh_g"]
    for row in rows:
        row["relative_to_thinnest"] = row["capacity_mAh_g"] / q0 if q0 > 0 else float("nan")
    return {"rows": rows, "results": results}


def write_thickness_table(path, out: dict) -> Path:
    """Write ``thickness.csv`` (one row per thickness, :func:`thickness_study`'s columns), atomically."""
    from electrovox.io.atomic import write_csv

    cols = ["thickness_um", "capacity_mAh_g", "relative_to_thinnest", "mean_overpotential_mV", "cutoff_reached",
            "electrolyte_min_mol_m3", "porosity", "dead_pore_fraction", "voxels", "wall_s"]
    write_csv(path, cols, ([row[c] for c in cols] for row in out["rows"]))
    return Path(path)
