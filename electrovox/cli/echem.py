"""`electrovox params show | export | check`: the discharge model's parameters and BPX files (thin CLI layer).

The values, units and sources come from :mod:`electrovox.solvers.echem.parameters`; the BPX
mapping from :mod:`electrovox.solvers.echem.bpx`.
"""

from __future__ import annotations

from electrovox.cli.common import add_common, add_force


def _fmt(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def cmd_show(args) -> dict:
    """`electrovox params show`: every parameter (name, value, unit, source), defaults or a BPX file's."""
    from electrovox.solvers.echem.bpx import read_bpx
    from electrovox.solvers.echem.parameters import default_parameters
    p = read_bpx(args.file) if args.file else default_parameters()
    rows = p.describe()
    if not args.json:
        width = [max(len(r[k] if k != "value" else _fmt(r[k])) for r in rows) for k in ("name", "value", "unit")]
        print(f"{'name':<{width[0]}}  {'value':>{width[1]}}  {'unit':<{width[2]}}  source")
        for r in rows:
            print(f"{r['name']:<{width[0]}}  {_fmt(r['value']):>{width[1]}}  {r['unit']:<{width[2]}}  {r['source']}")
    return {"file": str(args.file) if args.file else None, "parameters": rows}


def cmd_export(args) -> dict:
    """`electrovox params export`: the default parameter set as a BPX JSON file."""
    from electrovox.solvers.echem.bpx import BPX_VERSION, write_bpx
    from electrovox.solvers.echem.parameters import default_parameters
    p = default_parameters()
    write_bpx(args.output, p, force=args.force)
    if not args.json:
        print(f"wrote {args.output}: BPX {BPX_VERSION} (DFN; NMC811 | {p.electrolyte.model} | Li metal stand-in, "
              f"ElectroVox quantities under User-defined)")
    return {"output": str(args.output), "bpx_version": BPX_VERSION, "electrolyte": p.electrolyte.model,
            "ocp": p.positive.ocp_fit}


def cmd_check(args) -> dict:
    """`electrovox params check`: read a BPX file, validate every field (exit 2 naming the field on a bad one)."""
    from electrovox.solvers.echem.bpx import read_bpx
    p = read_bpx(args.file)
    n = sum(1 for _ in p.fields())
    if not args.json:
        print(f"{args.file}: valid: {n} parameters (NMC811 OCP {p.positive.ocp_fit}, electrolyte "
              f"{p.electrolyte.model}, CEI {p.cei.thickness_mode}, {p.cell.temperature_K:g} K, "
              f"{p.cell.lower_cutoff_V:g}-{p.cell.upper_cutoff_V:g} V)")
    return {"file": str(args.file), "valid": True, "parameters": n, "ocp": p.positive.ocp_fit,
            "electrolyte": p.electrolyte.model, "cei": p.cei.thickness_mode}


def add_parsers(sub) -> None:
    """Add ``params show | export | check`` to the top-level subparsers."""
    p = sub.add_parser("params", help="electrochemical parameters (units, sources) and BPX files",
                       description="The parameters of the 3D microstructure-resolved discharge model (NMC811 | "
                                   "LiPF6 in EC:EMC 3:7 | Li metal), each with its unit and source, and their "
                                   "BPX JSON form.")
    ps = p.add_subparsers(dest="params_command", metavar="ACTION")
    ps.required = True

    q = ps.add_parser("show", help="the parameter table: name, value, unit, source",
                      description="Print every parameter (name, value, unit, source) and a few derived values "
                                  "(electrolyte properties at the initial state, OCP at the window ends, nominal "
                                  "capacity): the defaults, or FILE.json's.")
    q.add_argument("file", metavar="FILE.json", nargs="?", help="a BPX file to show instead of the defaults")
    add_common(q)
    q.set_defaults(func=cmd_show, paramsets=[])

    q = ps.add_parser("export", help="write the parameters as BPX JSON",
                      description="Write the default parameter set as a BPX 1.1 JSON file (atomically): a DFN "
                                  "parameterisation that pybamm.ParameterValues.create_from_bpx reads, the Li "
                                  "metal as a stand-in negative electrode (BPX has no half cell), the CBD, CEI "
                                  "and capacity-basis quantities under User-defined.")
    q.add_argument("output", metavar="FILE.json")
    add_force(q, "FILE.json")
    add_common(q)
    q.set_defaults(func=cmd_export, paramsets=[])

    q = ps.add_parser("check", help="validate a BPX parameter file",
                      description="Read FILE.json and check every field: present, a number, physical (positive, "
                                  "stoichiometries in [0, 1], ...), the OCP and electrolyte expressions those of "
                                  "ElectroVox's fits, derived values consistent. Exit 2 with one line naming the file, "
                                  "the field and the fix on a bad file.")
    q.add_argument("file", metavar="FILE.json")
    add_common(q)
    q.set_defaults(func=cmd_check, paramsets=[])
