"""`electrovox permeability`: absolute permeability and flow tortuosity by lattice Boltzmann (thin CLI layer).

The numbers come from :func:`electrovox.solvers.flow.permeability.permeability`.
"""

from __future__ import annotations

import json
import sys

from electrovox.cli.common import add_common, add_force, add_input_options, read_input
from electrovox.errors import BadInput
from electrovox.io.params import READ
from electrovox.progress import cli_bar
from electrovox.solvers.flow.params import PERMEABILITY

_CLI = PERMEABILITY.without("all_axes")


def cmd_permeability(args) -> dict:
    """`electrovox permeability`: k (m^2, darcy) and flow tortuosity of a label volume along one axis."""
    from electrovox.solvers.flow.permeability import permeability
    if args.out:
        from electrovox.io.atomic import check_writable
        check_writable(args.out, force=args.force)       # fail before a long run, not after it
        if not str(args.out).lower().endswith(".vti"):
            raise BadInput(args.out, "the fields are written as .vti", "give --out FIELDS.vti")
    kw = _CLI.from_cli(args)
    kw["fluid"] = tuple(kw["fluid"])
    vol = read_input(args, args.file, labels=True)
    with cli_bar(f"permeability along {kw['axis']}", quiet=args.quiet) as bar:
        r = permeability(vol.array, vol.legend, vol.spacing, run_dir=args.run_dir, progress=bar, **kw)
    if args.out:
        from electrovox.io.vti_xml import write_vti_xml
        sp = (r["voxel_um"],) * 3
        write_vti_xml(args.out, {"velocity": r["velocity"], "pressure": r["pressure"]}, sp, vol.origin,
                      field={"permeability": json.dumps({k: r[k] for k in ("permeability_m2", "flow_tortuosity",
                                                                          "axis", "converged", "steps")})})
    out = {"file": str(args.file), "axis": r["axis"], "permeability_m2": r["permeability_m2"],
           "permeability_darcy": r["permeability_darcy"], "flow_tortuosity": r["flow_tortuosity"],
           "porosity": r["porosity"], "percolating_fraction": r["percolating_fraction"], "steps": r["steps"],
           "converged": r["converged"], "reason": r["reason"], "mflups": r["mflups"], "voxel_um": r["voxel_um"],
           "history": r["history"], "out": str(args.out) if args.out else None, "run_dir": r.get("run_dir")}
    if not args.json:
        tau = "n/a" if r["flow_tortuosity"] is None else f"{r['flow_tortuosity']:.4f}"
        print(f"{args.file}: along {r['axis']}: k = {r['permeability_m2']:.4e} m^2 "
              f"({r['permeability_darcy'] * 1e3:.4g} mD), flow tortuosity {tau}, porosity {r['porosity']:.4f}, "
              f"{r['steps']} steps, {'converged' if r['converged'] else 'NOT converged'}"
              + (f", {r['mflups']:.1f} M fluid updates/s" if r["mflups"] else ""))
        if not r["converged"]:
            print(f"{args.file}: warning: {r['reason']}", file=sys.stderr)
    return out


def add_parsers(sub) -> None:
    """Add ``permeability`` to the top-level subparsers."""
    q = sub.add_parser("permeability", help="absolute permeability and flow tortuosity (lattice Boltzmann)",
                       description="Stokes flow through the pores (D3Q19 lattice Boltzmann, TRT, body force; the "
                                   "image mirrored along the flow to make it periodic): the permeability (Darcy, "
                                   "superficial velocity) in m^2 and darcy, and the flow tortuosity sum|V| / sum "
                                   "V_i of the velocity field. Anisotropic voxels are resampled to cubic ones first "
                                   "(--resample-um, the study's 0.1).")
    q.add_argument("file", metavar="LABELS")
    _CLI.add_to(q)
    q.add_argument("--out", metavar="FIELDS.vti", help="write the velocity (m/s, for a 1e5 Pa/m pressure gradient) "
                   "and the pressure on the solved grid")
    q.add_argument("--run-dir", metavar="DIR", help="run folder (history, checkpoints, fields.pvd), written as the "
                   "run goes; an unfinished one with the same parameters is resumed")
    add_force(q, "--out")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_permeability, paramsets=[PERMEABILITY, READ])
