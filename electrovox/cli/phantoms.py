"""`electrovox phantom ...`: synthetic electrodes, the cycling transform, PFIB-SEM image phantoms.

Thin CLI layer over :mod:`electrovox.solvers.phantoms` (argument parsing, reading, writing).
"""

from __future__ import annotations

from electrovox.cli.common import add_common, add_force, xyz_to_zyx
from electrovox.errors import BadInput
from electrovox.progress import cli_bar
from electrovox.solvers.phantoms.params import CYCLING, ELECTRODE, IMAGING
from electrovox.volume import Volume, voxel_um_to_spacing


def _write(args, path, vol, extra=None):
    from electrovox.io import write_volume
    if str(path).lower().rsplit(".", 1)[-1] not in ("nc", "vti"):
        raise BadInput(path, "phantoms are written as .nc or .vti", "give an output name ending in .nc or .vti")
    with cli_bar("writing", quiet=args.quiet) as bar:
        write_volume(path, vol, force=args.force, extra=extra, progress=bar)


def cmd_electrode(args) -> dict:
    """`electrovox phantom electrode`: a labelled electrode with known truth."""
    from electrovox.io.atomic import check_writable
    from electrovox.solvers.phantoms.electrode import generate_electrode
    check_writable(args.output, force=args.force)
    kw = ELECTRODE.from_cli(args)
    size = xyz_to_zyx(kw.pop("size_um"), "--size-um", (3,))
    spacing = voxel_um_to_spacing(args.voxel_um)
    kw.pop("voxel_um")
    if kw["active"] + kw["cbd"] + kw["cracks"] >= 1:
        raise BadInput("--active/--cbd/--cracks", f"fractions add up to {kw['active'] + kw['cbd'] + kw['cracks']:.3f}"
                       " >= 1: no pore space left", "lower them so that pores keep a share")
    with cli_bar("generating electrode", quiet=args.quiet) as bar:
        out = generate_electrode(size_um=size, spacing=spacing,
                                 active_gradient=tuple(args.gradient) if args.gradient else None,
                                 progress=bar, **kw)
    vol = Volume.labels(out["labels"], spacing, metadata={"phantom": out["report"]})
    skip = ("func", "command", "phantom_command", "json", "quiet", "debug", "force", "paramsets")
    vol.with_step("phantom electrode", **{k: v for k, v in vars(args).items() if k not in skip})
    _write(args, args.output, vol, extra={"particles": out["particles"]})
    res = {"output": str(args.output), **vol.summary(), "report": out["report"]}
    if not args.json:
        print(f"wrote {args.output}: " + ", ".join(f"{k} {100 * v:.2f} %" for k, v in res["phases"].items()))
    return res


def cmd_cycle(args) -> dict:
    """`electrovox phantom cycle`: cycling damage replayed on a label volume."""
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
        out = cycle_electrode(vol.array, vol.spacing, particles=particles, grain_seed=grain_seed, progress=bar,
                              **CYCLING.from_cli(args))
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
    """`electrovox phantom image`: a PFIB-SEM-like image of a label volume, with truth."""
    from electrovox.io import read_volume
    from electrovox.io.atomic import check_writable
    from electrovox.solvers.phantoms.imaging import simulate_fibsem
    check_writable(args.output, force=args.force)
    p = IMAGING.from_cli(args)
    image_spacing = tuple(v / 1000.0 for v in xyz_to_zyx(p["voxel_nm"], "--voxel-nm"))
    vol = read_volume(args.input, spacing=voxel_um_to_spacing(args.voxel_um), labels=True)
    kw = {"snr": p["snr"], "seed": p["seed"], "image_spacing": image_spacing}
    for name in ("pore_back", "curtaining", "drift"):
        if not p[name]:
            kw[name] = 0.0
    if p["slice_axis"] not in (None, "auto"):
        kw["slice_axis"] = "zyx".index(p["slice_axis"])
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


def add_parsers(sub) -> None:
    """Add ``phantom electrode | cycle | image`` to the top-level subparsers."""
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
    ELECTRODE.add_to(q)
    q.add_argument("--gradient", nargs=2, type=float, metavar=("AM_BOTTOM", "AM_TOP"),
                   help="active fraction varying linearly from the collector side to the separator side")
    add_force(q, "OUTPUT")
    add_common(q)
    q.set_defaults(func=cmd_electrode, paramsets=[ELECTRODE])

    q = ps.add_parser("cycle", help="grow cracks and detach CBD (relative changes, recorded)",
                      description="Replay cycling damage on a pristine label volume: crack volume x (1 + "
                                  "--crack-growth), am-cbd contact area x (1 - --contact-loss). The applied and "
                                  "achieved changes are recorded in the output's metadata and printed with --json.")
    q.add_argument("input", metavar="IN")
    q.add_argument("output", metavar="OUT")
    CYCLING.add_to(q)
    q.add_argument("--voxel-um", nargs="+", metavar="V", help="voxel size when IN carries none")
    add_force(q)
    add_common(q)
    q.set_defaults(func=cmd_cycle, paramsets=[CYCLING])

    q = ps.add_parser("image", help="PFIB-SEM-like greyscale image of a label volume, with truth",
                      description="Render a PFIB-SEM-like greyscale stack from labels (grey levels, grain and CBD "
                                  "texture, anisotropic blur, noise at --snr, curtaining, drift, pore-back) on "
                                  "voxels of --voxel-nm; writes 'image' and the exact labels on the image grid "
                                  "as 'truth' to OUT (.nc, or .vti).")
    q.add_argument("input", metavar="LABELS")
    q.add_argument("output", metavar="OUT")
    IMAGING.add_to(q)
    q.add_argument("--voxel-um", nargs="+", metavar="V", help="label voxel size when LABELS carries none")
    add_force(q)
    add_common(q)
    q.set_defaults(func=cmd_image, paramsets=[IMAGING])
