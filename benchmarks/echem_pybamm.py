"""Discharge: the homogenised limit of the 3D voxel model against PyBaMM's DFN, one BPX file for both.

What is compared
----------------
ElectroVox's microstructure-resolved discharge (:func:`electrovox.solvers.echem.discharge.discharge`)
on a label volume that has a 1D answer, against PyBaMM's Doyle-Fuller-Newman half cell
(``pybamm.lithium_ion.DFN({"working electrode": "positive"})``), both driven by one BPX file
written by :func:`electrovox.solvers.echem.bpx.write_bpx`.  Both lithiate the NMC811 from the
fully delithiated state (``Minimum stoichiometry``) at a C-rate to the 3.5 V cut-off.
Reported per case: the capacity of each (mAh/g of NMC811) and their relative difference, the
voltage difference at matched capacity (PyBaMM's dense curve interpolated linearly at
ElectroVox's output capacities; max and RMS over the curve, the last 2 % of the smaller capacity
left out), and the wall times.  Targets (the issue): voltage within 2 mV, capacity within 0.5 %.

The geometry (lamellae) and how it maps onto the DFN
----------------------------------------------------
Labels ``[z, y, x]`` of ``nz x 1 x nx`` cubic voxels of ``h`` um: in every layer the first ``m``
columns along x are active material, the other ``nx - m`` pore; so NMC slabs run the full
electrode thickness along z beside straight pore channels, z = 0 at the current collector and the
model's homogenised separator and Li foil above z = nz - 1.  The box's x faces are closed (no
flux, no reaction), so each NMC slab of thickness ``t = m h`` reacts through one face (the x = m h
face) and lithium diffuses across it in 1D: half of a symmetric slab of thickness 2t reacting on
both faces.  The 3D model takes everything geometric from the labels; the BPX file's 1D-surrogate
fields (PyBaMM reads only those) are set to match:

- ``positive.thickness_m`` = ``nz h`` (electrode thickness);
- ``positive.porosity`` = ``(nx - m) / nx``, ``positive.active_fraction`` = ``m / nx`` (volume
  fractions of the labels);
- ``positive.transport_efficiency`` = porosity (straight channels, tortuosity factor 1: PyBaMM's
  Bruggeman exponent ln(TE) / ln(eps) = 1);
- ``positive.particle_radius_m`` = ``3 t``: PyBaMM's particles are spheres (its ``particle shape``
  option knows only ``spherical`` and ``no particles``), with surface area per electrode volume
  3 eps_s / R; the slabs have eps_s / t (one reacting face of area ``nz h^2`` per ``nx nz h^3``).
  R = 3 t makes the reacting area, hence the kinetic overpotential, the same.  Solid diffusion
  cannot be matched by a sphere (at quasi-steady state the surface leads the mean by j t / 3D in
  a slab, j R / 5D in a sphere, 1.8 x more at R = 3t), so the comparison takes it out of play:
  ``positive.diffusivity_m2_s`` = 1e-12 in the file (both models), which puts the surface-to-mean
  difference below 1e-4 in stoichiometry at 1C;
- ``cell.mass_loading_kg_m2`` = NMC density x eps_s x thickness / ``cell.active_mass_fraction``,
  so BPX's ``Nominal cell capacity`` (PyBaMM's 1C) is the voxel model's 1C (280 mAh/g x the NMC
  mass of the voxels) per electrode area.

The separator (thickness, porosity, transport efficiency), the electrolyte, the Li-metal kinetics,
the OCP, the rate constant and the stoichiometry window come from the same file for both.

Cases
-----
``matched`` (the headline): the parameter set changed only where BPX cannot carry what
ElectroVox's model uses, so that both models solve the same equations:

- ``electrolyte.model`` = ``Nyman2008`` (constant t+, thermodynamic factor 1: BPX carries it
  exactly).  The default ``Landesfeind2019`` has t+(c) and a thermodynamic factor(c) that BPX has
  no field for: PyBaMM's reader takes the transference number at c_e0 and sets the
  thermodynamic factor to 1;
- ``counter.concentration_exponent`` = 0: ElectroVox scales the Li-foil exchange current by
  (c_e / c_e0)^0.3; PyBaMM's half cell reads the number ``Exchange-current density for lithium
  metal electrode`` as a constant.

``default electrolyte``: the same lamellae with the default electrolyte and Li exponent, to
size the effect of what BPX cannot carry (not a target case).

Two things PyBaMM's reader does differently from ElectroVox's reading of the same file, handled
here in the PyBaMM worker and reported:

- BPX ``Conductivity`` of the electrode is the *effective* matrix conductivity (PyBaMM sets the
  electrode Bruggeman coefficient to 0); ElectroVox writes the NMC phase value there and takes
  the effective value from the geometry (eps_s x sigma along the slabs).  The PyBaMM runs are
  done as read (sigma_eff = sigma) and, as a diagnostic row, with the electrode Bruggeman
  coefficient 1 (sigma_eff = eps_s sigma, the lamellae's value);
- the initial state: BPX ``State`` says initial SOC 1, which ElectroVox reads as
  ``Minimum stoichiometry``; PyBaMM 26.10's ``create_from_bpx`` passes it to
  ``set_initial_state`` with full-cell options (the Li stand-in as a negative electrode) and
  gets another stoichiometry.  The worker sets ``Initial concentration in positive electrode`` =
  minimum stoichiometry x c_max and reports the reader's value.

PyBaMM settings: 20 separator, 60 electrode and 30 particle finite volumes; IDAKLU solver, rtol
and atol 1e-8; the applied current c_rate x the file's nominal capacity; the 3.5 V cut-off as
the stopping event.  ElectroVox: ``area_factor`` 1 (planar faces: counted area is true area),
``clogging`` none, no CEI, 200 output rows; a refined-grid run (h / 2) and a short-step run
(``dsto_target`` and the output interval / 4) give its discretisation error.

How to run
----------
``.venv/bin/python benchmarks/echem_pybamm.py`` (about a minute).  PyBaMM runs in its own
environment, in a subprocess (never imported here): ``/tmp/pybamm-venv/bin/python`` or
``$EVX_PYBAMM_PYTHON`` or ``--pybamm-python``; data go through JSON and ``.npz`` files.  Writes
``results.json``, the BPX files and the curves under ``--out`` (default
``/tmp/evx-bench/echem_pybamm``: ``benchmarks/out`` is not git-ignored), the figure
``benchmarks/figures/echem_pybamm_lamellae.png``, and prints the table (``--markdown`` prints
the RESULTS.md section as well).
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
PYBAMM_PYTHON = os.environ.get("EVX_PYBAMM_PYTHON", "/tmp/pybamm-venv/bin/python")

#: the lamellae: layers along z, NMC columns, period along x (voxels), voxel size (um)
GEOMETRY = {"nz": 40, "m": 3, "nx": 5, "h_um": 1.0}
#: solid diffusivity written in the file for both models (solid diffusion out of play), m^2/s
D_SOLID = 1e-12
#: the matched case's changes to the default parameter set (see the module docstring)
MATCHED = {"electrolyte.model": "Nyman2008", "counter.concentration_exponent": 0.0}
#: the end of the curve left out of the voltage comparison (share of the smaller capacity)
TAIL = 0.02
OUTPUT_ROWS = 200

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
        bpx = json.load(open(job["bpx"]))
        ud = bpx["Parameterisation"]["User-defined"]
        cmax = pv["Maximum concentration in positive electrode [mol.m-3]"]
        sto_min = pv["Positive electrode minimum stoichiometry"]
        c_read = float(pv["Initial concentration in positive electrode [mol.m-3]"])
        if job.get("initial") != "as read":
            pv.update({"Initial concentration in positive electrode [mol.m-3]": sto_min * cmax})
        if job.get("electrode_bruggeman") is not None:
            pv.update({"Positive electrode Bruggeman coefficient (electrode)": job["electrode_bruggeman"]})
        nominal = pv["Nominal cell capacity [A.h]"]
        current = job["c_rate"] * nominal
        pv.update({"Current function [A]": current})
        model = pybamm.lithium_ion.DFN({"working electrode": "positive"})
        var_pts = dict(model.default_var_pts)
        var_pts.update(job["var_pts"])
        solver = pybamm.IDAKLUSolver(rtol=job["tol"], atol=job["tol"])
        sim = pybamm.Simulation(model, parameter_values=pv, var_pts=var_pts, solver=solver)
        t_end = 1.5 * 3600.0 / job["c_rate"]
        t0s = time.perf_counter()
        sol = sim.solve([0.0, t_end], t_interp=np.linspace(0.0, t_end, 6001))
        t_solve = time.perf_counter() - t0s
        t = sol["Time [s]"].entries
        V = sol["Voltage [V]"].entries
        Q = sol["Discharge capacity [A.h]"].entries
        ce = sol["Electrolyte concentration [mol.m-3]"].entries
        area = pv["Electrode area [m2]"]
        eps_s = pv["Positive electrode active material volume fraction"]
        L = pv["Positive electrode thickness [m]"]
        rho = ud["Positive electrode active material density [kg.m-3]"]
        mass_g = rho * eps_s * L * area * 1e3
        np.savez(job["out"], time_s=t, voltage_V=V, capacity_mAh_g=Q * 1e3 / mass_g,
                 ce_min=ce.min(axis=0), ce_max=ce.max(axis=0))
        out.append({"name": job["name"], "capacity_mAh_g": float(Q[-1] * 1e3 / mass_g),
                    "final_voltage_V": float(V[-1]), "termination": str(sol.termination),
                    "wall_s": time.perf_counter() - t0, "solve_s": t_solve,
                    "current_density_A_m2": current / area, "mass_g_per_m2": mass_g / area,
                    "initial_sto_used": float(pv["Initial concentration in positive electrode [mol.m-3]"] / cmax),
                    "initial_sto_as_read": c_read / cmax, "sto_min": float(sto_min),
                    "eps_s": float(eps_s), "bruggeman_electrolyte":
                    float(pv["Positive electrode Bruggeman coefficient (electrolyte)"]),
                    "pybamm": pybamm.__version__})
    json.dump(out, open(sys.argv[2], "w"), indent=1)
''')


def run_pybamm(jobs: list, out: Path, python: str) -> dict:
    """Run the PyBaMM jobs in PyBaMM's interpreter; results by job name."""
    src, jf, rf = out / "pybamm_worker.py", out / "pybamm_jobs.json", out / "pybamm_results.json"
    src.write_text(WORKER)
    jf.write_text(json.dumps(jobs, indent=1))
    proc = subprocess.run([python, str(src), str(jf), str(rf)], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"PyBaMM worker failed ({python}):\n{proc.stderr[-4000:]}")
    res = {r["name"]: r for r in json.loads(rf.read_text())}
    for job in jobs:
        with np.load(job["out"]) as z:
            res[job["name"]]["curve"] = {k: z[k] for k in z.files}
    return res


# ------------------------------------------------------------------------------------------------
# the ElectroVox side
# ------------------------------------------------------------------------------------------------
def lamellae(nz: int, m: int, nx: int) -> np.ndarray:
    """NMC slabs (label 2) of m columns beside nx - m pore columns (label 0), nz layers, [z, y, x]."""
    lab = np.zeros((nz, 1, nx), np.uint8)
    lab[:, :, :m] = 2
    return lab


def parameters(geo: dict, changes: dict, c_rate: float):
    """The default set with the lamellae's 1D-surrogate geometry, D_SOLID and ``changes``."""
    from electrovox.solvers.echem.parameters import default_parameters
    p0 = default_parameters()
    h = geo["h_um"] * 1e-6
    eps_s = geo["m"] / geo["nx"]
    por = 1.0 - eps_s
    L = geo["nz"] * h
    vals = {"positive.thickness_m": L, "positive.porosity": por, "positive.active_fraction": eps_s,
            "positive.transport_efficiency": por, "positive.particle_radius_m": 3 * geo["m"] * h,
            "positive.diffusivity_m2_s": D_SOLID, "cell.c_rate": c_rate,
            "cell.mass_loading_kg_m2": p0.positive.density_kg_m3 * eps_s * L / p0.cell.active_mass_fraction}
    vals.update(changes)
    return p0.with_values(vals).check()


def run_evx(geo: dict, P, **config) -> dict:
    """One ElectroVox discharge of the lamellae."""
    from electrovox.solvers.echem.discharge import discharge
    r = discharge(lamellae(geo["nz"], geo["m"], geo["nx"]), {0: "pore", 2: "am"}, geo["h_um"], params=P,
                  area_factor=1.0, output_rows=config.pop("output_rows", OUTPUT_ROWS), frames=1,
                  clogging="none", **config)
    h = r["history"]
    return {"capacity_mAh_g": r["capacity_mAh_g"], "cutoff_reached": r["cutoff_reached"], "steps": r["steps"],
            "wall_s": r["wall_s"], "reason": r["reason"], "voxels": r["voxels"],
            "current_density_A_m2": r["current_A"] / (geo["nx"] * geo["h_um"] ** 2 * 1e-12),
            "curve": {"time_s": np.asarray(h["time_s"], float), "voltage_V": np.asarray(h["voltage_V"], float),
                      "capacity_mAh_g": np.asarray(h["capacity_mAh_g"], float),
                      "ce_min": np.asarray(h["ce_min_mol_m3"], float),
                      "ce_max": np.asarray(h["ce_max_mol_m3"], float)}}


def compare(evx: dict, ref: dict) -> dict:
    """Capacity and voltage differences of ``evx`` against ``ref`` (either side's curve dicts)."""
    ce, cr = evx["capacity_mAh_g"], ref["capacity_mAh_g"]
    qe, ve = evx["curve"]["capacity_mAh_g"], evx["curve"]["voltage_V"]
    qr, vr = ref["curve"]["capacity_mAh_g"], ref["curve"]["voltage_V"]
    keep = (qe > 0) & (qe <= (1 - TAIL) * min(ce, cr))
    dv = ve[keep] - np.interp(qe[keep], qr, vr)
    i = int(np.argmax(np.abs(dv)))
    return {"capacity_rel": (ce - cr) / cr, "dv_max_mV": float(np.abs(dv).max() * 1e3),
            "dv_rms_mV": float(np.sqrt(np.mean(dv ** 2)) * 1e3), "dv_mean_mV": float(dv.mean() * 1e3),
            "dv_at_max_mAh_g": float(qe[keep][i]), "points": int(keep.sum())}


# ------------------------------------------------------------------------------------------------
def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder of the results (default %(default)s)")
    ap.add_argument("--pybamm-python", default=PYBAMM_PYTHON, help="PyBaMM's interpreter (default %(default)s)")
    ap.add_argument("--no-figure", action="store_true", help="skip the figure")
    ap.add_argument("--markdown", action="store_true", help="print the RESULTS.md section too")
    args = ap.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    from electrovox.solvers.echem.bpx import write_bpx

    geo = GEOMETRY
    fine = {"nz": 2 * geo["nz"], "m": 2 * geo["m"], "nx": 2 * geo["nx"], "h_um": geo["h_um"] / 2}
    # (name, c_rate, parameter changes, ElectroVox geometry, ElectroVox config, PyBaMM variants)
    cases = [
        ("matched C/2", 0.5, MATCHED, geo, {}),
        ("matched 1C", 1.0, MATCHED, geo, {}),
        ("default electrolyte C/2", 0.5, {}, geo, {}),
    ]
    checks = [   # ElectroVox discretisation checks of the matched C/2 case
        ("matched C/2, h/2", 0.5, MATCHED, fine, {}),
        ("matched C/2, steps/4", 0.5, MATCHED, geo, {"dsto_target": 0.005, "output_rows": 4 * OUTPUT_ROWS}),
    ]
    var_pts = {"x_s": 20, "x_p": 60, "r_p": 30}
    jobs, evx = [], {}
    for name, rate, changes, g, cfg in cases + checks:
        P = parameters(geo, changes, rate)
        tag = name.replace(" ", "_").replace("/", "-").replace(",", "")
        if (name, rate) in [(c[0], c[1]) for c in cases]:
            bpx = write_bpx(out / f"{tag}.bpx.json", P, force=True)
            base = {"bpx": str(bpx), "c_rate": rate, "var_pts": var_pts, "tol": 1e-8}
            jobs.append({**base, "name": name, "out": str(out / f"pybamm_{tag}.npz")})
            jobs.append({**base, "name": name + " | sigma_eff = eps_s sigma", "electrode_bruggeman": 1.0,
                         "out": str(out / f"pybamm_{tag}_sigma.npz")})
            if name == "matched C/2":
                jobs.append({**base, "name": name + " | initial state as read", "initial": "as read",
                             "out": str(out / f"pybamm_{tag}_asread.npz")})
                jobs.append({**base, "name": name + " | mesh x2", "var_pts": {k: 2 * v for k, v in var_pts.items()},
                             "tol": 1e-10, "out": str(out / f"pybamm_{tag}_fine.npz")})
        print(f"ElectroVox: {name} ...", flush=True)
        evx[name] = run_evx(g, P, **cfg)
    print("PyBaMM ...", flush=True)
    pyb = run_pybamm(jobs, out, args.pybamm_python)

    rows = []
    for name, rate, _, _, _ in cases:
        e, p = evx[name], pyb[name]
        rows.append({"case": name, "c_rate": rate, "evx": e["capacity_mAh_g"], "pybamm": p["capacity_mAh_g"],
                     **compare(e, p), "evx_wall_s": e["wall_s"], "pybamm_wall_s": p["wall_s"],
                     "pybamm_solve_s": p["solve_s"], "evx_steps": e["steps"],
                     "i_evx": e["current_density_A_m2"], "i_pybamm": p["current_density_A_m2"]})
        s = pyb[name + " | sigma_eff = eps_s sigma"]
        rows[-1]["sigma_variant"] = {"pybamm": s["capacity_mAh_g"], **compare(e, s)}
    diag = {}
    base = pyb["matched C/2"]
    for key in ("matched C/2 | initial state as read", "matched C/2 | mesh x2"):
        d = pyb[key]
        diag[key] = {"capacity_mAh_g": d["capacity_mAh_g"], "initial_sto": d["initial_sto_used"],
                     "vs_pybamm": compare(d, base)}
    for key, _, _, _, _ in checks:
        diag[key] = {"capacity_mAh_g": evx[key]["capacity_mAh_g"], "steps": evx[key]["steps"],
                     "wall_s": evx[key]["wall_s"], "vs_evx": compare(evx[key], evx["matched C/2"]),
                     "vs_pybamm": compare(evx[key], base)}

    # the table
    hdr = ("| case | ElectroVox mAh/g | PyBaMM mAh/g | capacity diff | max dV mV | RMS dV mV | mean dV mV "
           "| max dV at mAh/g | ElectroVox s (steps) | PyBaMM s (solve) |")
    lines = [hdr, "|" + "---|" * 10]
    for r in rows:
        lines.append(f"| {r['case']} | {r['evx']:.2f} | {r['pybamm']:.2f} | {100 * r['capacity_rel']:+.3f} % "
                     f"| {r['dv_max_mV']:.2f} | {r['dv_rms_mV']:.2f} | {r['dv_mean_mV']:+.2f} "
                     f"| {r['dv_at_max_mAh_g']:.1f} | {r['evx_wall_s']:.1f} ({r['evx_steps']}) "
                     f"| {r['pybamm_wall_s']:.1f} ({r['pybamm_solve_s']:.1f}) |")
    for r in rows:
        s = r["sigma_variant"]
        lines.append(f"| {r['case']}, PyBaMM sigma_eff = eps_s sigma | {r['evx']:.2f} | {s['pybamm']:.2f} "
                     f"| {100 * s['capacity_rel']:+.3f} % | {s['dv_max_mV']:.2f} | {s['dv_rms_mV']:.2f} "
                     f"| {s['dv_mean_mV']:+.2f} | {s['dv_at_max_mAh_g']:.1f} | | |")
    table = "\n".join(lines)
    print()
    print(table)
    print()
    for k, d in diag.items():
        print(f"{k}: {json.dumps(d)}")
    m = rows[0]
    ok_v = all(r["dv_max_mV"] <= 2.0 for r in rows if r["case"].startswith("matched"))
    ok_c = all(abs(r["capacity_rel"]) <= 0.005 for r in rows if r["case"].startswith("matched"))
    print(f"\ntargets (matched cases): voltage within 2 mV: {'met' if ok_v else 'NOT met'}; "
          f"capacity within 0.5 %: {'met' if ok_c else 'NOT met'}")

    def strip(d):
        return {k: v for k, v in d.items() if k != "curve"}
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
              "geometry": geo, "d_solid_m2_s": D_SOLID, "matched_changes": MATCHED, "rows": rows,
              "diagnostics": diag, "evx": {k: strip(v) for k, v in evx.items()},
              "pybamm": {k: strip(v) for k, v in pyb.items()}, "targets": {"voltage": ok_v, "capacity": ok_c},
              "table": table}
    (out / "results.json").write_text(json.dumps(result, indent=1, default=float))
    for k, v in evx.items():
        np.savez(out / f"evx_{k.replace(' ', '_').replace('/', '-').replace(',', '')}.npz", **v["curve"])
    print(f"results: {out / 'results.json'}")

    if not args.no_figure:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
        for (name, rate, *_), col in zip(cases, ("C0", "C3", "C2"), strict=True):
            e, p = evx[name]["curve"], pyb[name]["curve"]
            a1.plot(p["capacity_mAh_g"], p["voltage_V"], "-", color=col, lw=1.2, label=f"PyBaMM DFN, {name}")
            a1.plot(e["capacity_mAh_g"], e["voltage_V"], "o", color=col, ms=2.5, mfc="none",
                    label=f"ElectroVox voxels, {name}")
            keep = e["capacity_mAh_g"] <= (1 - TAIL) * min(evx[name]["capacity_mAh_g"], pyb[name]["capacity_mAh_g"])
            a2.plot(e["capacity_mAh_g"][keep], 1e3 * (e["voltage_V"][keep] - np.interp(
                e["capacity_mAh_g"][keep], p["capacity_mAh_g"], p["voltage_V"])), "-", color=col, label=name)
        a1.set_ylabel("voltage vs Li/Li+ (V)")
        a1.set_ylim(3.45, 4.45)
        a1.legend(fontsize=7, loc="lower left")
        a1.set_title(f"NMC811 lamellae {geo['m']}:{geo['nx'] - geo['m']} um, {geo['nz']} um thick: "
                     "ElectroVox vs PyBaMM DFN, one BPX file", fontsize=9)
        a2.axhspan(-2, 2, color="0.9")
        a2.set_ylabel("ElectroVox - PyBaMM (mV)")
        a2.set_xlabel("capacity (mAh/g NMC811)")
        a2.legend(fontsize=7)
        fig.tight_layout()
        FIGURE.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(FIGURE, dpi=130)
        print(f"figure: {FIGURE}")

    if args.markdown:
        print()
        print(markdown(result))
    return 0


def markdown(res: dict) -> str:
    """The RESULTS.md section (the figures; the discussion is added by hand)."""
    return "\n".join([
        "## Discharge: homogenised limit against PyBaMM (lamellae)", "",
        f"Run {res['date']} on {res['machine']}.",
        "Command: `.venv/bin/python benchmarks/echem_pybamm.py`", "", res["table"], "",
        "![discharge curves](figures/echem_pybamm_lamellae.png)"])


if __name__ == "__main__":
    sys.exit(main())
