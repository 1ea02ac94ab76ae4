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
from electrovox.cli import discharge, echem, flow, image, impregnate, phantoms, quantify, study, transport
from electrovox.cli.common import CLI_KEYWORDS, add_common, add_force, add_input_options, read_input
from electrovox.errors import BadInput
from electrovox.io.params import READ
from electrovox.progress import cli_bar
from electrovox.volume import jsonable

# uint8/uint16 volumes with at most this many distinct values, all in the default legend, are
# taken as labels by `info` when no legend is given (with a notice); greyscale otherwise.
_MAX_LABEL_VALUES = 16


def _looks_like_labels(vol) -> bool:
    from electrovox.phases import DEFAULT_LEGEND
    a = vol.array
    if a.dtype.kind not in "u" or a.dtype.itemsize > 2:
        return False
    present = np.flatnonzero(np.bincount(a.ravel(), minlength=1))
    return 2 <= present.size <= _MAX_LABEL_VALUES and set(present.tolist()) <= set(DEFAULT_LEGEND)


def cmd_info(args) -> dict:
    """`electrovox info`: shape, voxel size, dtype, value range or phase fractions."""
    vol = read_input(args, args.file)
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
            rng = out.get("range")
            lines.append(f"  value range (finite values): [{rng[0]:g}, {rng[1]:g}]" if rng
                         else "  value range: none (no finite values)")
            if out.get("nan_count") or out.get("inf_count"):
                lines.append(f"  non-finite values: {out.get('nan_count', 0)} NaN, {out.get('inf_count', 0)} +/-inf")
        print("\n".join(lines))
    return out


def cmd_convert(args) -> dict:
    """`electrovox convert`: any supported volume to .nc, .vti or .tif."""
    from electrovox.io import write_volume
    from electrovox.io.atomic import check_writable
    check_writable(args.output, force=args.force)  # fail before a long read, not after it
    labels = True if args.labels else (False if args.image else None)
    vol = read_input(args, args.input, labels=labels)
    vol.with_step("convert", input=str(args.input), output=str(args.output))
    with cli_bar("writing", quiet=args.quiet) as bar:
        write_volume(args.output, vol, force=args.force, progress=bar)
    out = {"input": str(args.input), "output": str(args.output), **vol.summary()}
    if not args.json:
        print(f"wrote {args.output}")
    return out


def build_parser() -> argparse.ArgumentParser:
    """The `electrovox` argument parser, every command from its module."""
    p = argparse.ArgumentParser(
        prog="electrovox", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="ElectroVox: battery-electrode microstructures from image to numbers. Read and convert "
                    "volumes, make phantoms with known truth, segment FIB-SEM / CT images, quantify "
                    "microstructures, compute tortuosity. Every command has --help and --json.",
        epilog="Documentation: docs/cli.md (every option), docs/ (one page per concept).")
    p.add_argument("--version", action="version", version=f"electrovox {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    q = sub.add_parser("info", help="shape, voxel size, dtype, legend and phase fractions of a volume",
                       description="Print shape, voxel size, dtype, legend and (label volumes) phase "
                                   "fractions. FILE: .nc, .vti, .tif/.tiff, a folder of TIFF slices, or raw.")
    q.add_argument("file", metavar="FILE")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_info, paramsets=[READ])

    q = sub.add_parser("convert", help="convert between .nc, .vti, .tif and raw/TIFF-folder input",
                       description="Read any supported volume and write it as .nc, .vti or .tif "
                                   "(atomically; an existing OUTPUT needs --force).")
    q.add_argument("input", metavar="INPUT")
    q.add_argument("output", metavar="OUTPUT")
    kind = q.add_mutually_exclusive_group()
    kind.add_argument("--labels", action="store_true", help="the input is a label volume")
    kind.add_argument("--image", action="store_true", help="the input is a greyscale image")
    add_force(q, "OUTPUT")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_convert, paramsets=[READ])

    for module in (phantoms, image, quantify, transport, flow, impregnate, discharge, echem, study):
        module.add_parsers(sub)
    return p


def main(argv=None) -> int:
    """Run one command; returns the exit status (0, 1 internal error, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        out = args.func(args)
    except BadInput as e:
        # cores name their keywords (cbd_factor); the CLI user reads flags (--cbd-factor)
        e = BadInput(e.source, e.problem.replace("force=True", "--force"), e.fix.replace("force=True", "--force"))
        for ps in (*getattr(args, "paramsets", ()), CLI_KEYWORDS):
            e = ps.translate(e, "cli")
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
