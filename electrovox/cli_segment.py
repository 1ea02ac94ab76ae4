"""`electrovox segment`: greyscale image -> phase labels (thin CLI layer).

The numbers come from :func:`electrovox.filters.image.pipeline.segment_image`.
"""

from __future__ import annotations

import numpy as np

from electrovox.progress import cli_bar

_AXES = {"z": 0, "y": 1, "x": 2}


def cmd_segment(args) -> dict:
    from electrovox.cli import _read
    from electrovox.filters.image.pipeline import parse_phases, segment_image
    from electrovox.io import write_volume
    from electrovox.io.atomic import check_writable
    from electrovox.volume import Volume
    check_writable(args.output, force=args.force)      # fail before a long run, not after it
    phases = parse_phases(args.phases)
    if args.resample_um is not None and not args.resample_um > 0:
        from electrovox.errors import BadInput
        raise BadInput("--resample-um", f"{args.resample_um} is not a positive voxel size",
                       "give the cubic voxel size in um, e.g. --resample-um 0.1")
    if args.variable is None and str(args.image).lower().endswith(".nc"):
        args.variable = "image"                         # the contract: an .nc's greyscale is `image`
    vol = _read(args, args.image, labels=False, desc="reading")
    with cli_bar(f"segmenting {args.image}", quiet=args.quiet) as bar:
        res = segment_image(vol.array, vol.spacing, method=args.method, phases=phases,
                            slice_axis=_AXES.get(args.slice_axis), beam_axis=_AXES.get(args.beam_axis),
                            align=args.align, destripe=not args.no_destripe, drift=not args.no_drift,
                            denoise=args.denoise, pore_back=not args.no_pore_back_correction,
                            pore_back_reverse=args.milling == "down", crack_max_width_um=args.crack_max_width_um,
                            resample_um=args.resample_um, progress=bar)
    origin = tuple(o + s for o, s in zip(vol.origin, res["origin_shift_um"], strict=True))
    out_vol = Volume.labels(res["labels"], res["spacing"], origin=origin, metadata=dict(vol.metadata),
                            provenance=list(vol.provenance))
    params = {k: v for k, v in vars(args).items()
              if k not in ("func", "json", "quiet", "debug", "force", "image", "output", "command")}
    out_vol.with_step("segment", input=str(args.image), output=str(args.output), **params)
    extra = None
    if res["pore_back_mask"] is not None and res["pore_back_mask"].shape == out_vol.shape and \
            str(args.output).lower().endswith((".nc", ".vti")):
        extra = {"pore_back_corrected": res["pore_back_mask"].astype(np.uint8)}
    with cli_bar("writing", quiet=args.quiet) as bar:
        write_volume(args.output, out_vol, force=args.force, extra=extra, progress=bar)
    out = {"input": str(args.image), "output": str(args.output), **out_vol.summary(), "report": res["report"]}
    if not args.json:
        rep = res["report"]
        print(f"wrote {args.output}: " + ", ".join(f"{k} {100 * v:.2f} %" for k, v in rep["fractions"].items()))
        if rep.get("crack_fraction_of_particles") is not None:
            print(f"  crack fraction of particles: {100 * rep['crack_fraction_of_particles']:.2f} %")
        if "pore_back" in rep:
            print(f"  pore-back corrected: {100 * rep['pore_back']['corrected_fraction']:.2f} % of the voxels, "
                  f"reach {rep['pore_back']['reach_slices']} slices")
    return out


def add_parsers(sub, add_common, add_input_options) -> None:
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
    q.add_argument("--phases", default="pore,cbd,am,crack",
                   help="phases to find: pore,cbd,am,crack (default), pore,cbd,am, pore,am,crack or pore,am "
                        "(two-phase mode for lab X-ray CT)")
    q.add_argument("--no-pore-back-correction", action="store_true", help="skip the pore-back correction")
    q.add_argument("--no-destripe", action="store_true", help="skip the curtaining (stripe) removal")
    q.add_argument("--no-drift", action="store_true", help="skip the slice-to-slice brightness normalisation")
    q.add_argument("--align", action="store_true", help="align slices by phase correlation first")
    q.add_argument("--denoise", choices=["default", "gaussian", "median", "bilateral", "nlm", "none"],
                   default="default", help="denoiser (default: median 3 px then Gaussian 0.7 px; nlm: slow)")
    q.add_argument("--slice-axis", choices=["z", "y", "x"],
                   help="FIB milling axis (default: the axis of the largest voxel size)")
    q.add_argument("--milling", choices=["up", "down"], default="up",
                   help="milling toward larger (up, default) or smaller indices along the slice axis")
    q.add_argument("--beam-axis", choices=["z", "y", "x"],
                   help="axis the curtain stripes run along (default: estimated)")
    q.add_argument("--crack-max-width-um", type=float,
                   help="widest crack mouth bridged when finding cracks (default 4 x the coarsest voxel)")
    q.add_argument("--resample-um", type=float, metavar="V", help="write labels on cubic V um voxels (majority)")
    q.add_argument("--force", action="store_true", help="overwrite OUT")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_segment)
