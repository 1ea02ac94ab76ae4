"""`electrovox phantom ...`: synthetic electrodes, the cycling transform, PFIB-SEM image phantoms.

Thin CLI layer over :mod:`electrovox.solvers.phantoms` (argument parsing, reading, writing).
"""

from __future__ import annotations

from electrovox.errors import BadInput
from electrovox.progress import cli_bar
from electrovox.volume import Volume, voxel_um_to_spacing


def _xyz_to_zyx(values, name, n_ok=(1, 3)):
    vals = [float(v) for v in values]
    if len(vals) not in n_ok or not all(v > 0 for v in vals):
        raise BadInput(name, f"needs {' or '.join(map(str, n_ok))} positive values, got {values}",
                       f"write e.g. {name} 64 64 80 (X Y Z)")
    if len(vals) == 1:
        vals *= 3
    return (vals[2], vals[1], vals[0])


def _write(args, path, vol, extra=None):
    from electrovox.io import write_volume
    if str(path).lower().rsplit(".", 1)[-1] not in ("nc", "vti"):
        raise BadInput(path, "phantoms are written as .nc or .vti", "give an output name ending in .nc or .vti")
    with cli_bar("writing", quiet=args.quiet) as bar:
        write_volume(path, vol, force=args.force, extra=extra, progress=bar)


def cmd_electrode(args) -> dict:
    from electrovox.io.atomic import check_writable
    from electrovox.solvers.phantoms.electrode import generate_electrode
    check_writable(args.output, force=args.force)
    size = _xyz_to_zyx(args.size_um, "--size-um", (3,))
    spacing = voxel_um_to_spacing(args.voxel_um)
    for name in ("active", "cbd", "cracks"):
        v = getattr(args, name)
        if not 0 <= v < 1:
            raise BadInput(f"--{name}", f"{v} is not a volume fraction in [0, 1)", "give e.g. 0.58")
    if args.active + args.cbd + args.cracks >= 1:
        raise BadInput("--active/--cbd/--cracks", f"fractions add up to {args.active + args.cbd + args.cracks:.3f}"
                       " >= 1: no pore space left", "lower them so that pores keep a share")
    with cli_bar("generating electrode", quiet=args.quiet) as bar:
        out = generate_electrode(size_um=size, spacing=spacing, seed=args.seed, active=args.active,
                                 cbd=args.cbd, cracks=args.cracks, cbd_morphology=args.cbd_morphology,
                                 d50_um=args.d50_um, psd_sigma=args.psd_sigma, max_overlap=args.max_overlap,
                                 crack_min_width_vox=args.crack_min_width,
                                 active_gradient=tuple(args.gradient) if args.gradient else None,
                                 separator_um=args.separator_um, collector_um=args.collector_um,
                                 periodic=args.periodic, progress=bar)
    vol = Volume.labels(out["labels"], spacing, metadata={"phantom": out["report"]})
    skip = ("func", "command", "phantom_command", "json", "quiet", "debug", "force")
    vol.with_step("phantom electrode", **{k: v for k, v in vars(args).items() if k not in skip})
    _write(args, args.output, vol, extra={"particles": out["particles"]})
    res = {"output": str(args.output), **vol.summary(), "report": out["report"]}
    if not args.json:
        print(f"wrote {args.output}: " + ", ".join(f"{k} {100 * v:.2f} %" for k, v in res["phases"].items()))
    return res


def cmd_cycle(args) -> dict:
    from electrovox.io import read_volume
    from electrovox.io.atomic import check_writable
    from electrovox.solvers.phantoms.cycling import cycle_electrode
    check_writable(args.output, force=args.force)
    spacing = voxel_um_to_spacing(args.voxel_um)
    vol = read_volume(args.input, spacing=spacing, labels=True)
    particles = None
    if str(args.input).lower().endswith(".nc"):
        try:
            particles = read_volume(args.input, spacing=spacing, variable="particles", labels=False).array
        except BadInput:
            particles = None  # not a generator file: cracks grow within am+crack regions
    # a generator file records its crack grains' seed: growth then follows the same grain boundaries
    gen = vol.metadata.get("phantom", {}) if isinstance(vol.metadata.get("phantom"), dict) else {}
    params = gen.get("parameters", {})
    grain_seed = None
    if not params.get("separator_um") and not params.get("collector_um"):
        grain_seed = params.get("sub_seeds", {}).get("cracks")
    with cli_bar("cycling", quiet=args.quiet) as bar:
        out = cycle_electrode(vol.array, vol.spacing, crack_growth=args.crack_growth,
                              contact_loss=args.contact_loss, seed=args.seed, particles=particles,
                              grain_seed=grain_seed, progress=bar)
    new = Volume.labels(out["labels"], vol.spacing, vol.legend, origin=vol.origin,
                        metadata={**vol.metadata, "cycling": out["report"]}, provenance=list(vol.provenance))
    new.with_step("phantom cycle", input=str(args.input), crack_growth=args.crack_growth,
                  contact_loss=args.contact_loss, seed=args.seed)
    _write(args, args.output, new, extra={"particles": particles} if particles is not None else None)
    res = {"input": str(args.input), "output": str(args.output), **new.summary(), "report": out["report"]}
    if not args.json:
        a = out["report"]["achieved"]
        print(f"wrote {args.output}: crack volume {100 * a['crack_volume_change']:+.1f} %, am-cbd contact "
              f"{100 * a['contact_area_am_cbd_change']:+.1f} %")
    return res


def cmd_image(args) -> dict:
    from electrovox.io import read_volume
    from electrovox.io.atomic import check_writable
    from electrovox.solvers.phantoms.imaging import simulate_fibsem
    check_writable(args.output, force=args.force)
    image_spacing = tuple(v / 1000.0 for v in _xyz_to_zyx(args.voxel_nm, "--voxel-nm"))
    vol = read_volume(args.input, spacing=voxel_um_to_spacing(args.voxel_um), labels=True)
    kw = {"snr": args.snr, "seed": args.seed, "image_spacing": image_spacing}
    if args.no_pore_back:
        kw["pore_back"] = 0.0
    if args.no_curtaining:
        kw["curtaining"] = 0.0
    if args.no_drift:
        kw["drift"] = 0.0
    if args.slice_axis:
        kw["slice_axis"] = "zyx".index(args.slice_axis)
    with cli_bar("imaging", quiet=args.quiet) as bar:
        out = simulate_fibsem(vol.array, vol.spacing, progress=bar, **kw)
    # the image grid starts at the labels' first voxel face: its first centre is offset from theirs
    origin = tuple(o + d for o, d in zip(vol.origin, out["report"]["image_origin_offset_um"], strict=True))
    img = Volume(out["image"], image_spacing, origin=origin, name="image",
                 metadata={"phantom_image": out["report"]}, provenance=list(vol.provenance))
    img.with_step("phantom image", input=str(args.input), **{k: v for k, v in kw.items()})
    truth = Volume.labels(out["truth"], image_spacing, vol.legend, name="truth", origin=origin)
    _write(args, args.output, img, extra={"truth": truth})
    res = {"input": str(args.input), "output": str(args.output), **img.summary(), "report": out["report"]}
    if not args.json:
        print(f"wrote {args.output}: image {img.shape[2]} x {img.shape[1]} x {img.shape[0]} (x, y, z) "
              f"+ truth labels")
    return res


def add_parsers(sub, add_common, add_input_options) -> None:
    p = sub.add_parser("phantom", help="synthetic electrodes, cycling transform, PFIB-SEM image phantoms",
                       description="Synthetic thick electrodes with known ground truth.")
    ps = p.add_subparsers(dest="phantom_command", metavar="KIND")
    ps.required = True

    q = ps.add_parser("electrode", help="generate a labelled NMC electrode (pore, cbd, am, crack)",
                      description="Generate a labelled electrode: polydisperse near-spherical NMC secondary "
                                  "particles packed to --active (+ --cracks) with calendering overlap, cracks "
                                  "inside particles, CBD at necks and on surfaces. Writes labels (default "
                                  "legend) and the particle id map 'particles' to OUTPUT (.nc or .vti).")
    q.add_argument("output", metavar="OUTPUT")
    q.add_argument("--size-um", nargs=3, type=float, required=True, metavar=("X", "Y", "Z"),
                   help="box size in um (z = thickness)")
    q.add_argument("--voxel-um", nargs="+", required=True, metavar="V", help="voxel size in um: V or X Y Z")
    q.add_argument("--seed", type=int, required=True)
    q.add_argument("--active", type=float, default=0.58, help="active-material volume fraction (default 0.58)")
    q.add_argument("--cbd", type=float, default=0.09, help="CBD volume fraction (default 0.09)")
    q.add_argument("--cracks", type=float, default=0.04, help="crack volume fraction (default 0.04)")
    q.add_argument("--cbd-morphology", choices=["slurry", "dry"], default="slurry")
    q.add_argument("--d50-um", type=float, default=10.0, help="median particle diameter (default 10 um)")
    q.add_argument("--psd-sigma", type=float, default=None, help="log-normal geometric std (default: realistic)")
    q.add_argument("--max-overlap", type=float, default=0.2,
                   help="calendering: max overlap depth / smaller radius (default 0.2)")
    q.add_argument("--crack-min-width", type=int, default=2, help="minimum crack width in voxels (default 2)")
    q.add_argument("--gradient", nargs=2, type=float, metavar=("AM_BOTTOM", "AM_TOP"),
                   help="active fraction varying linearly from the collector side to the separator side")
    q.add_argument("--separator-um", type=float, default=0.0, help="separator layer on top (default none)")
    q.add_argument("--collector-um", type=float, default=0.0, help="current collector at z=0 (default none)")
    q.add_argument("--periodic", action="store_true", help="periodic lateral (x, y) boundaries")
    q.add_argument("--force", action="store_true", help="overwrite OUTPUT")
    add_common(q)
    q.set_defaults(func=cmd_electrode)

    q = ps.add_parser("cycle", help="grow cracks and detach CBD (relative changes, recorded)",
                      description="Replay cycling damage on a pristine label volume: crack volume x (1 + "
                                  "--crack-growth), am-cbd contact area x (1 - --contact-loss). The applied and "
                                  "achieved changes are recorded in the output's metadata and printed with --json.")
    q.add_argument("input", metavar="IN")
    q.add_argument("output", metavar="OUT")
    q.add_argument("--crack-growth", type=float, required=True, help="relative crack volume growth, e.g. 0.24")
    q.add_argument("--contact-loss", type=float, required=True, help="relative am-cbd contact loss, e.g. 0.20")
    q.add_argument("--seed", type=int, required=True)
    q.add_argument("--voxel-um", nargs="+", metavar="V", help="voxel size when IN carries none")
    q.add_argument("--force", action="store_true", help="overwrite OUT")
    add_common(q)
    q.set_defaults(func=cmd_cycle)

    q = ps.add_parser("image", help="PFIB-SEM-like greyscale image of a label volume, with truth",
                      description="Render a PFIB-SEM-like greyscale stack from labels (grey levels, grain and CBD "
                                  "texture, anisotropic blur, noise at --snr, curtaining, drift, pore-back) on "
                                  "voxels of --voxel-nm; writes 'image' and the exact labels on the image grid "
                                  "as 'truth' to OUT (.nc, or .vti).")
    q.add_argument("input", metavar="LABELS")
    q.add_argument("output", metavar="OUT")
    q.add_argument("--voxel-nm", nargs="+", type=float, default=[15.2, 15.2, 100.0], metavar="V",
                   help="image voxel size in nm, X Y Z (default 15.2 15.2 100; coarser is faster)")
    q.add_argument("--snr", type=float, default=8.0,
                   help="(mean AM - mean pore) / noise sigma at mid grey (default 8)")
    q.add_argument("--seed", type=int, required=True)
    q.add_argument("--no-pore-back", action="store_true", help="no pore-back shine-through")
    q.add_argument("--no-curtaining", action="store_true", help="no curtaining stripes")
    q.add_argument("--no-drift", action="store_true", help="no slice-to-slice brightness drift")
    q.add_argument("--slice-axis", choices=["z", "y", "x"], help="FIB slice axis (default: coarsest voxel axis)")
    q.add_argument("--voxel-um", nargs="+", metavar="V", help="label voxel size when LABELS carries none")
    q.add_argument("--force", action="store_true", help="overwrite OUT")
    add_common(q)
    q.set_defaults(func=cmd_image)
