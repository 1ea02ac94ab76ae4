"""The `electrovox` command line.

Every command has ``--help`` and ``--json`` (one JSON object on stdout, nothing else there);
progress goes to stderr (``--quiet`` silences it).  Exit status: 0 success, 2 bad input (one
line on stderr naming the file, the problem and the fix), 1 internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from electrovox import __version__
from electrovox.errors import BadInput
from electrovox.phases import parse_legend
from electrovox.progress import cli_bar
from electrovox.volume import jsonable, voxel_um_to_spacing

# uint8/uint16 volumes with at most this many distinct values, all in the default legend, are
# taken as labels by `info` when no legend is given (with a notice); greyscale otherwise.
_MAX_LABEL_VALUES = 16


def _add_input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input")
    g.add_argument("--voxel-um", nargs="+", metavar="V",
                   help="voxel size in um: one value (cubic) or X Y Z; required when the file carries "
                        "none, overrides the file's value when given")
    g.add_argument("--legend", metavar="ID=NAME,...",
                   help="phase of each label id, e.g. 0=pore,1=am,2=cbd (names: pore, cbd, am, crack, "
                        "separator, collector); default: the legend stored in the file, else 0=pore,1=cbd,"
                        "2=am,3=crack,4=separator,5=collector")
    g.add_argument("--thickness-axis", choices=["z", "y", "x"], default="z",
                   help="the file's axis along the electrode thickness; reoriented to z (default z)")
    g.add_argument("--variable", help="netCDF variable to read (default labels, else image)")
    g.add_argument("--shape", nargs=3, type=int, metavar=("NZ", "NY", "NX"), help="raw files: shape")
    g.add_argument("--dtype", help="raw files: numpy dtype, e.g. uint8, uint16, float32")
    g.add_argument("--byteorder", choices=["<", ">", "little", "big"], default="<",
                   help="raw files: byte order (default little)")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def _read(args, path, *, labels=None, desc="reading"):
    from electrovox.io import read_volume
    legend = parse_legend(args.legend) if getattr(args, "legend", None) else None
    byteorder = {"little": "<", "big": ">"}.get(args.byteorder, args.byteorder)
    with cli_bar(desc, quiet=args.quiet) as bar:
        return read_volume(path, spacing=voxel_um_to_spacing(args.voxel_um), legend=legend, labels=labels,
                           thickness_axis=args.thickness_axis, variable=args.variable,
                           shape=tuple(args.shape) if args.shape else None, dtype=args.dtype,
                           byteorder=byteorder, progress=bar)


def _looks_like_labels(vol) -> bool:
    from electrovox.phases import DEFAULT_LEGEND
    a = vol.array
    if a.dtype.kind not in "u" or a.dtype.itemsize > 2:
        return False
    present = np.flatnonzero(np.bincount(a.ravel(), minlength=1))
    return 2 <= present.size <= _MAX_LABEL_VALUES and set(present.tolist()) <= set(DEFAULT_LEGEND)


def cmd_info(args) -> dict:
    vol = _read(args, args.file)
    if vol.legend is None and _looks_like_labels(vol):
        print(f"{args.file}: notice: no legend stored or given; reading it as labels with the default "
              "legend 0=pore,1=cbd,2=am,3=crack,4=separator,5=collector (give --legend id=name,... "
              "if this file uses other ids)", file=sys.stderr)
        vol = vol.as_labels(None, source=args.file)
    out = {"file": str(args.file), **vol.summary()}
    if not args.json:
        s = out["shape"]
        sp = out["spacing_um"]
        lines = [f"{args.file}", f"  shape (x, y, z): {s['x']} x {s['y']} x {s['z']} voxels",
                 f"  spacing (x, y, z): {sp['x']:g} x {sp['y']:g} x {sp['z']:g} um",
                 f"  dtype: {out['dtype']}"]
        if "phases" in out:
            lines.append("  phases: " + ", ".join(f"{k} {100 * v:.2f} %" for k, v in out["phases"].items()))
        else:
            lines.append(f"  value range: {out['range']}")
        print("\n".join(lines))
    return out


def cmd_convert(args) -> dict:
    from electrovox.io import write_volume
    from electrovox.io.atomic import check_writable
    check_writable(args.output, force=args.force)  # fail before a long read, not after it
    labels = True if args.labels else (False if args.image else None)
    vol = _read(args, args.input, labels=labels)
    vol.with_step("convert", input=str(args.input), output=str(args.output))
    with cli_bar("writing", quiet=args.quiet) as bar:
        write_volume(args.output, vol, force=args.force, progress=bar)
    out = {"input": str(args.input), "output": str(args.output), **vol.summary()}
    if not args.json:
        print(f"wrote {args.output}")
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="electrovox", description=__doc__.split("\n\n")[0] + " "
                                "Battery-electrode microstructures: read, convert, inspect.")
    p.add_argument("--version", action="version", version=f"electrovox {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    q = sub.add_parser("info", help="shape, voxel size, dtype, legend and phase fractions of a volume",
                       description="Print shape, voxel size, dtype, legend and (label volumes) phase "
                                   "fractions. FILE: .nc, .vti, .tif/.tiff, a folder of TIFF slices, or raw.")
    q.add_argument("file", metavar="FILE")
    _add_input_options(q)
    _add_common(q)
    q.set_defaults(func=cmd_info)

    q = sub.add_parser("convert", help="convert between .nc, .vti, .tif and raw/TIFF-folder input",
                       description="Read any supported volume and write it as .nc, .vti or .tif "
                                   "(atomically; an existing OUTPUT needs --force).")
    q.add_argument("input", metavar="INPUT")
    q.add_argument("output", metavar="OUTPUT")
    kind = q.add_mutually_exclusive_group()
    kind.add_argument("--labels", action="store_true", help="the input is a label volume")
    kind.add_argument("--image", action="store_true", help="the input is a greyscale image")
    q.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    _add_input_options(q)
    _add_common(q)
    q.set_defaults(func=cmd_convert)

    from electrovox.cli_phantom import add_parsers as add_phantom
    from electrovox.cli_quantify import add_parsers as add_quantify
    from electrovox.cli_segment import add_parsers as add_segment
    from electrovox.cli_transport import add_parsers as add_transport
    add_phantom(sub, _add_common, _add_input_options)
    add_quantify(sub, _add_common, _add_input_options)
    add_segment(sub, _add_common, _add_input_options)
    add_transport(sub, _add_common, _add_input_options)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        out = args.func(args)
    except BadInput as e:
        print(e.one_line(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an internal error: one line, traceback only on request
        if getattr(args, "debug", False):
            raise
        print(f"electrovox {args.command}: internal error: {type(e).__name__}: {e} "
              "(re-run with --debug for the traceback and report it)", file=sys.stderr)
        return 1
    if getattr(args, "json", False) and out is not None:
        out.setdefault("wall_s", round(time.perf_counter() - t0, 3))
        json.dump(jsonable(out), sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
