"""The study's five discharge scenarios on one electrode, and what sets them apart.

Zhang, Chouchane et al. (Joule 2023, Fig. 4 and 5) discharged the same electrode five times,
changing only the interphase: pristine; a heterogeneous CEI (thicker towards the separator); that
CEI twice as thick; the CEI with the CBD clogged (no Li+ through the CBD's micro-pores); and the
CEI with full clogging (the CBD clogged and the electrolyte's tortuosity doubled).
:func:`run_scenarios` runs them with one parameter set (only the scenario's own switches change,
:data:`SCENARIOS`), each in its own run folder (resumed when unfinished), and
:func:`scenario_metrics` reduces each to the study's four numbers:

* ``capacity_mAh_g``: the specific capacity at the cut-off;
* ``mean_overpotential_mV``: the mean of V_pristine(q) - V_scenario(q) over the capacity q both
  curves reach (0 for the pristine run): the extra polarisation the scenario adds, read off the
  two discharge curves as in Fig. 4B;
* ``lithiation_top_minus_bottom``: the mean lithiation x = c/c_max of the active material in the
  top tenth of the electrode (separator side) minus that of the bottom tenth (collector side),
  at the end of discharge (Fig. 4C: the study found the separator side the less lithiated,
  most of all with the thick CEI; the sign here is the model's answer, not imposed);
* ``electrolyte_top_minus_bottom``: (c_top - c_bottom) / c_top of the pore-averaged Li+
  concentration in the same two slabs at the end of discharge (Fig. 5: ~8 %, ~15 %, ~50 % for
  no, CBD and full clogging).

Numpy in, numbers out; no VTK.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from electrovox.errors import BadInput

__all__ = ["SCENARIOS", "run_scenarios", "scenario_metrics", "end_profiles", "mean_voltage_gap_mV",
           "write_scenario_tables", "SLAB_FRACTION"]

#: scenario -> the discharge() switches it sets (everything else is the one parameter set)
SCENARIOS: dict[str, dict] = {
    "pristine": {"cei": "none", "cei_scale": 1.0, "clogging": "none"},
    "cei": {"cei": "gradient", "cei_scale": 1.0, "clogging": "none"},
    "thick_cei": {"cei": "gradient", "cei_scale": 2.0, "clogging": "none"},
    "cei_cbd_clogging": {"cei": "gradient", "cei_scale": 1.0, "clogging": "cbd"},
    "cei_full_clogging": {"cei": "gradient", "cei_scale": 1.0, "clogging": "full"},
}

#: share of the electrode's thickness averaged as its "top" (separator side) and "bottom"
#: (collector side) when the end-of-discharge profiles are compared: a tenth resolves the
#: gradient of Fig. 4C/5 while holding several voxel layers on the study's 70 um at 1 um.
SLAB_FRACTION = 0.1


def end_profiles(r: dict) -> dict:
    """The lithiation and electrolyte profiles along z at the end of a discharge.

    Parameters
    ----------
    r : dict
        What :func:`~electrovox.solvers.echem.discharge.discharge` returned.

    Returns
    -------
    dict
        ``z_um`` (nz,), distance of each voxel layer's centre from the current collector, um;
        ``lithiation`` (nz,), mean x of the layer's active material; ``electrolyte_mol_m3`` (nz,),
        the layer's pore-averaged Li+ concentration, mol/m3; ``time_s`` of that profile.
    """
    p = r["profiles"]
    if len(p["time_s"]) == 0:
        raise BadInput("discharge", "recorded no profile", "run at least one output interval")
    return {"time_s": float(p["time_s"][-1]), "z_um": np.asarray(p["z_um"], float),
            "lithiation": np.asarray(p["lithiation"][-1], float),
            "electrolyte_mol_m3": np.asarray(p["electrolyte_mol_m3"][-1], float)}


def _slabs(z_um: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the bottom and top ``fraction`` of the layers (at least one layer each)."""
    n = z_um.size
    k = max(1, int(round(fraction * n)))
    bottom, top = np.zeros(n, bool), np.zeros(n, bool)
    order = np.argsort(z_um)
    bottom[order[:k]], top[order[-k:]] = True, True
    return bottom, top


def _finite_mean(a: np.ndarray) -> float:
    """Mean of the finite values (NaN, silently, for a layer set with no active material or pores)."""
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan


def mean_voltage_gap_mV(curve_ref: dict, curve: dict, points: int = 400) -> float:
    """Mean of V_ref(q) - V(q) over the capacity both discharge curves reach, mV.

    Parameters
    ----------
    curve_ref, curve : dict
        ``capacity_mAh_g`` and ``voltage_V`` arrays (capacity rising).
    points : int
        Capacities sampled evenly over [0, min(q_ref_end, q_end)].
    """
    q_end = min(float(curve_ref["capacity_mAh_g"][-1]), float(curve["capacity_mAh_g"][-1]))
    if not q_end > 0:
        return float("nan")
    q = np.linspace(0.0, q_end, points)
    v_ref = np.interp(q, curve_ref["capacity_mAh_g"], curve_ref["voltage_V"])
    v = np.interp(q, curve["capacity_mAh_g"], curve["voltage_V"])
    return float(np.mean(v_ref - v) * 1e3)


def scenario_metrics(results: dict[str, dict], fraction: float = SLAB_FRACTION) -> list[dict]:
    """The study's four numbers for each scenario (see the module's docstring).

    Parameters
    ----------
    results : dict
        Scenario name -> what :func:`~electrovox.solvers.echem.discharge.discharge` returned; must
        hold ``"pristine"`` (the reference of the overpotential).
    fraction : float
        Share of the thickness averaged as top and bottom slabs.

    Returns
    -------
    list of dict
        One row per scenario in the order given: ``scenario``, ``capacity_mAh_g``,
        ``mean_overpotential_mV`` (against pristine), ``mean_overpotential_absolute_mV`` (time mean
        of OCV(mean x) - V of the run itself), ``lithiation_top_minus_bottom``,
        ``electrolyte_top_minus_bottom`` (relative), ``electrolyte_top_mol_m3``,
        ``electrolyte_bottom_mol_m3``, ``cutoff_reached``.
    """
    if "pristine" not in results:
        raise BadInput("scenarios", "have no pristine run", "include 'pristine': it is the overpotential's reference")
    ref = results["pristine"]["history"]
    rows = []
    for name, r in results.items():
        prof = end_profiles(r)
        bottom, top = _slabs(prof["z_um"], fraction)
        li, ce = prof["lithiation"], prof["electrolyte_mol_m3"]
        li_top, li_bot = _finite_mean(li[top]), _finite_mean(li[bottom])
        ce_top, ce_bot = _finite_mean(ce[top]), _finite_mean(ce[bottom])
        gap = 0.0 if name == "pristine" else mean_voltage_gap_mV(ref, r["history"])
        rows.append({"scenario": name, "capacity_mAh_g": float(r["capacity_mAh_g"]),
                     "mean_overpotential_mV": gap,
                     "mean_overpotential_absolute_mV": float(r["mean_overpotential_mV"]),
                     "lithiation_top_minus_bottom": li_top - li_bot,
                     "electrolyte_top_minus_bottom": (ce_top - ce_bot) / ce_top if ce_top > 0 else math.nan,
                     "electrolyte_top_mol_m3": ce_top, "electrolyte_bottom_mol_m3": ce_bot,
                     "cutoff_reached": bool(r["cutoff_reached"])})
    return rows


def run_scenarios(labels, legend: dict, spacing_um, outdir, *, scenarios=None, params=None,
                  c_rate: float | None = None, cutoff_v: float | None = None, resample_um: float | None = None,
                  progress=None, **kwargs) -> dict:
    """Discharge one electrode under each scenario, each run in ``outdir/<scenario>/``.

    Parameters
    ----------
    labels : ndarray of uint8, shape (nz, ny, nx)
        The electrode, z = 0 at the current collector.
    legend : dict of int to str
        Label id -> phase.
    spacing_um : float or tuple of 3 float
        Voxel size (dz, dy, dx), um.
    outdir : str or Path
        Parent of the run folders; a run folder that holds an unfinished run is resumed.
    scenarios : list of str, optional
        Names from :data:`SCENARIOS` (default: all five, pristine first).
    params : EchemParameters, optional
        The one parameter set of every run (default: the project's).
    c_rate, cutoff_v, resample_um : float, optional
        As in :func:`~electrovox.solvers.echem.discharge.discharge`, the same for every run.
    progress : callable, optional
        ``progress(fraction, message)`` over the whole set.
    **kwargs
        Passed to every :func:`~electrovox.solvers.echem.discharge.discharge` call.

    Returns
    -------
    dict
        ``results`` (scenario -> discharge result), ``table`` (:func:`scenario_metrics` rows),
        ``wall_s`` (sum of the runs' wall times).
    """
    from electrovox.solvers.echem.discharge import discharge, write_tables

    names = list(scenarios) if scenarios else list(SCENARIOS)
    bad = [n for n in names if n not in SCENARIOS]
    if bad:
        raise BadInput("scenarios", f"unknown: {', '.join(bad)}", "use any of " + ", ".join(SCENARIOS))
    if "pristine" not in names:
        names.insert(0, "pristine")
    outdir = Path(outdir)
    results = {}
    for i, name in enumerate(names):
        def sub(frac, msg, i=i, name=name):
            if progress is not None:
                progress((i + frac) / len(names), f"scenario {name}: {msg}")
        r = discharge(labels, legend, spacing_um, params=params, c_rate=c_rate, cutoff_v=cutoff_v,
                      resample_um=resample_um, run_dir=outdir / name, progress=sub, **SCENARIOS[name], **kwargs)
        write_tables(outdir / name, r)
        results[name] = r
    return {"results": results, "table": scenario_metrics(results),
            "wall_s": float(sum(r["wall_s"] for r in results.values()))}


def write_scenario_tables(outdir, out: dict) -> dict:
    """Write the scenario table and the curves and end profiles of every run side by side.

    Files (atomic): ``scenarios.csv`` (one row per scenario), ``curves.csv`` (``scenario,
    capacity_mAh_g, voltage_V``: Fig. 4B), ``end_profiles.csv`` (``scenario, z_um, lithiation,
    electrolyte_mol_m3``: Fig. 4C and 5).

    Returns
    -------
    dict
        File role -> path.
    """
    from electrovox.io.atomic import write_csv

    outdir = Path(outdir)
    table = out["table"]
    cols = list(table[0])
    write_csv(outdir / "scenarios.csv", cols, ([row[c] for c in cols] for row in table))
    write_csv(outdir / "curves.csv", ("scenario", "capacity_mAh_g", "voltage_V"),
              ((n, repr(float(q)), repr(float(v))) for n, r in out["results"].items()
               for q, v in zip(r["history"]["capacity_mAh_g"], r["history"]["voltage_V"], strict=True)))
    rows = []
    for n, r in out["results"].items():
        p = end_profiles(r)
        rows += [(n, repr(float(z)), repr(float(li)), repr(float(ce)))
                 for z, li, ce in zip(p["z_um"], p["lithiation"], p["electrolyte_mol_m3"], strict=True)]
    write_csv(outdir / "end_profiles.csv", ("scenario", "z_um", "lithiation", "electrolyte_mol_m3"), rows)
    return {"table": outdir / "scenarios.csv", "curves": outdir / "curves.csv",
            "end_profiles": outdir / "end_profiles.csv"}
