"""`electrovox segment`: greyscale image -> phase labels (thin CLI layer).

The numbers come from :func:`electrovox.filters.image.pipeline.segment_image`.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from electrovox.cli.common import add_common, add_force, add_input_options, read_input
from electrovox.filters.image.params import CRACKS, IMAGE_STEP, RESAMPLE, SEGMENT, STEPS
from electrovox.io.params import READ
from electrovox.progress import cli_bar

_AXES = {"z": 0, "y": 1, "x": 2}
_SEGMENT_CLI = SEGMENT.without("array_name", "pore_back_reverse")
_STEP_CLI = IMAGE_STEP.only("method", "slice_axis")
_RESAMPLE_CLI = RESAMPLE.without("array_name")


def cmd_segment(args) -> dict:
    """`electrovox segment`: a greyscale image -> phase labels."""
    from electrovox.filters.image.pipeline import parse_phases, segment_image
    from electrovox.io.atomic import check_writable
    from electrovox.volume import Volume
    check_writable(args.output, force=args.force)      # fail before a long run, not after it
    kw = _SEGMENT_CLI.from_cli(args)
    kw["phases"] = parse_phases(kw["phases"])
    if kw["resample_um"] is not None and not kw["resample_um"] > 0:
        from electrovox.errors import BadInput
        raise BadInput("--resample-um", f"{kw['resample_um']} is not a positive voxel size",
                       "give the cubic voxel size in um, e.g. --resample-um 0.1")
    kw["slice_axis"], kw["beam_axis"] = _AXES.get(kw["slice_axis"]), _AXES.get(kw["beam_axis"])
    vol = _image_input(args, args.image)               # an .nc's greyscale is its variable `image`
    with cli_bar(f"segmenting {args.image}", quiet=args.quiet) as bar:
        res = segment_image(vol.array, vol.spacing, method=args.method, pore_back_reverse=args.milling == "down",
                            progress=bar, **kw)
    origin = tuple(o + s for o, s in zip(vol.origin, res["origin_shift_um"], strict=True))
    out_vol = Volume.labels(res["labels"], res["spacing"], origin=origin, metadata=dict(vol.metadata),
                            provenance=list(vol.provenance))
    out_vol.with_step("segment", input=str(args.image), output=str(args.output), **_step_params(args))
    extra = None
    if res["pore_back_mask"] is not None and res["pore_back_mask"].shape == out_vol.shape and \
            str(args.output).lower().endswith((".nc", ".vti")):
        extra = {"pore_back_corrected": res["pore_back_mask"].astype(np.uint8)}
    _write(args, out_vol, extra)
    for notice in res.get("notices", []):
        print(f"{args.image}: notice: {notice}", file=sys.stderr)
    out = {"input": str(args.image), "output": str(args.output), **out_vol.summary(), "report": res["report"],
           "notices": list(res.get("notices", []))}
    if not args.json:
        rep = res["report"]
        print(f"wrote {args.output}: " + ", ".join(f"{k} {100 * v:.2f} %" for k, v in rep["fractions"].items()))
        if rep.get("crack_fraction_of_particles") is not None:
            print(f"  crack fraction of particles: {100 * rep['crack_fraction_of_particles']:.2f} %")
        corr = rep.get("corrections")
        if corr is not None:
            ran = [k.replace("_", "-") for k, v in corr.items() if isinstance(v, dict) and v.get("ran")]
            why = (rep.get("fibsem") or {}).get("why", "")
            print(f"  FIB-SEM corrections: {', '.join(ran) if ran else 'none'}" + (f" ({why})" if why else ""))
        if "pore_back" in rep:
            print(f"  pore-back corrected: {100 * rep['pore_back']['corrected_fraction']:.2f} % of the voxels, "
                  f"reach {rep['pore_back']['reach_slices']} slices")
    return out


def _image_input(args, path):
    if args.variable is None and str(path).lower().endswith(".nc"):
        args.variable = "image"
    return read_input(args, path, labels=False, desc="reading")


def _write(args, vol, extra=None) -> None:
    from electrovox.io import write_volume
    with cli_bar("writing", quiet=args.quiet) as bar:
        write_volume(args.output, vol, force=args.force, extra=extra, progress=bar)


def _step_params(args) -> dict:
    return {k: v for k, v in vars(args).items()
            if k not in ("func", "json", "quiet", "debug", "force", "image", "output", "command", "labels_in",
                         "paramsets")}


def cmd_filter(args) -> dict:
    """One image step (destripe, drift, align, denoise, pore-back) -> a float32 image."""
    from electrovox.filters.image.pipeline import run_step
    from electrovox.io.atomic import check_writable
    from electrovox.volume import Volume
    check_writable(args.output, force=args.force)
    vol = _image_input(args, args.image)
    with cli_bar(f"{args.step} {args.image}", quiet=args.quiet) as bar:
        kw = _STEP_CLI.from_cli(args)
        img, mask = run_step(vol.array, vol.spacing, args.step, method=kw["method"],
                             slice_axis=_AXES.get(kw["slice_axis"]), progress=bar)
    out = Volume(img, vol.spacing, origin=vol.origin, name="image", metadata=dict(vol.metadata),
                 provenance=list(vol.provenance))
    out.with_step(f"filter {args.step}", input=str(args.image), output=str(args.output), **_step_params(args))
    extra = None
    if mask is not None and str(args.output).lower().endswith((".nc", ".vti")):
        extra = {"pore_back_corrected": mask.astype(np.uint8)}
    _write(args, out, extra)
    res = {"input": str(args.image), "output": str(args.output), "step": args.step, **out.summary()}
    if mask is not None:
        res["corrected_fraction"] = float(mask.mean())
    if not args.json:
        print(f"wrote {args.output} ({args.step})")
    return res


def cmd_resample(args) -> dict:
    """An image (interpolation) or a label volume (majority / nearest) to cubic voxels."""
    from electrovox.errors import BadInput
    from electrovox.filters.image.resample import resample_image, resample_labels
    from electrovox.io.atomic import check_writable
    from electrovox.volume import Volume
    check_writable(args.output, force=args.force)
    if args.resample_um is None:
        raise BadInput("--resample-um", "is required", "give the cubic voxel size in um, e.g. --resample-um 0.1")
    kw = _RESAMPLE_CLI.from_cli(args)
    size = kw["resample_um"]
    vol = read_input(args, args.image, labels=True if args.labels_in else None)
    with cli_bar(f"resampling {args.image}", quiet=args.quiet) as bar:
        if vol.legend is not None:
            arr, sp, shift = resample_labels(vol.array, vol.spacing, size, method=kw["label_method"], progress=bar)
        else:
            arr, sp, shift = resample_image(vol.array, vol.spacing, size, order=kw["order"], progress=bar)
    origin = tuple(o + s for o, s in zip(vol.origin, shift, strict=True))
    out = (Volume.labels(arr, sp, vol.legend, origin=origin) if vol.legend is not None
           else Volume(arr, sp, origin=origin, name=vol.name))
    out.metadata, out.provenance = dict(vol.metadata), list(vol.provenance)
    out.with_step("resample", input=str(args.image), output=str(args.output), **_step_params(args))
    _write(args, out)
    if not args.json:
        print(f"wrote {args.output}: {' x '.join(str(n) for n in out.shape[::-1])} voxels of {size:g} um")
    return {"input": str(args.image), "output": str(args.output), **out.summary()}


def cmd_cracks(args) -> dict:
    """Labels in, labels out: dark voxels enclosed by particles become crack."""
    from electrovox.errors import BadInput
    from electrovox.filters.image.cracks import find_cracks
    from electrovox.io.atomic import check_writable
    from electrovox.volume import Volume
    check_writable(args.output, force=args.force)
    kw = CRACKS.from_cli(args)
    vol = read_input(args, args.image, labels=True)
    inv = {name: i for i, name in vol.legend.items()}
    if "am" not in inv:
        raise BadInput(args.image, "has no active material ('am') in its legend",
                       "give --legend with an am id, e.g. 0=pore,1=am,2=cbd")
    legend = dict(vol.legend)
    crack = inv.get("crack")
    if crack is None:
        crack = 3 if 3 not in legend else max(legend) + 1
        legend[crack] = "crack"
    with cli_bar(f"cracks {args.image}", quiet=args.quiet) as bar:
        arr = find_cracks(vol.array, vol.spacing, max_width_um=kw["crack_max_width_um"],
                          enclosed_fraction=kw["enclosed_fraction"], am=inv["am"], crack=crack,
                          pore=inv.get("pore"), progress=bar)
    out = Volume.labels(arr, vol.spacing, legend, origin=vol.origin, metadata=dict(vol.metadata),
                        provenance=list(vol.provenance))
    out.with_step("cracks", input=str(args.image), output=str(args.output), **_step_params(args))
    _write(args, out)
    res = {"input": str(args.image), "output": str(args.output), **out.summary()}
    if not args.json:
        print(f"wrote {args.output}: crack {100 * res['phases'].get('crack', 0):.2f} %")
    return res


def add_parsers(sub) -> None:
    """Add ``segment``, ``filter``, ``resample`` and ``cracks`` to the top-level subparsers."""
    q = sub.add_parser("segment", help="segment a greyscale FIB-SEM / CT image into pore, CBD, active material, cracks",
                       description="FIB-SEM corrections (curtaining, drift, optional alignment), denoising, "
                                   "pore-back correction, pore / CBD / active-material segmentation (markers + "
                                   "watershed), cracks inside particles; writes labels with the default legend "
                                   "(0 pore, 1 cbd, 2 am, 3 crack) on the image grid, or on a cubic grid with "
                                   "--resample-um. IMAGE: a TIFF stack, .nc (variable image) or .vti; OUT: .nc, "
                                   ".vti or .tif.")
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("output", metavar="OUT")
    q.add_argument("--method", choices=["classic"], default="classic",
                   help="segmentation method (default classic: mixture levels, markers, watershed)")
    _SEGMENT_CLI.add_to(q)
    q.add_argument("--milling", choices=["up", "down"], default="up",
                   help="milling toward larger (up, default) or smaller indices along the slice axis")
    add_force(q)
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_segment, paramsets=[SEGMENT, READ])

    q = sub.add_parser("filter", help="one image step: destripe, drift, align, denoise or pore-back",
                       description="Run one step of the segmentation chain on a greyscale image and write the "
                                   "corrected float32 image (pore-back: also the mask pore_back_corrected in "
                                   ".nc/.vti).")
    q.add_argument("step", choices=list(STEPS))
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("output", metavar="OUT")
    _STEP_CLI.add_to(q)
    add_force(q)
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_filter, paramsets=[IMAGE_STEP, READ])

    q = sub.add_parser("resample", help="resample an image or a label volume to cubic voxels",
                       description="Greyscale: interpolation (anti-aliased when downsampling); labels (a file "
                                   "with a legend, or --labels): majority (default) or nearest. Same physical box; "
                                   "floor(extent / V) voxels per axis.")
    q.add_argument("image", metavar="INPUT")
    q.add_argument("output", metavar="OUT")
    _RESAMPLE_CLI.add_to(q)
    # the flag's earlier spelling, kept for scripts (one spelling in --help)
    q.add_argument("--to-um", dest="resample_um", type=float, help=argparse.SUPPRESS)
    q.add_argument("--labels", dest="labels_in", action="store_true", help="the input is a label volume")
    add_force(q)
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_resample, paramsets=[RESAMPLE, READ])

    q = sub.add_parser("cracks", help="relabel dark regions enclosed by particles as crack",
                       description="Label volume in, label volume out: non-active voxels enclosed by active "
                                   "material (holes, and mouths up to --crack-max-width-um bridged) become crack.")
    q.add_argument("image", metavar="LABELS")
    q.add_argument("output", metavar="OUT")
    CRACKS.add_to(q)
    add_force(q)
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_cracks, paramsets=[CRACKS, READ])
