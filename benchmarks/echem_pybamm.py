"""Discharge: the homogenised limit of the 3D voxel model against PyBaMM's DFN, one BPX file for both.

What is compared
----------------
ElectroVox's microstructure-resolved discharge (:func:`electrovox.solvers.echem.discharge.discharge`)
on active-material lamellae, a label volume whose homogenised limit is a 1D porous electrode,
against PyBaMM's Doyle-Fuller-Newman half cell (``pybamm.lithium_ion.DFN({"working electrode":
"positive"})``).  Both read one BPX file written by :func:`electrovox.solvers.echem.bpx.write_bpx`
(PyBaMM through ``pybamm.ParameterValues.create_from_bpx``) and lithiate the NMC811 from the fully
delithiated state (``Minimum stoichiometry``) at a C-rate to the 3.5 V cut-off.  Reported per
case: each model's capacity (mAh/g of NMC811) and their relative difference; the voltage
difference ElectroVox - PyBaMM at matched capacity (PyBaMM's dense curve interpolated linearly at
ElectroVox's output capacities), its max, RMS and mean over the curve with the last 2 % of the
smaller capacity left out; the wall times.  Targets (the issue): voltage within 2 mV, capacity
within 0.5 %, on the lamellae at C/2 and 1C (the bold rows).

Geometry and how it maps onto the DFN
-------------------------------------
Lamellae: labels ``[z, y, x]`` of ``40 x 1 x 5`` cubic voxels of 1 um.  In every layer the first
3 columns along x are NMC, the other 2 pore: NMC slabs run the full 40 um electrode thickness
along z beside straight pore channels, z = 0 at the current collector, the model's homogenised
separator and Li foil above z = 39.  The box's x faces are closed (no flux, no reaction), so each
slab (thickness t = 3 um) reacts through one face, x = 3 um, and lithium diffuses across it in
1D.  The voxel model takes every geometric quantity from the labels; the BPX file's 1D-surrogate
fields, which only PyBaMM reads, are set to match them:

- ``positive.thickness_m`` = 40 um (nz x voxel);
- ``positive.porosity`` = 0.4 and ``positive.active_fraction`` = 0.6 (the labels' volume
  fractions);
- ``positive.transport_efficiency`` = porosity (straight channels, tortuosity factor 1; PyBaMM's
  Bruggeman exponent ln(TE) / ln(eps) = 1);
- ``positive.particle_radius_m`` = 3 t = 9 um.  PyBaMM's particles are spheres (its ``particle
  shape`` option offers only ``spherical`` and ``no particles``), with reacting area per electrode
  volume a = 3 eps_s / R; the slabs have eps_s / t (one face of nz h^2 per period nx nz h^3).
  R = 3 t makes a, hence the kinetic overpotential, the same.  Solid diffusion cannot be matched
  that way (at quasi-steady state the surface leads the mean by j t / 3D in a slab, j R / 5D = 1.8
  x that in the sphere), so it is taken out of play: ``positive.diffusivity_m2_s`` = 1e-10 in the
  file (both models): the slab-sphere difference U' j (R/5 - t/3) / (D c_max) is then about
  0.02 mV at 1C (|U'| <= 3.3 V);
- ``cell.mass_loading_kg_m2`` = NMC density x eps_s x thickness / ``cell.active_mass_fraction``,
  so BPX's ``Nominal cell capacity`` (PyBaMM's 1C) per electrode area is the voxel model's 1C
  (280 mAh/g x the NMC mass of the voxels) per cross-section: the applied current densities agree.

The separator (thickness, porosity, transport efficiency), the electrolyte, the Li-metal
kinetics, the OCP, the rate constant and the stoichiometry window come from the same file for
both.  The parameter set is otherwise the default, changed (in the file, for both) only where BPX
cannot carry what ElectroVox uses (``MATCHED``):

- ``electrolyte.model`` = ``Nyman2008`` (constant t+, thermodynamic factor 1, which BPX carries
  exactly).  The default ``Landesfeind2019`` has t+(c) and a thermodynamic factor(c) that BPX has
  no field for: PyBaMM's reader takes the transference number at c_e0 and sets the thermodynamic
  factor to 1 (the ``default electrolyte`` row sizes that);
- ``counter.concentration_exponent`` = 0: ElectroVox scales the Li-foil exchange current by
  (c_e / c_e0)^0.3; PyBaMM's half cell reads ``Exchange-current density for lithium metal
  electrode`` as a constant number.

Two readings of the same file differ, and the PyBaMM worker handles them as follows:

- the initial state.  BPX ``State`` says initial SOC 1, which ElectroVox reads as ``Minimum
  stoichiometry``.  PyBaMM 26.10's ``create_from_bpx`` passes it to ``set_initial_state`` with
  full-cell options, the Li stand-in acting as a negative electrode, and gets another
  stoichiometry (0.2399 for these files, not 0.2291); ``Simulation.solve(initial_soc=1)`` with the
  half-cell model would recompute it right.  The worker sets ``Initial concentration in positive
  electrode`` = minimum stoichiometry x c_max; the row ``PyBaMM initial state as read`` shows what
  the reader's value alone does;
- the electrode conductivity.  BPX ``Conductivity`` is the *effective* matrix conductivity
  (PyBaMM sets the electrode Bruggeman coefficient to 0); ElectroVox writes the NMC phase value
  there and gets the effective value from the geometry (eps_s sigma along the slabs).  The
  headline uses the file as read; the diagnostic row ``PyBaMM sigma_eff = eps_s sigma`` uses
  electrode Bruggeman 1.

Diagnostics (the other rows) size each remaining difference: the slabs' top faces, which react
with the separator's electrolyte (area share 3 x 0.39 / 40 = 2.9 %; PyBaMM with its area scaled
by that); slab against sphere diffusion (D_s 1e-12); the discretisation of both models (PyBaMM
mesh x2 and tolerance 1e-10; ElectroVox voxels / 2, steps / 4, separator layers x 4);
*segmented* lamellae, whose NMC columns are cut every 3 layers (and on top) by a layer of
electronically conducting CBD that is dry (``clogging="cbd"``: no ions, no reaction), so that
no top faces react and no lithium diffuses along z through the whole slab (the DFN's particles
do not exchange lithium), run with NMC and CBD conductivity 100 S/m (no solid-phase resistance
in either model, whatever the conductivity semantics) and 20 separator layers; and their period
halved (2.5 um: 0.5 um voxels), which halves the separator-to-channel constriction that a 1D
model cannot have.

Sphere array (``--spheres``)
----------------------------
The issue's second case: one column of a simple-cubic array of voxelised NMC spheres (``SPHERES``:
radius 5 voxels of 1 um on a 10 um period, so neighbours touch through necks of 12 voxel faces;
10 x 10 voxels across, 4 periods = 40 um thick; pore the rest, legend {0: "pore", 2: "am"}).  The
closed lateral faces are mirror planes through the contacts, so the column stands for the
periodic array; the bottom spheres touch the current collector (16 % of its area).  The 1D
fields of the BPX file come from the labels through the project's own tools
(:func:`measure_spheres`): porosity and eps_s (voxel counts), ``transport_efficiency`` =
porosity / tau = ``D_eff`` of :func:`electrovox.solvers.transport.diffusion.tortuosity` (pore,
along z), and ``particle_radius_m`` R = 3 eps_s / a with a the NMC area per electrode volume from
:func:`electrovox.filters.quantify.surfaces.surface_area` (Crofton; the box faces, mirror planes,
left out).  R (6.1 um) exceeds the geometric 5 um: the necks remove area, so the DFN gets the
reacting area right and its diffusion length a little long.  ElectroVox keeps its default
``area_factor`` (measured true / counted area, 0.61 here), so its reacting area is the same a.
Solid diffusion is the default 4e-15 m^2/s in both (spheres in both).  Rows: C/2 (the target:
capacity within 2 %), 1C, PyBaMM with sigma_eff = the solid's measured transport efficiency x
sigma (``conductivity_S_m``), PyBaMM with the geometric radius (its area then 3 eps_s / r), and
D_s 1e-10 in both (solid diffusion out of play), and the same spheres on 2/3 um voxels (r 7.5 on a
period of 15 voxels, 13,500 voxels; smaller necks, everything re-measured).  Writes ``results_spheres.json`` and
``benchmarks/figures/echem_pybamm_spheres.png``.

PyBaMM settings: 20 separator, 60 electrode and 30 particle finite volumes; IDAKLU, rtol = atol =
1e-8; current c_rate x the file's nominal capacity; the 3.5 V cut-off as the stopping event.
ElectroVox: ``area_factor`` 1 (planar voxel faces: the counted area is the true area),
``clogging`` none (lamellae), no CEI, 200 output rows over the nominal duration.

How to run
----------
``.venv/bin/python benchmarks/echem_pybamm.py`` (about a minute on 2 cores).  PyBaMM runs in its
own environment in a subprocess (never imported here): ``--pybamm-python``, else
``$EVX_PYBAMM_PYTHON``, else ``/tmp/pybamm-venv/bin/python``; data go through JSON and ``.npz``
files.  Writes ``results.json``, the BPX files and every curve under ``--out`` (default
``$TMPDIR/evx-bench/echem_pybamm``: ``benchmarks/out`` is not git-ignored), the figure
``benchmarks/figures/echem_pybamm_lamellae.png``, and prints the table (``--markdown``: as the
RESULTS.md section).  ``--spheres``: the sphere array instead (about 7 minutes on 2 shared cores, 5 of them the
2/3 um run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = Path(tempfile.gettempdir()) / "evx-bench" / "echem_pybamm"
FIGURE = HERE / "figures" / "echem_pybamm_lamellae.png"
FIGURE_SPHERES = HERE / "figures" / "echem_pybamm_spheres.png"
PYBAMM_PYTHON = os.environ.get("EVX_PYBAMM_PYTHON", "/tmp/pybamm-venv/bin/python")

#: the lamellae: layers along z, NMC columns and period along x (voxels), voxel size (um);
#: ``segment`` k: the NMC columns cut by a dry CBD layer after every k NMC layers (None: not cut)
LAMELLAE = {"nz": 40, "m": 3, "nx": 5, "h_um": 1.0, "segment": None}
#: solid diffusivity in the file for both models (solid diffusion out of play), m^2/s
D_SOLID = 1e-10
#: changes to the default parameter set, in the file for both models (see the module docstring)
MATCHED = {"electrolyte.model": "Nyman2008", "counter.concentration_exponent": 0.0}
#: no solid-phase resistance in either model (the segmented diagnostics)
STIFF = {"positive.conductivity_S_m": 100.0, "cbd.conductivity_S_m": 100.0}
#: the end of the curve left out of the voltage comparison (share of the smaller capacity)
TAIL = 0.02
OUTPUT_ROWS = 200
VAR_PTS = {"x_s": 20, "x_p": 60, "r_p": 30}
#: the sphere array (``--spheres``): lateral period p and sphere radius r (voxels), periods along z, voxel (um)
SPHERES = {"p": 10, "r": 5.0, "cells": 4, "h_um": 1.0}

# ------------------------------------------------------------------------------------------------
# the PyBaMM side: run in PyBaMM's own interpreter (sys.argv: jobs.json, results.json)
# ------------------------------------------------------------------------------------------------
WORKER = textwrap.dedent('''
    import json, sys, time, warnings
    import numpy as np
    import pybamm
    jobs = json.load(open(sys.argv[1]))
    out = []
    for job in jobs:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pv = pybamm.ParameterValues.create_from_bpx(job["bpx"])
        ud = json.load(open(job["bpx"]))["Parameterisation"]["User-defined"]
        cmax = pv["Maximum concentration in positive electrode [mol.m-3]"]
        sto_min = pv["Positive electrode minimum stoichiometry"]
        c_read = float(pv["Initial concentration in positive electrode [mol.m-3]"])
        if job.get("initial") != "as read":
            pv.update({"Initial concentration in positive electrode [mol.m-3]": sto_min * cmax})
        if job.get("electrode_bruggeman") is not None:
            pv.update({"Positive electrode Bruggeman coefficient (electrode)": job["electrode_bruggeman"]})
        if job.get("conductivity_S_m") is not None:
            pv.update({"Positive electrode conductivity [S.m-1]": job["conductivity_S_m"]})
        if job.get("area_scale") is not None:
            # more reacting area at the same eps_s and capacity: a = 3 eps_s / R with a smaller R
            pv.update({"Positive particle radius [m]": pv["Positive particle radius [m]"] / job["area_scale"]})
        current = job["c_rate"] * pv["Nominal cell capacity [A.h]"]
        pv.update({"Current function [A]": current})
        model = pybamm.lithium_ion.DFN({"working electrode": "positive"})
        var_pts = dict(model.default_var_pts)
        var_pts.update(job["var_pts"])
        solver = pybamm.IDAKLUSolver(rtol=job["tol"], atol=job["tol"])
        sim = pybamm.Simulation(model, parameter_values=pv, var_pts=var_pts, solver=solver)
        t_end = 1.5 * 3600.0 / job["c_rate"]
        t0s = time.perf_counter()
        try:
            sol = sim.solve([0.0, t_end], t_interp=np.linspace(0.0, t_end, 6001))
        except Exception as e:          # one failed job must not lose the others
            out.append({"name": job["name"], "error": f"{type(e).__name__}: {e}"[:500]})
            continue
        t_solve = time.perf_counter() - t0s
        t = sol["Time [s]"].entries
        V = sol["Voltage [V]"].entries
        Q = sol["Discharge capacity [A.h]"].entries
        ce = sol["Electrolyte concentration [mol.m-3]"].entries
        area = pv["Electrode area [m2]"]
        eps_s = pv["Positive electrode active material volume fraction"]
        L = pv["Positive electrode thickness [m]"]
        mass_g = ud["Positive electrode active material density [kg.m-3]"] * eps_s * L * area * 1e3
        np.savez(job["out"], time_s=t, voltage_V=V, capacity_mAh_g=Q * 1e3 / mass_g,
                 ce_min=ce.min(axis=0), ce_max=ce.max(axis=0))
        out.append({"name": job["name"], "capacity_mAh_g": float(Q[-1] * 1e3 / mass_g),
                    "final_voltage_V": float(V[-1]), "termination": str(sol.termination),
                    "wall_s": time.perf_counter() - t0, "solve_s": t_solve,
                    "current_density_A_m2": current / area, "nmc_g_per_m2": mass_g / area,
                    "initial_sto_used": float(pv["Initial concentration in positive electrode [mol.m-3]"] / cmax),
                    "initial_sto_as_read": c_read / cmax, "sto_min": float(sto_min), "eps_s": float(eps_s),
                    "bruggeman_electrolyte": float(pv["Positive electrode Bruggeman coefficient (electrolyte)"]),
                    "pybamm": pybamm.__version__})
    json.dump(out, open(sys.argv[2], "w"), indent=1)
''')


def run_pybamm(jobs: list, out: Path, python: str) -> dict:
    """Run the PyBaMM jobs in PyBaMM's interpreter; results (with curves) by job name."""
    src, jf, rf = out / "pybamm_worker.py", out / "pybamm_jobs.json", out / "pybamm_results.json"
    src.write_text(WORKER)
    jf.write_text(json.dumps(jobs, indent=1))
    proc = subprocess.run([python, str(src), str(jf), str(rf)], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"PyBaMM worker failed ({python}):\n{proc.stderr[-4000:]}")
    res = {r["name"]: r for r in json.loads(rf.read_text())}
    for job in jobs:
        if "error" in res[job["name"]]:
            raise SystemExit(f"PyBaMM job {job['name']!r} failed: {res[job['name']]['error']}")
        with np.load(job["out"]) as z:
            res[job["name"]]["curve"] = {k: z[k] for k in z.files}
    return res


# ------------------------------------------------------------------------------------------------
# the ElectroVox side
# ------------------------------------------------------------------------------------------------
def labels_of(geo: dict) -> np.ndarray:
    """The label volume [z, y, x]: NMC (2) in the first m columns, pore (0) in the rest; CBD (1) cuts."""
    lab = np.zeros((geo["nz"], 1, geo["nx"]), np.uint8)
    lab[:, :, :geo["m"]] = 2
    k = geo.get("segment")
    if k:
        lab[k::k + 1, :, :geo["m"]] = 1
    return lab


def parameters(geo: dict, changes: dict, c_rate: float):
    """The default set with the 1D-surrogate geometry of ``geo``, D_SOLID, the C-rate and ``changes``."""
    from electrovox.solvers.echem.parameters import default_parameters
    p0 = default_parameters()
    lab = labels_of(geo)
    h = geo["h_um"] * 1e-6
    eps_s, por = float(np.mean(lab == 2)), float(np.mean(lab == 0))
    L = geo["nz"] * h
    vals = {"positive.thickness_m": L, "positive.porosity": por, "positive.active_fraction": eps_s,
            "positive.transport_efficiency": por, "positive.particle_radius_m": 3 * geo["m"] * h,
            "positive.diffusivity_m2_s": D_SOLID, "cell.c_rate": c_rate,
            "cell.mass_loading_kg_m2": p0.positive.density_kg_m3 * eps_s * L / p0.cell.active_mass_fraction}
    vals.update(changes)
    return p0.with_values(vals).check()


def run_evx(geo: dict, P, labels=None, area_factor=1.0, **config) -> dict:
    """One ElectroVox discharge of ``geo`` (or of ``labels``, voxel geo["h_um"]) with the parameter set ``P``.

    ``area_factor`` 1 (the lamellae's planar faces); None: measured from the labels (the default of
    :func:`discharge`).
    """
    from electrovox.solvers.echem.discharge import discharge
    lab = labels_of(geo) if labels is None else labels
    r = discharge(lab, {0: "pore", 1: "cbd", 2: "am"}, geo["h_um"], params=P, area_factor=area_factor,
                  output_rows=config.pop("output_rows", OUTPUT_ROWS), frames=1,
                  clogging="cbd" if geo.get("segment") else "none", **config)
    h = r["history"]
    return {"capacity_mAh_g": r["capacity_mAh_g"], "cutoff_reached": r["cutoff_reached"], "steps": r["steps"],
            "wall_s": r["wall_s"], "reason": r["reason"], "voxels": r["voxels"],
            "area_factor": r["area_factor"],
            "current_density_A_m2": r["current_A"] / (lab.shape[1] * lab.shape[2] * geo["h_um"] ** 2 * 1e-12),
            "curve": {"time_s": np.asarray(h["time_s"], float), "voltage_V": np.asarray(h["voltage_V"], float),
                      "capacity_mAh_g": np.asarray(h["capacity_mAh_g"], float),
                      "ce_min": np.asarray(h["ce_min_mol_m3"], float),
                      "ce_max": np.asarray(h["ce_max_mol_m3"], float)}}


def comparison_table(table_rows, evx: dict, pyb: dict) -> tuple[list, str]:
    """Rows comparing the ElectroVox and PyBaMM runs named in ``table_rows``, and their Markdown table.

    ``table_rows``: (label, ElectroVox run, PyBaMM run, is-a-target row) tuples; ``evx`` and
    ``pyb``: run name -> result dict.  Target rows are printed in bold.
    """
    rows = []
    for label, e_name, p_name, target in table_rows:
        e, p = evx[e_name], pyb[p_name]
        rows.append({"case": label, "evx_run": e_name, "pybamm_run": p_name, "target": target,
                     "evx": e["capacity_mAh_g"], "pybamm": p["capacity_mAh_g"], **compare(e, p),
                     "evx_wall_s": e["wall_s"], "evx_steps": e["steps"], "evx_voxels": e["voxels"],
                     "pybamm_wall_s": p["wall_s"], "pybamm_solve_s": p["solve_s"],
                     "i_evx_A_m2": e["current_density_A_m2"], "i_pybamm_A_m2": p["current_density_A_m2"]})
    lines = ["| case | ElectroVox mAh/g | PyBaMM mAh/g | capacity diff | max dV mV | RMS dV mV | mean dV mV "
             "| max dV at mAh/g | ElectroVox s (steps, voxels) | PyBaMM s (solve) |", "|" + "---|" * 10]
    for r in rows:
        name = f"**{r['case']}**" if r["target"] else r["case"]
        lines.append(f"| {name} | {r['evx']:.2f} | {r['pybamm']:.2f} | {100 * r['capacity_rel']:+.3f} % "
                     f"| {r['dv_max_mV']:.2f} | {r['dv_rms_mV']:.2f} | {r['dv_mean_mV']:+.2f} "
                     f"| {r['dv_at_max_mAh_g']:.1f} | {r['evx_wall_s']:.1f} ({r['evx_steps']}, {r['evx_voxels']}) "
                     f"| {r['pybamm_wall_s']:.1f} ({r['pybamm_solve_s']:.1f}) |")
    table = "\n".join(lines)
    return rows, table


def compare(evx: dict, ref: dict) -> dict:
    """Capacity and voltage differences of ``evx`` against ``ref`` at matched capacity."""
    ce, cr = evx["capacity_mAh_g"], ref["capacity_mAh_g"]
    qe, ve = evx["curve"]["capacity_mAh_g"], evx["curve"]["voltage_V"]
    qr, vr = ref["curve"]["capacity_mAh_g"], ref["curve"]["voltage_V"]
    keep = (qe > 0) & (qe <= (1 - TAIL) * min(ce, cr))
    dv = ve[keep] - np.interp(qe[keep], qr, vr)
    i = int(np.argmax(np.abs(dv)))
    return {"capacity_rel": (ce - cr) / cr, "dv_max_mV": float(np.abs(dv).max() * 1e3),
            "dv_rms_mV": float(np.sqrt(np.mean(dv ** 2)) * 1e3), "dv_mean_mV": float(dv.mean() * 1e3),
            "dv_at_max_mAh_g": float(qe[keep][i]), "points": int(keep.sum())}


def machine() -> str:
    """CPU model, cores, Python and numpy versions."""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}"


# ------------------------------------------------------------------------------------------------
def plan():
    """The runs and the table.

    Returns
    -------
    evx_runs : dict
        name -> (geometry, C-rate, parameter changes, discharge config).
    py_runs : dict
        name -> (the ElectroVox run whose BPX file it reads, worker options).
    rows : list
        (row label, ElectroVox run, PyBaMM run, target row).
    """
    lam = LAMELLAE
    fine = {**lam, "nz": 2 * lam["nz"], "m": 2 * lam["m"], "nx": 2 * lam["nx"], "h_um": lam["h_um"] / 2}
    seg = {**lam, "segment": 3}
    seg_half = {**seg, "nz": 2 * lam["nz"], "h_um": lam["h_um"] / 2}
    sep20 = {"separator_layers": 20}
    evx_runs = {
        "lamellae C/2": (lam, 0.5, MATCHED, {}),
        "lamellae 1C": (lam, 1.0, MATCHED, {}),
        "lamellae C/2, default electrolyte": (lam, 0.5, {}, {}),
        "lamellae C/2, D_s 1e-12": (lam, 0.5, {**MATCHED, "positive.diffusivity_m2_s": 1e-12}, {}),
        "lamellae C/2, voxels / 2": (fine, 0.5, MATCHED, {}),
        "lamellae C/2, steps / 4": (lam, 0.5, MATCHED, {"dsto_target": 0.005, "output_rows": 4 * OUTPUT_ROWS}),
        "lamellae C/2, separator 20 layers": (lam, 0.5, MATCHED, sep20),
        "segmented C/2": (seg, 0.5, {**MATCHED, **STIFF}, sep20),
        "segmented 1C": (seg, 1.0, {**MATCHED, **STIFF}, sep20),
        "segmented 1C, period 2.5 um": (seg_half, 1.0, {**MATCHED, **STIFF}, sep20),
    }
    # the slabs' top faces react with the bottom separator layer (weight: its porosity)
    top = lam["m"] * parameters(lam, MATCHED, 0.5).separator.porosity / lam["nz"]
    py_runs = {name: (name, {}) for name in ("lamellae C/2", "lamellae 1C", "lamellae C/2, default electrolyte",
                                             "lamellae C/2, D_s 1e-12", "segmented C/2", "segmented 1C",
                                             "segmented 1C, period 2.5 um")}
    for rate in ("C/2", "1C"):
        src = f"lamellae {rate}"
        py_runs[f"{src} | sigma"] = (src, {"electrode_bruggeman": 1.0})
        py_runs[f"{src} | area"] = (src, {"area_scale": 1 + top})
        py_runs[f"{src} | sigma + area"] = (src, {"electrode_bruggeman": 1.0, "area_scale": 1 + top})
    py_runs["lamellae C/2 | as read"] = ("lamellae C/2", {"initial": "as read"})
    py_runs["lamellae C/2 | fine"] = ("lamellae C/2", {"var_pts": {k: 2 * v for k, v in VAR_PTS.items()},
                                                      "tol": 1e-10})
    rows = [
        ("lamellae C/2", "lamellae C/2", "lamellae C/2", True),
        ("lamellae 1C", "lamellae 1C", "lamellae 1C", True),
        ("lamellae C/2; PyBaMM sigma_eff = eps_s sigma", "lamellae C/2", "lamellae C/2 | sigma", False),
        ("lamellae 1C; PyBaMM sigma_eff = eps_s sigma", "lamellae 1C", "lamellae 1C | sigma", False),
        (f"lamellae C/2; PyBaMM area x {1 + top:.4f} (top faces)", "lamellae C/2", "lamellae C/2 | area", False),
        (f"lamellae 1C; PyBaMM area x {1 + top:.4f} (top faces)", "lamellae 1C", "lamellae 1C | area", False),
        ("lamellae C/2; PyBaMM both", "lamellae C/2", "lamellae C/2 | sigma + area", False),
        ("lamellae 1C; PyBaMM both", "lamellae 1C", "lamellae 1C | sigma + area", False),
        ("segmented C/2 (sigma 100 S/m, separator 20 layers)", "segmented C/2", "segmented C/2", False),
        ("segmented 1C (sigma 100 S/m, separator 20 layers)", "segmented 1C", "segmented 1C", False),
        ("segmented 1C, period 2.5 um (0.5 um voxels)", "segmented 1C, period 2.5 um",
         "segmented 1C, period 2.5 um", False),
        ("lamellae C/2, default electrolyte (Landesfeind2019)", "lamellae C/2, default electrolyte",
         "lamellae C/2, default electrolyte", False),
        ("lamellae C/2, D_s 1e-12 (slab vs sphere diffusion)", "lamellae C/2, D_s 1e-12",
         "lamellae C/2, D_s 1e-12", False),
        ("lamellae C/2; PyBaMM initial state as read", "lamellae C/2", "lamellae C/2 | as read", False),
        ("lamellae C/2; PyBaMM mesh x 2, tol 1e-10", "lamellae C/2", "lamellae C/2 | fine", False),
        ("lamellae C/2; ElectroVox voxels / 2 (0.5 um)", "lamellae C/2, voxels / 2", "lamellae C/2", False),
        ("lamellae C/2; ElectroVox steps / 4", "lamellae C/2, steps / 4", "lamellae C/2", False),
        ("lamellae C/2; ElectroVox separator 20 layers", "lamellae C/2, separator 20 layers", "lamellae C/2",
         False),
    ]
    return evx_runs, py_runs, rows, top


def main(argv=None) -> int:
    """Run both models, compare, write the results and the figure; print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder of the results (default %(default)s)")
    ap.add_argument("--pybamm-python", default=PYBAMM_PYTHON, help="PyBaMM's interpreter (default %(default)s)")
    ap.add_argument("--no-figure", action="store_true", help="skip the figure")
    ap.add_argument("--markdown", action="store_true", help="print the table as the RESULTS.md section")
    ap.add_argument("--spheres", action="store_true",
                    help="run the sphere-array case instead of the lamellae (results_spheres.json, its figure)")
    args = ap.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.spheres:
        return main_spheres(args)
    from electrovox.solvers.echem.bpx import write_bpx

    def tag(name):
        return "".join(c if c.isalnum() else "_" for c in name)

    evx_runs, py_runs, table_rows, top = plan()
    evx, bpx_files = {}, {}
    for name, (geo, rate, changes, cfg) in evx_runs.items():
        P = parameters(geo, changes, rate)
        bpx_files[name] = str(write_bpx(out / f"{tag(name)}.bpx.json", P, force=True))
        print(f"ElectroVox: {name} ...", flush=True)
        evx[name] = run_evx(geo, P, **dict(cfg))
    jobs = []
    for name, (src, opts) in py_runs.items():
        job = {"name": name, "bpx": bpx_files[src], "c_rate": evx_runs[src][1], "var_pts": VAR_PTS, "tol": 1e-8,
               "out": str(out / f"pybamm_{tag(name)}.npz")}
        job.update(opts)
        jobs.append(job)
    print(f"PyBaMM: {len(jobs)} runs ...", flush=True)
    pyb = run_pybamm(jobs, out, args.pybamm_python)

    rows, table = comparison_table(table_rows, evx, pyb)
    targets = [r for r in rows if r["target"]]
    ok_v = all(r["dv_max_mV"] <= 2.0 for r in targets)
    ok_c = all(abs(r["capacity_rel"]) <= 0.005 for r in targets)
    verdict = (f"Targets (bold rows): voltage within 2 mV {'met' if ok_v else 'NOT met'} "
               f"(largest {max(r['dv_max_mV'] for r in targets):.2f} mV); capacity within 0.5 % "
               f"{'met' if ok_c else 'NOT met'} (largest {100 * max(abs(r['capacity_rel']) for r in targets):.3f} %).")
    p0 = pyb["lamellae C/2"]
    notes = {"top_face_area_share": top, "pybamm_initial_sto_as_read": p0["initial_sto_as_read"],
             "sto_min": p0["sto_min"], "pybamm_bruggeman_electrolyte": p0["bruggeman_electrolyte"],
             "pybamm_eps_s": p0["eps_s"], "pybamm_version": p0["pybamm"],
             "current_density_A_m2": {k: [evx[k]["current_density_A_m2"], pyb[k]["current_density_A_m2"]]
                                      for k in evx if k in pyb},
             "evx_end": {k: v["reason"] for k, v in evx.items()},
             "pybamm_end": {k: v["termination"] for k, v in pyb.items()}}
    print()
    print(table)
    print()
    print(verdict)
    print(f"PyBaMM's reader puts the initial stoichiometry at {p0['initial_sto_as_read']:.4f} "
          f"(the file's minimum stoichiometry: {p0['sto_min']:.4f}); current densities (ElectroVox, PyBaMM) A/m^2: "
          + ", ".join(f"{k}: {a:.4f}, {b:.4f}" for k, (a, b) in notes["current_density_A_m2"].items()
                      if k in ("lamellae C/2", "lamellae 1C")))

    def strip(d):
        return {k: v for k, v in d.items() if k != "curve"}
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
              "geometry": LAMELLAE, "d_solid_m2_s": D_SOLID, "matched_changes": MATCHED, "rows": rows,
              "notes": notes, "evx": {k: strip(v) for k, v in evx.items()},
              "pybamm": {k: strip(v) for k, v in pyb.items()}, "targets": {"voltage": ok_v, "capacity": ok_c},
              "verdict": verdict, "table": table}
    (out / "results.json").write_text(json.dumps(result, indent=1, default=float))
    for k, v in evx.items():
        np.savez(out / f"evx_{tag(k)}.npz", **v["curve"])
    print(f"results: {out / 'results.json'}")
    if not args.no_figure:
        figure(evx, pyb)
        print(f"figure: {FIGURE}")
    if args.markdown:
        print()
        print(markdown(result))
    return 0


def figure(evx: dict, pyb: dict) -> None:
    """Both models' discharge curves (top) and their voltage difference at matched capacity (bottom)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7.5, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.6]})
    for name, col in (("lamellae C/2", "C0"), ("lamellae 1C", "C3")):
        e, p = evx[name]["curve"], pyb[name]["curve"]
        a1.plot(p["capacity_mAh_g"], p["voltage_V"], "-", color=col, lw=1.2, label=f"PyBaMM DFN, {name[9:]}")
        a1.plot(e["capacity_mAh_g"][::2], e["voltage_V"][::2], "o", color=col, ms=3, mfc="none",
                label=f"ElectroVox voxels, {name[9:]}")
    for name, col, ls in (("lamellae C/2", "C0", "-"), ("lamellae 1C", "C3", "-"), ("segmented C/2", "C0", "--"),
                          ("segmented 1C", "C3", "--"), ("segmented 1C, period 2.5 um", "C1", "--"),
                          ("lamellae C/2, default electrolyte", "C2", ":")):
        e, p = evx[name], pyb[name]
        q = e["curve"]["capacity_mAh_g"]
        keep = (q > 0) & (q <= (1 - TAIL) * min(e["capacity_mAh_g"], p["capacity_mAh_g"]))
        dv = 1e3 * (e["curve"]["voltage_V"][keep] - np.interp(q[keep], p["curve"]["capacity_mAh_g"],
                                                               p["curve"]["voltage_V"]))
        a2.plot(q[keep], dv, ls, color=col, lw=1.3, label=name)
    a1.set_ylabel("voltage vs Li/Li+ (V)")
    a1.set_ylim(3.45, 4.45)
    a1.legend(fontsize=8, loc="lower left")
    lam = LAMELLAE
    a1.set_title(f"NMC811 lamellae ({lam['m']} um NMC | {lam['nx'] - lam['m']} um pore, {lam['nz']} um thick) "
                 "against PyBaMM's DFN, one BPX file", fontsize=9)
    a2.axhspan(-2, 2, color="0.92")
    a2.axhline(0, color="k", lw=0.5)
    a2.set_ylim(-3.5, 3.0)
    a2.set_ylabel("ElectroVox - PyBaMM (mV)")
    a2.set_xlabel("capacity (mAh/g NMC811)")
    a2.legend(fontsize=6.5, ncol=3, loc="upper center")
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=130)
    plt.close(fig)


def markdown(res: dict) -> str:
    """The figures as a RESULTS.md section (the discussion is written by hand)."""
    return "\n".join(["## Discharge: homogenised limit against PyBaMM (lamellae)", "",
                      f"Run {res['date']} on {res['machine']}.",
                      "Command: `.venv/bin/python benchmarks/echem_pybamm.py`", "", res["table"], "",
                      res["verdict"], "", "![discharge curves](figures/echem_pybamm_lamellae.png)"])


# ------------------------------------------------------------------------------------------------
# the second homogenised-limit case: a simple-cubic array of voxelised NMC spheres (--spheres)
# ------------------------------------------------------------------------------------------------
def sphere_labels(geo: dict) -> np.ndarray:
    """One column of a simple-cubic sphere array, labels ``[z, y, x]``: NMC (2) spheres, pore (0) the rest.

    A cell of ``p`` x ``p`` voxels laterally, ``cells`` periods along z; the sphere centres at
    ((k + 1/2) p, p/2, p/2) (voxel centres at half-integers), a voxel NMC where its centre lies
    within ``r`` voxels of a centre.  The closed lateral faces are mirror planes through the
    contacts with the neighbouring columns; z = 0 (the current collector) and the top face are
    mirror planes through the contacts along z.
    """
    p, r, n = geo["p"], geo["r"], geo["cells"]
    z, y, x = np.meshgrid(np.arange(n * p) + 0.5, np.arange(p) + 0.5, np.arange(p) + 0.5, indexing="ij")
    zc = (np.floor(z / p) + 0.5) * p
    lab = np.zeros(z.shape, np.uint8)
    for shift in (-p, 0, p):
        lab[(x - p / 2) ** 2 + (y - p / 2) ** 2 + (z - zc - shift) ** 2 <= r * r] = 2
    return lab


def measure_spheres(geo: dict) -> dict:
    """Porosity, eps_s, NMC area and pore (and NMC) transport efficiency from the labels, the project's tools."""
    from electrovox.filters.quantify.surfaces import surface_area
    from electrovox.solvers.transport.diffusion import tortuosity
    lab = sphere_labels(geo)
    h = geo["h_um"]
    legend = {0: "pore", 2: "am"}
    area_um2 = surface_area(lab == 2, h)                      # Crofton, the box faces (mirror planes) left out
    a_per_m = area_um2 / (lab.size * h ** 3) * 1e6            # reacting area per electrode volume, 1/m
    pore = tortuosity(lab, legend, h, axis="z", phases=("pore",))
    solid = tortuosity(lab, legend, h, axis="z", phases=("am",))
    eps_s = float(np.mean(lab == 2))
    return {"shape": list(lab.shape), "porosity": float(np.mean(lab == 0)), "active_fraction": eps_s,
            "area_um2": float(area_um2), "area_per_volume_1_m": float(a_per_m),
            "particle_radius_m": 3 * eps_s / a_per_m,         # 3 eps_s / R = a
            "geometric_radius_m": geo["r"] * h * 1e-6,
            "transport_efficiency": float(pore["D_eff"]), "tau": float(pore["tau"]),
            "solid_transport_efficiency": float(solid["D_eff"]), "solid_tau": float(solid["tau"]),
            "nmc_contact_at_collector": float(np.mean(lab[0] == 2))}


def sphere_parameters(geo: dict, meas: dict, changes: dict, c_rate: float):
    """The default set with the measured 1D-surrogate geometry, the C-rate and ``changes`` (D_s: the default)."""
    from electrovox.solvers.echem.parameters import default_parameters
    p0 = default_parameters()
    L = geo["cells"] * geo["p"] * geo["h_um"] * 1e-6
    eps_s = meas["active_fraction"]
    vals = {"positive.thickness_m": L, "positive.porosity": meas["porosity"], "positive.active_fraction": eps_s,
            "positive.transport_efficiency": meas["transport_efficiency"],
            "positive.particle_radius_m": meas["particle_radius_m"], "cell.c_rate": c_rate,
            "cell.mass_loading_kg_m2": p0.positive.density_kg_m3 * eps_s * L / p0.cell.active_mass_fraction}
    vals.update(changes)
    return p0.with_values(vals).check()


def main_spheres(args) -> int:
    """The sphere array: measure, run both models, compare, write results and figure, print the table."""
    from electrovox.solvers.echem.bpx import write_bpx
    out = args.out
    geo = SPHERES
    # the same spheres on 2/3 um voxels (r 7.5 on a period of 15 voxels): the discretisation of both
    fine = {**geo, "p": 3 * geo["p"] // 2, "r": 1.5 * geo["r"], "h_um": geo["h_um"] * 2 / 3}
    meas = measure_spheres(geo)
    meas_fine = measure_spheres(fine)
    for m in (meas, meas_fine):
        print("measured: " + ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}"
                                       for k, v in m.items()), flush=True)
    evx_runs = {"spheres C/2": (geo, 0.5, MATCHED), "spheres 1C": (geo, 1.0, MATCHED),
                "spheres C/2, D_s 1e-10": (geo, 0.5, {**MATCHED, "positive.diffusivity_m2_s": D_SOLID}),
                "spheres C/2, voxels 2/3 um": (fine, 0.5, MATCHED)}
    sigma_eff = None
    evx, bpx_files = {}, {}
    for name, (g, rate, changes) in evx_runs.items():
        m = meas if g is geo else meas_fine
        P = sphere_parameters(g, m, changes, rate)
        if g is geo:
            sigma_eff = P.positive.conductivity_S_m * m["solid_transport_efficiency"]
        bpx_files[name] = str(write_bpx(out / f"{''.join(c if c.isalnum() else '_' for c in name)}.bpx.json", P,
                                        force=True))
        print(f"ElectroVox: {name} ...", flush=True)
        evx[name] = run_evx(g, P, labels=sphere_labels(g), area_factor=None)
    py_runs = {name: (name, {}) for name in evx_runs}
    py_runs["spheres C/2 | sigma"] = ("spheres C/2", {"conductivity_S_m": sigma_eff})
    py_runs["spheres C/2 | geometric R"] = ("spheres C/2", {"area_scale": meas["particle_radius_m"]
                                                           / meas["geometric_radius_m"]})
    jobs = []
    for name, (src, opts) in py_runs.items():
        jobs.append({"name": name, "bpx": bpx_files[src], "c_rate": evx_runs[src][1], "var_pts": VAR_PTS,
                     "tol": 1e-8, "out": str(out / f"pybamm_{''.join(c if c.isalnum() else '_' for c in name)}.npz"),
                     **opts})
    print(f"PyBaMM: {len(jobs)} runs ...", flush=True)
    pyb = run_pybamm(jobs, out, args.pybamm_python)
    table_rows = [
        ("spheres C/2", "spheres C/2", "spheres C/2", True),
        ("spheres 1C", "spheres 1C", "spheres 1C", False),
        (f"spheres C/2; PyBaMM sigma_eff = TE_solid sigma ({sigma_eff:.3f} S/m)", "spheres C/2",
         "spheres C/2 | sigma", False),
        (f"spheres C/2; PyBaMM R = geometric radius {geo['r'] * geo['h_um']:g} um", "spheres C/2",
         "spheres C/2 | geometric R", False),
        ("spheres C/2, D_s 1e-10 (solid diffusion out of play)", "spheres C/2, D_s 1e-10",
         "spheres C/2, D_s 1e-10", False),
        ("spheres C/2, voxels 2/3 um (both re-measured)", "spheres C/2, voxels 2/3 um",
         "spheres C/2, voxels 2/3 um", False),
    ]
    rows, table = comparison_table(table_rows, evx, pyb)
    head = rows[0]
    ok = abs(head["capacity_rel"]) <= 0.02
    verdict = (f"Target (bold row): capacity within 2 % {'met' if ok else 'NOT met'} "
               f"({100 * head['capacity_rel']:+.3f} %); voltage (informative): max {head['dv_max_mV']:.2f} mV, "
               f"RMS {head['dv_rms_mV']:.2f} mV.")
    print()
    print(table)
    print()
    print(verdict)
    print("area factor (ElectroVox, measured): " + ", ".join(f"{k}: {v['area_factor']:.4f}" for k, v in evx.items()))
    print("current densities (ElectroVox, PyBaMM) A/m^2: " + ", ".join(
        f"{k}: {evx[k]['current_density_A_m2']:.4f}, {pyb[k]['current_density_A_m2']:.4f}" for k in evx))

    def strip(d):
        return {k: v for k, v in d.items() if k != "curve"}
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "geometry": geo,
              "measured": meas, "measured_fine": meas_fine, "matched_changes": MATCHED, "rows": rows,
              "sigma_eff_S_m": sigma_eff,
              "evx": {k: strip(v) for k, v in evx.items()}, "pybamm": {k: strip(v) for k, v in pyb.items()},
              "target": {"capacity": ok}, "verdict": verdict, "table": table}
    (out / "results_spheres.json").write_text(json.dumps(result, indent=1, default=float))
    for k, v in evx.items():
        np.savez(out / f"evx_{''.join(c if c.isalnum() else '_' for c in k)}.npz", **v["curve"])
    print(f"results: {out / 'results_spheres.json'}")
    if not args.no_figure:
        figure_spheres(evx, pyb, meas)
        print(f"figure: {FIGURE_SPHERES}")
    return 0


def figure_spheres(evx: dict, pyb: dict, meas: dict) -> None:
    """The sphere array's discharge curves (top) and voltage differences at matched capacity (bottom)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7.5, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.6]})
    for name, col in (("spheres C/2", "C0"), ("spheres 1C", "C3"), ("spheres C/2, D_s 1e-10", "C2")):
        e, p = evx[name]["curve"], pyb[name]["curve"]
        a1.plot(p["capacity_mAh_g"], p["voltage_V"], "-", color=col, lw=1.2, label=f"PyBaMM DFN, {name[8:]}")
        a1.plot(e["capacity_mAh_g"][::2], e["voltage_V"][::2], "o", color=col, ms=3, mfc="none",
                label=f"ElectroVox voxels, {name[8:]}")
    for name, pname, col, ls in (("spheres C/2", "spheres C/2", "C0", "-"), ("spheres 1C", "spheres 1C", "C3", "-"),
                                 ("spheres C/2, D_s 1e-10", "spheres C/2, D_s 1e-10", "C2", "-"),
                                 ("spheres C/2, voxels 2/3 um", "spheres C/2, voxels 2/3 um", "C1", "-."),
                                 ("spheres C/2", "spheres C/2 | sigma", "C0", "--"),
                                 ("spheres C/2", "spheres C/2 | geometric R", "C0", ":")):
        e, p = evx[name], pyb[pname]
        q = e["curve"]["capacity_mAh_g"]
        keep = (q > 0) & (q <= (1 - TAIL) * min(e["capacity_mAh_g"], p["capacity_mAh_g"]))
        dv = 1e3 * (e["curve"]["voltage_V"][keep] - np.interp(q[keep], p["curve"]["capacity_mAh_g"],
                                                               p["curve"]["voltage_V"]))
        a2.plot(q[keep], dv, ls, color=col, lw=1.3, label=pname.replace(" | ", "; PyBaMM "))
    a1.set_ylabel("voltage vs Li/Li+ (V)")
    a1.set_ylim(3.45, 4.45)
    a1.legend(fontsize=8, loc="lower left")
    g = SPHERES
    a1.set_title(f"NMC811 simple-cubic sphere array (r {g['r'] * g['h_um']:g} um, period {g['p'] * g['h_um']:g} um, "
                 f"{g['cells'] * g['p'] * g['h_um']:g} um thick; porosity {meas['porosity']:.3f}, "
                 f"TE {meas['transport_efficiency']:.3f}, R {meas['particle_radius_m'] * 1e6:.2f} um)\n"
                 "against PyBaMM's DFN, one BPX file", fontsize=8.5)
    a2.axhline(0, color="k", lw=0.5)
    a2.set_ylabel("ElectroVox - PyBaMM (mV)")
    a2.set_xlabel("capacity (mAh/g NMC811)")
    a2.legend(fontsize=6.5, ncol=2, loc="best")
    fig.tight_layout()
    FIGURE_SPHERES.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE_SPHERES, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
