"""`electrovox discharge`: the 3D microstructure-resolved lithiation of a half cell (thin CLI layer).

The numbers come from :func:`electrovox.solvers.echem.discharge.discharge`; OUTDIR is its run
folder (resumed when unfinished), plus ``discharge.csv`` and ``profiles.csv``.
"""

from __future__ import annotations

import sys

from electrovox.cli.common import add_common, add_input_options, num, read_input, read_params, run_outdir
from electrovox.io.params import READ
from electrovox.progress import cli_bar
from electrovox.solvers.echem.params import DISCHARGE


def cmd_discharge(args) -> dict:
    """`electrovox discharge`: lithiate LABELS at a C-rate to the cut-off, the run in OUTDIR."""
    from electrovox.solvers.echem.discharge import discharge, write_tables
    kw = DISCHARGE.from_cli(args)
    params = read_params(args.params)
    outdir = run_outdir(args.outdir)
    vol = read_input(args, args.file, labels=True)
    with cli_bar("discharge", quiet=args.quiet) as bar:
        r = discharge(vol.array, vol.legend, vol.spacing, params=params, run_dir=outdir, progress=bar, **kw)
    write_tables(outdir, r)
    out = {"file": str(args.file), "outdir": str(outdir), "capacity_mAh_g": r["capacity_mAh_g"],
           "mean_overpotential_mV": num(r["mean_overpotential_mV"]), "cutoff_reached": r["cutoff_reached"],
           "steps": r["steps"], "wall_s": r["wall_s"], "newton_iterations": r["newton_iterations"],
           "linear_iterations": r["linear_iterations"], "step_limits": r["step_limits"], "current_A": r["current_A"],
           "active_mass_g": r["active_mass_g"], "area_factor": r["area_factor"], "voxels": r["voxels"],
           "voxel_um": r["voxel_um"], "c_rate": r["c_rate"], "cutoff_V": r["cutoff_V"], "cei": r["cei"],
           "cei_scale": r["cei_scale"], "clogging": r["clogging"], "reason": r["reason"],
           "final_voltage_V": float(r["history"]["voltage_V"][-1])}
    if not args.json:
        print(f"{args.file}: {out['capacity_mAh_g']:.2f} mAh/g at {out['final_voltage_V']:.4f} V "
              f"({'cut-off reached' if out['cutoff_reached'] else 'cut-off NOT reached: ' + r['reason']}), mean "
              f"overpotential {out['mean_overpotential_mV']:.1f} mV, {out['steps']} steps, {out['wall_s']:.1f} s; "
              f"run in {outdir}")
        if not out["cutoff_reached"]:
            print(f"{args.file}: warning: {r['reason']}", file=sys.stderr)
    return out


def add_parsers(sub) -> None:
    """Add ``discharge`` to the top-level subparsers."""
    q = sub.add_parser("discharge", help="3D microstructure-resolved discharge (lithiation) of a half cell",
                       description="Galvanostatic lithiation of the NMC811 electrode in LABELS against Li metal "
                                   "(Butler-Volmer on every active-material face, solid diffusion in 3D, "
                                   "concentrated-solution electrolyte in the pores and the CBD's micro-pores, a "
                                   "homogenised separator, an optional CEI film and clogging) from the fully "
                                   "delithiated state to the cut-off. OUTDIR is the run folder: discharge.csv, "
                                   "profiles.csv, fields.pvd (lithiation, electrolyte concentration, potentials, "
                                   "reaction current in 3D over time), params.json (BPX), run.json, history.csv, "
                                   "checkpoints; run again on an unfinished OUTDIR, it resumes.")
    q.add_argument("file", metavar="LABELS")
    q.add_argument("outdir", metavar="OUTDIR")
    DISCHARGE.add_to(q)
    q.add_argument("--params", metavar="FILE.json", help="the physical parameters as a BPX file (default: "
                   "`electrovox params show`); --c-rate, --cutoff-v, --cei and --cei-scale override it")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_discharge, paramsets=[DISCHARGE, READ])
