"""`electrovox impregnate`: electrolyte filling the pores over time, two-phase lattice Boltzmann (thin CLI layer).

The numbers come from :func:`electrovox.solvers.flow.impregnation.impregnate`; OUTDIR is its run
folder (resumed when unfinished), plus ``saturation.csv`` and ``air_clusters.csv``.
"""

from __future__ import annotations

import sys

from electrovox.cli.common import add_common, add_input_options, read_input, run_outdir
from electrovox.io.params import READ
from electrovox.progress import cli_bar
from electrovox.solvers.flow.params import IMPREGNATION

#: the CLI contract's keys, in order
CONTRACT = ("final_saturation", "time_to_97pct_s", "time_to_97pct_dimensionless", "washburn_estimate_s",
            "entrapped_air_fraction", "electrolyte_viscosity_Pa_s", "air_viscosity_Pa_s", "surface_tension_N_m",
            "contact_angles_deg", "steps", "converged", "wall_s")


def cmd_impregnate(args) -> dict:
    """`electrovox impregnate`: fill LABELS with electrolyte from the separator face, the run in OUTDIR."""
    from electrovox.solvers.flow.impregnation import impregnate, write_tables
    kw = IMPREGNATION.from_cli(args)
    kw["outlet"] = args.outlet
    outdir = run_outdir(args.outdir)
    vol = read_input(args, args.file, labels=True)
    with cli_bar("impregnate", quiet=args.quiet) as bar:
        r = impregnate(vol.array, vol.legend, vol.spacing, run_dir=outdir, progress=bar, **kw)
    write_tables(outdir, r)
    out = {"file": str(args.file), "outdir": str(outdir), **{k: r[k] for k in CONTRACT}}
    trapped = [c for c in r["clusters"] if c["trapped"]]
    out.update({"reason": r["reason"], "outlet": r["outlet"], "viscosity_ratio": r["viscosity_ratio"],
                "overpressure_Pa": r["overpressure_Pa"],
                "voxel_um": r["voxel_um"], "porosity": r["porosity"], "dt_s": r["dt_s"],
                "capillary_time_s": r["capillary_time_s"], "hydraulic_radius_um": r["hydraulic_radius_um"],
                "hydraulic_radius_voxels": r["hydraulic_radius_voxels"], "resolution_note": r["resolution_note"],
                "capillary_number": r["capillary_number"], "ohnesorge_number": r["ohnesorge_number"],
                "mflups": r["mflups"], "air_clusters": len(r["clusters"]), "trapped_clusters": len(trapped),
                "trapped_air_fraction": sum(c["voxels"] for c in trapped) / max(1, r["pore_voxels"]),
                "lattice": r["lattice"]})
    if not args.json:
        t97 = "never" if r["time_to_97pct_s"] is None else f"{r['time_to_97pct_s']:.3g} s"
        wb = "n/a" if r["washburn_estimate_s"] is None else f"{r['washburn_estimate_s']:.3g} s"
        print(f"{args.file}: saturation {r['final_saturation']:.4f} after {r['steps']} steps "
              f"({r['history']['time_s'][-1] if r['history']['time_s'] else 0:.3g} s), 97 % at {t97} (Darcy "
              f"estimate {wb}), air left {r['entrapped_air_fraction']:.4f} of the pores in {len(r['clusters'])} "
              f"pockets ({len(trapped)} trapped); {r['reason']}; run in {outdir}")
        if not r["converged"]:
            print(f"{args.file}: warning: {r['reason']}", file=sys.stderr)
    if r["resolution_note"]:
        print(f"{args.file}: warning: {r['resolution_note']}", file=sys.stderr)
    return out


def add_parsers(sub) -> None:
    """Add ``impregnate`` to the top-level subparsers."""
    q = sub.add_parser("impregnate", help="electrolyte impregnation of the pores over time (two-phase LBM)",
                       description="Electrolyte enters the pores of LABELS from the separator face (the top, z max) "
                                   "and displaces the air by capillarity, plus an --overpressure if given "
                                   "(colour-gradient lattice Boltzmann, a "
                                   "contact angle per solid phase). OUTDIR is the run folder: saturation.csv "
                                   "(time_s, time_dimensionless, saturation), air_clusters.csv, fields.pvd "
                                   "(electrolyte fraction and pressure in 3D over time), params.json, history.csv, "
                                   "checkpoints; run again on an unfinished OUTDIR, it resumes.")
    q.add_argument("file", metavar="LABELS")
    q.add_argument("outdir", metavar="OUTDIR")
    IMPREGNATION.add_to(q)
    g = q.add_mutually_exclusive_group()
    g.add_argument("--air-outlet", dest="outlet", action="store_const", const="open",
                   help="the air leaves through the collector face (default)")
    g.add_argument("--closed", dest="outlet", action="store_const", const="closed",
                   help="the collector face is closed (solid foil): air leaves only through the separator face")
    q.set_defaults(outlet="open")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_impregnate, paramsets=[IMPREGNATION, READ])
