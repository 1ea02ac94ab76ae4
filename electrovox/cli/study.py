"""`electrovox scenarios`, `electrovox thickness` and `electrovox figures`: the study (thin CLI layer).

The numbers come from :mod:`electrovox.solvers.echem.scenarios`,
:mod:`electrovox.solvers.echem.thickness` and :mod:`electrovox.solvers.study.figures`.
"""

from __future__ import annotations

from pathlib import Path

from electrovox.cli.common import add_common, add_input_options, num, read_input, read_params, run_outdir
from electrovox.errors import BadInput
from electrovox.io.params import READ
from electrovox.progress import cli_bar
from electrovox.solvers.echem.params import SCENARIO_RUN, THICKNESS


def cmd_scenarios(args) -> dict:
    """`electrovox scenarios`: the study's five discharges of LABELS, one run folder each in OUTDIR."""
    from electrovox.solvers.echem.scenarios import run_scenarios, write_scenario_tables
    kw = SCENARIO_RUN.from_cli(args)
    names = [s.strip() for s in kw.pop("scenarios").split(",") if s.strip()] if kw.get("scenarios") else None
    kw.pop("scenarios", None)
    params = read_params(args.params)
    outdir = run_outdir(args.outdir)
    if not args.no_render:
        _pvbatch()                                  # refuse before the runs, not after
    vol = read_input(args, args.file, labels=True)
    with cli_bar("scenarios", quiet=args.quiet) as bar:
        out = run_scenarios(vol.array, vol.legend, vol.spacing, outdir, scenarios=names, params=params,
                            progress=bar, **kw)
    files = write_scenario_tables(outdir, out)
    figures = []
    if not args.no_render:
        from electrovox.solvers.study.figures import scenario_figures
        figures = [f["name"] for f in scenario_figures(outdir, out)]
        render_figures(outdir, figures)
    rows = [{k: (num(v) if isinstance(v, float) else v) for k, v in row.items()} for row in out["table"]]
    result = {"file": str(args.file), "outdir": str(outdir), "scenarios": rows, "wall_s": out["wall_s"],
              "c_rate": out["results"]["pristine"]["c_rate"], "cutoff_V": out["results"]["pristine"]["cutoff_V"],
              "voxel_um": out["results"]["pristine"]["voxel_um"], "files": {k: str(v) for k, v in files.items()},
              "figures": [{"name": n, "png": str(outdir / f"{n}.png"), "csv": str(outdir / f"{n}.csv"),
                           "state": str(outdir / f"{n}.pvsm")} for n in figures]}
    if not args.json:
        print(f"{args.file}: {len(rows)} scenarios at C/{1 / result['c_rate']:.3g} to {result['cutoff_V']} V "
              f"({out['wall_s']:.0f} s); table {files['table']}")
        print(f"  {'scenario':<18} {'mAh/g':>8} {'dV mV':>8} {'x top-bot':>10} {'ce (top-bot)/top':>17}")
        for r in out["table"]:
            print(f"  {r['scenario']:<18} {r['capacity_mAh_g']:8.1f} {r['mean_overpotential_mV']:8.1f} "
                  f"{r['lithiation_top_minus_bottom']:10.3f} {r['electrolyte_top_minus_bottom']:17.1%}")
    return result


def cmd_thickness(args) -> dict:
    """`electrovox thickness`: specific capacity of synthetic electrodes against their thickness."""
    from electrovox.solvers.echem.thickness import thickness_study, write_thickness_table
    kw = THICKNESS.from_cli(args)
    try:
        ts = [float(t) for t in str(kw.pop("thicknesses_um")).split(",") if t.strip()]
    except ValueError:
        raise BadInput("--thicknesses-um", f"is {args.thicknesses_um!r}", "write e.g. --thicknesses-um 80,160,240") \
            from None
    d50 = kw.pop("d50_um")
    outdir = run_outdir(args.outdir)
    with cli_bar("thickness", quiet=args.quiet) as bar:
        out = thickness_study(ts, params=read_params(args.params), outdir=outdir, phantom={"d50_um": d50},
                              progress=bar, **kw)
    path = write_thickness_table(outdir / "thickness.csv", out)
    rows = [{k: (num(v) if isinstance(v, float) else v) for k, v in row.items()} for row in out["rows"]]
    if not args.json:
        for r in out["rows"]:
            print(f"{r['thickness_um']:6.0f} um: {r['capacity_mAh_g']:7.1f} mAh/g "
                  f"({r['relative_to_thinnest']:.0%} of the thinnest)")
        print(f"table {path}")
    return {"outdir": str(outdir), "thicknesses": rows, "table": str(path)}


def _pvbatch() -> Path:
    """The ParaView launcher of this checkout (``bin/electrovox-pvbatch``; ``EVX_PVBATCH`` overrides it)."""
    import os
    root = Path(__file__).resolve().parents[2]
    exe = Path(os.environ.get("EVX_PVBATCH", root / "bin" / "electrovox-pvbatch"))
    if not exe.is_file():
        raise BadInput(exe, "is missing: the figures' PNG and state files are made by ParaView's pvbatch",
                       "run bin/setup (installs the ParaView runtime), set EVX_PVBATCH, or use --no-render")
    return exe


def render_figures(outdir, names=None) -> None:
    """Run ``state_files/study_figures.py`` in pvbatch on OUTDIR (PNG and state file of each figure)."""
    import subprocess
    exe = _pvbatch()
    script = exe.resolve().parents[1] / "state_files" / "study_figures.py"
    proc = subprocess.run([str(exe), "--render", str(script), str(outdir), *(names or [])], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise RuntimeError(f"pvbatch {script} failed (exit {proc.returncode}):\n{tail}")


def cmd_figures(args) -> dict:
    """`electrovox figures`: every figure of the study, as CSV, PNG and ParaView state file, in OUTDIR."""
    from electrovox.solvers.study.figures import FIGURES, make_figures, study_sample
    outdir = run_outdir(args.outdir)
    only = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else None
    if only:
        bad = [n for n in only if n not in FIGURES]
        if bad:
            raise BadInput("--only", f"unknown figure group(s) {', '.join(bad)}", "use any of " + ", ".join(FIGURES))
    if args.sample:
        vol = read_input(args, args.sample, labels=True)
    else:
        vol = study_sample(legend=args.legend, voxel_um=args.voxel_um)
    if not args.no_render:
        _pvbatch()                                  # refuse before hours of solving, not after
    with cli_bar("figures", quiet=args.quiet) as bar:
        info = make_figures(outdir, quick=args.quick, sample=vol, only=only, progress=bar)
    if not args.no_render:
        render_figures(outdir)
    figs = [{"name": f["name"], "title": f["title"], "csv": str(outdir / f["csv"]),
             "png": None if args.no_render else str(outdir / (f["name"] + ".png")),
             "state": None if args.no_render else str(outdir / (f["name"] + ".pvsm")), "study": f["study"]}
            for f in info["figures"]]
    if not args.json:
        for f in figs:
            print(f"{f['name']:8} {f['png'] or f['csv']}  ({f['title']})")
        print(f"{len(figs)} figures in {outdir} ({'quick' if args.quick else 'full'} set, data "
              f"{info['wall_s']:.0f} s)")
    return {"outdir": str(outdir), "quick": args.quick, "figures": figs, "timings_s": info["timings_s"],
            "data_wall_s": info["wall_s"], "sample": info["sample"]}


def add_parsers(sub) -> None:
    """Add ``scenarios``, ``thickness`` and ``figures`` to the top-level subparsers."""
    q = sub.add_parser("scenarios", help="the study's five discharge scenarios (pristine, CEI, thick CEI, clogging)",
                       description="Discharge LABELS five times with one parameter set, changing only the "
                                   "scenario: pristine, cei (heterogeneous CEI, thicker toward the separator), "
                                   "thick_cei (twice as thick), cei_cbd_clogging (no Li+ through the CBD), "
                                   "cei_full_clogging (and the pores' tortuosity doubled). OUTDIR/<scenario>/ "
                                   "holds each run folder (resumed when unfinished); OUTDIR/scenarios.csv the "
                                   "table (capacity at the cut-off, mean overpotential against pristine, "
                                   "lithiation and electrolyte differences top - bottom at the end), "
                                   "curves.csv and end_profiles.csv the curves of Fig. 4B, 4C and 5, and (with "
                                   "ParaView) the charts fig4b, fig4c, fig5 and the 3D lithiation fig4d (pristine), "
                                   "fig4e (thick CEI) as NAME.{csv,png,pvsm}.")
    q.add_argument("file", metavar="LABELS")
    q.add_argument("outdir", metavar="OUTDIR")
    SCENARIO_RUN.add_to(q)
    q.add_argument("--params", metavar="FILE.json", help="the physical parameters as a BPX file (default: "
                   "`electrovox params show`), the same for every scenario")
    q.add_argument("--no-render", action="store_true", help="tables only (no ParaView charts)")
    add_input_options(q)
    add_common(q)
    q.set_defaults(func=cmd_scenarios, paramsets=[SCENARIO_RUN, READ])

    t = sub.add_parser("thickness", help="specific capacity against electrode thickness (synthetic electrodes)",
                       description="Generate synthetic electrodes of each thickness with the same generator "
                                   "set-up and seed (only the thickness changes), discharge each at the C-rate "
                                   "to the cut-off with one parameter set, and write OUTDIR/thickness.csv and a "
                                   "run folder OUTDIR/L<thickness>um/ per electrode (the study's Fig. S9).")
    t.add_argument("outdir", metavar="OUTDIR")
    THICKNESS.add_to(t)
    t.add_argument("--params", metavar="FILE.json", help="the physical parameters as a BPX file")
    add_common(t)
    t.set_defaults(func=cmd_thickness, paramsets=[THICKNESS])

    f = sub.add_parser("figures", help="every figure of the study: CSV, PNG and ParaView state file",
                       description="Regenerate the study's figures from scratch on the sample (default: the NREL "
                                   "NMC volume in ../shared/data/real; --sample another) and on synthetic "
                                   "electrodes: Fig. 1C/1D, 2C/2D, S6, Table S1, S7, 4B-4E, 5, S9, 6E/6F. Each "
                                   "figure as OUTDIR/NAME.csv, NAME.png and NAME.pvsm (reopens it in the GUI "
                                   "from the files on disk, no re-solve); solver runs in OUTDIR/runs/ (resumed "
                                   "when unfinished); OUTDIR/figures.json describes them.")
    f.add_argument("outdir", metavar="OUTDIR")
    f.add_argument("--quick", action="store_true", help="reduced sizes: minutes on two cores (CI, tests)")
    f.add_argument("--sample", metavar="LABELS", help="the label volume (default: the repository's sample)")
    f.add_argument("--only", metavar="NAMES", help="comma-separated figure groups: " + ", ".join(
        ["fig1c", "fig1d", "figs6", "fig2", "tables1", "figs7", "fig4b", "fig4c", "fig4d", "fig4e", "fig5", "figs9",
         "fig6"]))
    f.add_argument("--no-render", action="store_true", help="CSV and figures.json only (no ParaView)")
    add_input_options(f)
    add_common(f)
    f.set_defaults(func=cmd_figures, paramsets=[READ])
