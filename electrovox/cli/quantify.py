"""`electrovox quantify` and `electrovox compare`: metrics of label volumes (thin CLI layer).

The numbers come from :func:`electrovox.filters.quantify.report.quantify_all`; comparison from
:func:`electrovox.filters.quantify.compare.compare`.
"""

from __future__ import annotations

import math

import numpy as np

from electrovox.cli.common import add_common, add_input_options, read_input
from electrovox.errors import BadInput
from electrovox.filters.quantify.params import QUANTIFY, REV
from electrovox.io.params import READ
from electrovox.progress import cli_bar


def _num(v):
    """A JSON-safe number: NaN (no reference value) becomes None."""
    v = float(v)
    return None if math.isnan(v) else v


def _quantify_file(args, path) -> dict:
    from electrovox.filters.quantify.report import quantify_all
    vol = read_input(args, path, labels=True)
    labels, origin, roi = vol.array, None, None
    if getattr(args, "roi_um", None):
        # a box region of interest in um from the volume's first voxel face: the metrics of the
        # sub-volume; profile positions stay measured from the current collector (z = 0)
        x0, x1, y0, y1, z0, z1 = args.roi_um
        box = []
        for (a, b), d, n, name in zip(((z0, z1), (y0, y1), (x0, x1)), vol.spacing, vol.shape, "zyx", strict=True):
            i0, i1 = int(round(a / d)), int(round(b / d))
            if not 0 <= i0 < i1 <= n:
                raise BadInput("--roi-um", f"{name} range {a}..{b} um is outside the volume (0..{n * d:g} um) "
                               "or empty", "give X0 X1 Y0 Y1 Z0 Z1 in um inside the volume")
            box.append((i0, i1))
        labels = labels[box[0][0]:box[0][1], box[1][0]:box[1][1], box[2][0]:box[2][1]]
        origin = -box[0][0] * vol.spacing[0]
        roi = {"z_um": [z0, z1], "y_um": [y0, y1], "x_um": [x0, x1], "voxels": [list(b) for b in box]}
    with cli_bar(f"quantifying {path}", quiet=args.quiet) as bar:
        metrics = quantify_all(labels, vol.legend, vol.spacing, origin=origin, progress=bar,
                               **QUANTIFY.from_cli(args))
    out = {"file": str(path), **vol.summary(), **metrics}
    if roi:
        out["roi"] = roi
    return out


def _print_metrics(m: dict) -> None:
    def pct(v):
        return "n/a" if v is None else f"{100 * v:.2f} %"
    print(m["file"])
    print("  fractions: " + ", ".join(f"{k} {pct(v)}" for k, v in m["fractions"].items() if v))
    print(f"  crack fraction of particles: {pct(m['crack_fraction_of_particles'])}")
    print(f"  am-cbd contact / particle surface: {pct(m['contact_area_am_cbd_per_am_area'])}")
    print("  specific surface (1/um): " + ", ".join(f"{k} {v:.4f}" for k, v in m["specific_surface_um-1"].items()))
    print(f"  largest CBD aggregate: {pct(m['cbd_largest_aggregate_fraction'])} of the CBD "
          f"({m['cbd_aggregates']} aggregates, {m['connectivity']}-connected)")
    print(f"  electronically isolated am: {pct(m['isolated_am_fraction'])}; dead pores: "
          f"{pct(m['dead_pore_fraction'])}")


def cmd_quantify(args) -> dict:
    """`electrovox quantify`: every metric of a label volume."""
    out = _quantify_file(args, args.file)
    if not args.json:
        _print_metrics(out)
    return out


def cmd_compare(args) -> dict:
    """`electrovox compare`: metrics of several volumes and their change against the first."""
    from electrovox.filters.quantify.compare import compare
    results = [_quantify_file(args, p) for p in args.files]
    names = [str(p) for p in args.files]
    keep = ("fractions", "crack_fraction_of_particles", "contact_area_am_cbd_per_am_area",
            "specific_surface_um-1", "interface_areas_um2", "cbd_largest_aggregate_fraction",
            "cbd_percolating_fraction", "isolated_am_fraction", "dead_pore_fraction")
    table = compare([{k: r[k] for k in keep if k in r} for r in results], names)
    metrics = [str(m) for m in table["metric"]]
    relative = {names[0]: {m: 0.0 for m in metrics}}
    for name in names[1:]:
        relative[name] = {m: _num(v) for m, v in zip(metrics, table[f"{name}.rel_change"], strict=True)}
    out = {"inputs": results, "reference": names[0], "relative_change": relative,
           "table": {k: [_num(v) if not isinstance(v, str) else v for v in np.asarray(col).tolist()]
                     for k, col in table.items()}}
    if not args.json:
        for r in results:
            _print_metrics(r)
        print(f"relative change against {names[0]}:")
        for name, changes in out["relative_change"].items():
            if name == names[0]:
                continue
            print(f"  {name}:")
            for key in ("crack_fraction_of_particles", "contact_area_am_cbd_per_am_area", "fractions.am",
                        "fractions.cbd", "fractions.pore", "fractions.crack", "cbd_largest_aggregate_fraction"):
                if key in changes and changes[key] is not None:
                    print(f"    {key}: {100 * changes[key]:+.2f} %")
    return out


def cmd_rev(args) -> dict:
    """`electrovox rev`: metrics on growing or random sub-volumes."""
    from electrovox.filters.quantify.rev import representative_volume
    vol = read_input(args, args.file, labels=True)
    sizes = None
    if args.size_um:
        if len(args.size_um) % 3:
            raise BadInput("--size-um", "needs X Y Z triplets", "write e.g. --size-um 33 33 70 (X Y Z in um)")
        trip = [args.size_um[i:i + 3] for i in range(0, len(args.size_um), 3)]
        sizes = [(z, y, x) for x, y, z in trip]
    elif args.edge_um:
        sizes = list(args.edge_um)
    with cli_bar("representative volume", quiet=args.quiet) as bar:
        table = representative_volume(vol.array, vol.legend, vol.spacing, sizes_um=sizes, progress=bar,
                                      **REV.from_cli(args))
    out = {"file": str(args.file), "mode": args.mode,
           "table": {k: [_num(v) if not isinstance(v, str) else v for v in np.asarray(c).tolist()]
                     for k, c in table.items()}}
    if not args.json:
        keys = [k for k in table if k.endswith(".mean")]
        print(f"{args.file}: {args.mode} sub-volumes")
        for i in range(len(table["edge_um"])):
            size = f"{table['size_x_um'][i]:.1f} x {table['size_y_um'][i]:.1f} x {table['size_z_um'][i]:.1f} um"
            vals = ", ".join(f"{k[:-5]} {table[k][i]:.4f}+-{table[k[:-5] + '.std'][i]:.4f}" for k in keys)
            print(f"  {size} (n={int(table['samples'][i])}): {vals}")
    return out


def add_parsers(sub) -> None:
    """Add ``quantify``, ``compare`` and ``rev`` to the top-level subparsers."""
    q = sub.add_parser("quantify", help="volume fractions, profiles, interface areas, cracks, CBD connectivity",
                       description="All metrics of a label volume: phase fractions and profiles along the "
                                   "thickness, crack fraction of particles, interface areas and specific "
                                   "surfaces (accurate estimator), the study's particle-CBD contact, CBD "
                                   "aggregates, electronically isolated active material, dead pores.")
    q.add_argument("file", metavar="LABELS")
    QUANTIFY.add_to(q)
    q.add_argument("--roi-um", nargs=6, type=float, metavar=("X0", "X1", "Y0", "Y1", "Z0", "Z1"),
                   help="region of interest: a box in um from the volume's first voxel face")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_quantify, paramsets=[QUANTIFY, READ])

    q = sub.add_parser("compare", help="metrics of several volumes and their relative change against the first",
                       description="Quantify A, B, C... (e.g. pristine, cycled 4.4 V, cycled 4.7 V) and report "
                                   "every metric per input and its relative change (x - x_A) / x_A.")
    q.add_argument("files", nargs="+", metavar="LABELS")
    QUANTIFY.add_to(q)
    q.add_argument("--roi-um", nargs=6, type=float, metavar=("X0", "X1", "Y0", "Y1", "Z0", "Z1"),
                   help="the same region of interest in every input (um from the first voxel face)")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_compare, paramsets=[QUANTIFY, READ])

    q = sub.add_parser("rev", help="representative volume: metrics on growing or random sub-volumes",
                       description="Each metric (fractions, crack fraction, largest CBD aggregate share) on "
                                   "growing centred sub-volumes, or on --samples random sub-volumes of each size, "
                                   "with mean and spread: does e.g. a 33 x 33 x 70 um sub-volume represent the "
                                   "electrode (the study's Fig. S6)?")
    q.add_argument("file", metavar="LABELS")
    q.add_argument("--size-um", nargs="+", type=float, metavar="X Y Z",
                   help="sub-volume sizes as X Y Z triplets in um (e.g. 33 33 70)")
    q.add_argument("--edge-um", nargs="+", type=float, metavar="E", help="cube edges in um")
    REV.add_to(q)
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_rev, paramsets=[REV, READ])
