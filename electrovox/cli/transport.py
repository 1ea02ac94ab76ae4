"""`electrovox tortuosity` and `electrovox flow-tortuosity` (thin CLI layer).

The numbers come from :mod:`electrovox.solvers.transport` (``diffusion.tortuosity`` and
``flow_tortuosity.flow_tortuosity``).
"""

from __future__ import annotations

import math

import numpy as np

from electrovox.cli.common import add_common, add_force, add_input_options, read_input
from electrovox.errors import BadInput
from electrovox.io.params import READ
from electrovox.phases import parse_conductivities
from electrovox.progress import cli_bar
from electrovox.solvers.transport.params import FLOW_TORTUOSITY, TORTUOSITY

_TORT_CLI = TORTUOSITY.without("all_axes")


def _num(v):
    v = float(v)
    return None if math.isinf(v) or math.isnan(v) else v


def cmd_tortuosity(args) -> dict:
    """`electrovox tortuosity`: tortuosity factor along one axis."""
    from electrovox.solvers.transport.diffusion import tortuosity
    if args.fields:
        from electrovox.io.atomic import check_writable
        check_writable(args.fields, force=args.force)
    p = _TORT_CLI.from_cli(args)
    kw = {"flux_tol": p["flux_tol"]}
    if p["conductivities"]:
        kw["conductivities"] = parse_conductivities(p["conductivities"], source="--conductivities")
    elif p["phases"]:
        kw["phases"] = p["phases"]
    else:
        raise BadInput("--phases", "no conducting phase given",
                       "give --phases pore[,crack,...] (ions) or --conductivities am=10,cbd=1 (electrons)")
    if p["cbd_factor"] is not None:
        kw["cbd_factor"] = p["cbd_factor"]
    vol = read_input(args, args.file, labels=True)
    with cli_bar(f"tortuosity along {args.axis}", quiet=args.quiet) as bar:
        r = tortuosity(vol.array, vol.legend, vol.spacing, args.axis, fields=bool(args.fields), progress=bar, **kw)
    if args.fields:
        from electrovox.io import write_volume
        from electrovox.volume import Volume
        pot = Volume(r.pop("potential"), vol.spacing, origin=vol.origin, name="potential")
        flux = r.pop("flux")
        extra = {f"flux_{c}": Volume(np.ascontiguousarray(flux[..., i]), vol.spacing, origin=vol.origin,
                                     name=f"flux_{c}") for i, c in enumerate("xyz")}
        pot.with_step("tortuosity", input=str(args.file), axis=args.axis, **{k: str(v) for k, v in kw.items()})
        write_volume(args.fields, pot, force=args.force, extra=extra)
    out = {"file": str(args.file), "axis": args.axis, "phases": r["phases"], "conductivities": r["conductivities"],
           "porosity": r["porosity"], "D_eff": r["D_eff"], "tau": _num(r["tau"]), "macmullin": _num(r["macmullin"]),
           "iterations": r["iterations"], "percolating_fraction": r["percolating_fraction"],
           "isolated_fraction": r["isolated_fraction"], "flux_imbalance": r["flux_imbalance"],
           "sigma_eff": r["sigma_eff"], "wall_s": r["wall_s"]}
    if not args.json:
        print(f"{args.file}: along {args.axis}, phases {','.join(r['phases'])}: porosity {r['porosity']:.4f}, "
              f"D_eff {r['D_eff']:.5f}, tau {r['tau']:.4f}, MacMullin {r['macmullin']:.3f} "
              f"({r['iterations']} iterations, flux imbalance {r['flux_imbalance']:.1e}, {r['wall_s']:.1f} s)")
        if r["isolated_fraction"] > 0:
            print(f"  not percolating (not solved): {100 * r['isolated_fraction']:.2f} % of the volume")
    return out


def cmd_flow_tortuosity(args) -> dict:
    """`electrovox flow-tortuosity`: sum |V| / sum V_i of a velocity field."""
    from electrovox.io.vtk_dataset import read_vtk_dataset, velocity_arrays
    from electrovox.solvers.transport.flow_tortuosity import flow_tortuosity
    kw = FLOW_TORTUOSITY.from_cli(args)
    data = read_vtk_dataset(args.file)
    v, weights, name, is_cell = velocity_arrays(data, kw["array_name"] or "")
    axis = None if kw["axis"] in (None, "auto") else kw["axis"]
    mask = None if weights is None else weights > 0
    try:
        r = flow_tortuosity(v, axis=axis, mask=mask, weights=weights)
    except BadInput as exc:  # name the array rather than the core's argument
        raise BadInput(f"{args.file}: velocity '{name}'", exc.problem, exc.fix) from None
    r.update(array=name, association="cells" if is_cell else "points")
    out = {"file": str(args.file), **r}
    if not args.json:
        print(f"{args.file}: flow tortuosity {r['flow_tortuosity']:.4f} along {r['axis']} "
              f"(array {r.get('array')}, {r['n_points']} flowing points)")
    return out


def add_parsers(sub) -> None:
    """Add ``tortuosity`` and ``flow-tortuosity`` to the top-level subparsers."""
    q = sub.add_parser("tortuosity", help="tortuosity factor, effective diffusivity / conductivity, MacMullin number",
                       description="Steady-state diffusion / conduction through the chosen phases (finite volumes, "
                                   "harmonic face conductances, c = 1 and 0 on the two faces normal to --axis, no "
                                   "flux elsewhere; only the percolating part is solved). tau = porosity / D_eff.")
    q.add_argument("file", metavar="LABELS")
    _TORT_CLI.add_to(q)
    q.add_argument("--fields", metavar="OUT", help="write the potential and the flux density (.nc or .vti)")
    add_force(q, "the --fields output")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_tortuosity, paramsets=[TORTUOSITY, READ])

    q = sub.add_parser("flow-tortuosity", help="flow tortuosity sum|V| / sum V_i of a velocity field",
                       description="Flow tortuosity of a velocity field (the study's definition: sum |V| / sum "
                                   "V_i over the flowing voxels, i = the mean-flow direction). VELOCITY_FILE: any "
                                   "VTK file (.vti, .vtu, .vtr, .vts, .vtp, legacy .vtk; point or cell data, cell "
                                   "data of meshes weighted by cell volume).")
    q.add_argument("file", metavar="VELOCITY_FILE")
    FLOW_TORTUOSITY.add_to(q)
    add_common(q)
    q.set_defaults(func=cmd_flow_tortuosity, paramsets=[FLOW_TORTUOSITY])
