"""Helpers shared by the CLI's command modules: input options, reading, writing, numbers.

Nothing here (or anywhere on the CLI path) imports VTK: every command runs with the core
dependencies alone.
"""

from __future__ import annotations

import argparse
import math

from electrovox.errors import BadInput
from electrovox.io.params import READ
from electrovox.params import Param, ParamSet
from electrovox.phases import parse_legend
from electrovox.progress import cli_bar
from electrovox.volume import voxel_um_to_spacing

#: keywords of the readers and writers that only the command line spells (for error translation)
CLI_KEYWORDS = ParamSet("cli", [
    Param("spacing", "vec3", None, "voxel size", cli="voxel-um", pv=""),
    Param("shape", "str", None, "raw shape", pv=""),
    Param("dtype", "str", None, "raw dtype", pv=""),
    Param("byteorder", "str", None, "raw byte order", pv=""),
])


def add_input_options(p: argparse.ArgumentParser) -> None:
    """The options of every command that reads a volume (declared in :data:`electrovox.io.params.READ`)."""
    g = p.add_argument_group("input")
    READ.add_to(g)
    g.add_argument("--shape", nargs=3, type=int, metavar=("NZ", "NY", "NX"), help="raw files: shape")
    g.add_argument("--dtype", help="raw files: numpy dtype, e.g. uint8, uint16, float32")
    g.add_argument("--byteorder", choices=["<", ">", "little", "big"], default="<",
                   help="raw files: byte order (default little)")


def add_common(p: argparse.ArgumentParser) -> None:
    """``--json``, ``--quiet`` and ``--debug``, on every command."""
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar on stderr (the bar shows the time elapsed<remaining)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def add_force(p: argparse.ArgumentParser, what: str = "OUT") -> None:
    """``--force``: overwrite an existing output."""
    p.add_argument("--force", action="store_true", help=f"overwrite {what} if it exists")


def read_input(args, path, *, labels=None, desc="reading"):
    """Read ``path`` with the command's input options (a :class:`~electrovox.volume.Volume`)."""
    from electrovox.io import read_volume
    legend = parse_legend(args.legend, source="--legend") if getattr(args, "legend", None) else None
    byteorder = {"little": "<", "big": ">"}.get(getattr(args, "byteorder", "<"), getattr(args, "byteorder", "<"))
    with cli_bar(desc, quiet=args.quiet) as bar:
        return read_volume(path, spacing=voxel_um_to_spacing(getattr(args, "voxel_um", None)), legend=legend,
                           labels=labels, thickness_axis=getattr(args, "thickness_axis", "z"),
                           variable=getattr(args, "variable", None),
                           shape=tuple(args.shape) if getattr(args, "shape", None) else None,
                           dtype=getattr(args, "dtype", None), byteorder=byteorder, progress=bar)


def run_outdir(path):
    """OUTDIR of a run (a folder, created by the run; resumed when it holds an unfinished one)."""
    from pathlib import Path
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise BadInput(out, "is a file, not a folder", "give a new folder as OUTDIR")
    return out


def read_params(path):
    """The ``--params`` BPX file as :class:`~electrovox.solvers.echem.parameters.EchemParameters` (None: default)."""
    if not path:
        return None
    from electrovox.solvers.echem.bpx import read_bpx
    return read_bpx(path)


def xyz_to_zyx(values, flag: str, n_ok=(1, 3)) -> tuple:
    """``X Y Z`` (or one value, cubic) from the command line -> ``(z, y, x)``; positive values only."""
    vals = [float(v) for v in values]
    if len(vals) not in n_ok or not all(v > 0 for v in vals):
        raise BadInput(flag, f"needs {' or '.join(map(str, n_ok))} positive values, got {values}",
                       f"write e.g. {flag} 64 64 80 (X Y Z)")
    if len(vals) == 1:
        vals *= 3
    return (vals[2], vals[1], vals[0])


def num(v):
    """A JSON-safe number: NaN and infinities become None."""
    v = float(v)
    return None if math.isinf(v) or math.isnan(v) else v
