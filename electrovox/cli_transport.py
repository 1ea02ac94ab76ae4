"""`electrovox tortuosity` and `electrovox flow-tortuosity` (thin CLI layer).

The numbers come from :mod:`electrovox.solvers.transport` (``diffusion.tortuosity`` and
``flow_tortuosity.flow_tortuosity``).
"""

from __future__ import annotations

import math

import numpy as np

from electrovox.errors import BadInput
from electrovox.progress import cli_bar


def _num(v):
    v = float(v)
    return None if math.isinf(v) or math.isnan(v) else v


def cmd_tortuosity(args) -> dict:
    from electrovox.cli import _read
    from electrovox.filters.transport import parse_conductivities
    from electrovox.solvers.transport.diffusion import tortuosity
    if args.fields:
        from electrovox.io.atomic import check_writable
        check_writable(args.fields, force=args.force)
    kw = {}
    if args.conductivities:
        kw["conductivities"] = parse_conductivities(args.conductivities)
    elif args.phases:
        kw["phases"] = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    else:
        raise BadInput("--phases", "no conducting phase given",
                       "give --phases pore[,crack,...] (ions) or --conductivities am=10,cbd=1 (electrons)")
    if args.cbd_factor is not None:
        kw["cbd_factor"] = args.cbd_factor
    vol = _read(args, args.file, labels=True)
    with cli_bar(f"tortuosity along {args.axis}", quiet=args.quiet) as bar:
        r = tortuosity(vol.array, vol.legend, vol.spacing, args.axis, flux_tol=args.flux_tol,
                       fields=bool(args.fields), progress=bar, **kw)
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


def _read_vtk_dataset(path):
    """Any VTK dataset file: XML (.vti .vtu .vtr .vts .vtp .pvti ...) or legacy .vtk."""
    from pathlib import Path
    p = Path(path)
    if not p.is_file():
        raise BadInput(path, "does not exist or is not a file", "give the path of a VTK file with a velocity field")
    if p.suffix.lower() == ".vtk":
        from vtkmodules.vtkIOLegacy import vtkDataSetReader
        reader = vtkDataSetReader()
    else:
        from vtkmodules.vtkIOXML import vtkXMLGenericDataObjectReader
        reader = vtkXMLGenericDataObjectReader()
    reader.SetFileName(str(p))
    reader.Update()
    data = reader.GetOutputDataObject(0)
    if data is None or not data.IsA("vtkDataSet") or data.GetNumberOfPoints() == 0:
        raise BadInput(path, "holds no VTK dataset (or an empty or multiblock one)",
                       "write the velocity as one .vti/.vtu/.vtr/.vts/.vtp or legacy .vtk dataset "
                       "(merge the blocks of an OpenFOAM case first)")
    return data


def cmd_flow_tortuosity(args) -> dict:
    from electrovox.filters.flow_tortuosity import FlowTortuosityFilter
    data = _read_vtk_dataset(args.file)
    f = FlowTortuosityFilter()
    f.SetArrayName(args.array or "")
    f.SetAxis(args.axis if args.axis else -1)
    f.SetInputDataObject(0, data)
    f.Update()
    if f.last_result is None:
        raise BadInput(args.file, f.last_error or "no flow tortuosity could be computed",
                       "check --array (a 3-component velocity array) and --axis")
    r = dict(f.last_result)
    out = {"file": str(args.file), **r}
    if not args.json:
        print(f"{args.file}: flow tortuosity {r['flow_tortuosity']:.4f} along {r['axis']} "
              f"(array {r.get('array')}, {r['n_points']} flowing points)")
    return out


def add_parsers(sub, add_common, add_input_options) -> None:
    q = sub.add_parser("tortuosity", help="tortuosity factor, effective diffusivity / conductivity, MacMullin number",
                       description="Steady-state diffusion / conduction through the chosen phases (finite volumes, "
                                   "harmonic face conductances, c = 1 and 0 on the two faces normal to --axis, no "
                                   "flux elsewhere; only the percolating part is solved). tau = porosity / D_eff.")
    q.add_argument("file", metavar="LABELS")
    q.add_argument("--phases", help="conducting phases, each with the bulk conductivity 1, e.g. pore or pore,crack")
    q.add_argument("--axis", choices=["x", "y", "z"], required=True, help="direction of the potential drop")
    q.add_argument("--cbd-factor", type=float,
                   help="relative effective conductivity of nanoporous CBD (adds cbd to the phases), e.g. 0.1")
    q.add_argument("--conductivities", metavar="PHASE=VALUE,...",
                   help="per-phase conductivities instead of --phases, e.g. am=10,cbd=1 (electronic network; "
                        "D_eff is then relative to the largest value)")
    q.add_argument("--flux-tol", type=float, default=1e-6,
                   help="accepted relative flux imbalance between the two faces (default 1e-6)")
    q.add_argument("--fields", metavar="OUT", help="write the potential and the flux density (.nc or .vti)")
    q.add_argument("--force", action="store_true", help="overwrite the --fields output")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_tortuosity)

    q = sub.add_parser("flow-tortuosity", help="flow tortuosity sum|V| / sum V_i of a velocity field",
                       description="Flow tortuosity of a velocity field (the study's definition: sum |V| / sum "
                                   "V_i over the flowing voxels, i = the mean-flow direction). VELOCITY_FILE: any "
                                   "VTK file (.vti, .vtu, .vtr, .vts, .vtp, legacy .vtk; point or cell data, cell "
                                   "data of meshes weighted by cell volume).")
    q.add_argument("file", metavar="VELOCITY_FILE")
    q.add_argument("--axis", choices=["x", "y", "z"], help="mean-flow direction (default: that of the mean velocity)")
    q.add_argument("--array", metavar="NAME", help="the velocity array (default: the first 3-component array)")
    add_common(q)
    q.set_defaults(func=cmd_flow_tortuosity)
