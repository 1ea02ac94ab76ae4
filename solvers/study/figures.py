"""The study's figures from scratch: each figure's data as a CSV and a chart/volume description.

:func:`make_figures` runs the project's cores (quantification, phantoms and cycling, flow,
impregnation, the discharge scenarios, the thickness study, CBD connectivity) on the sample and
on synthetic electrodes, and writes into OUTDIR, per figure ``NAME``:

* ``NAME.csv``: the numbers plotted (with the study's own numbers where the study gives them);
* for 3D figures, the volume it shows (a ``.vti`` written here, or a discharge frame in its run
  folder);
* an entry of ``figures.json``: kind (``line``, ``bar``, ``volume``), title, the series (x and y
  columns), axis titles, and for volumes the file, array and a fixed colour range.

The ParaView script ``state_files/study_figures.py`` turns each entry into ``NAME.png`` and
``NAME.pvsm`` (the state reopens the figure from these files: nothing is solved again).

``quick=True`` uses reduced sizes (coarser voxels, smaller crops and phantoms, fewer lattice
steps) so the whole set takes minutes on two cores; the full set runs the study's sizes where the
machine allows (see :data:`SIZES`).  No parameter is fitted to the study's numbers: every input
is the project's default or the sample itself.

Numpy in, files out; no VTK.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from electrovox.errors import BadInput
from electrovox.io.atomic import write_csv

__all__ = ["FIGURES", "SIZES", "STUDY", "FigureSpec", "make_figures", "scenario_figures", "study_sample"]

#: the study's numbers (Zhang, Chouchane et al., Joule 2023; ../shared/reference/paper-numbers.md)
STUDY = {
    "fractions": {"pore": 0.29, "cbd": 0.09, "am": 0.58, "crack": 0.04},
    "crack_change": {"4.4V": 0.09, "4.7V": 0.24},
    "contact_change": {"4.4V": -0.10, "4.7V": -0.20},
    "flow_tortuosity": 1.5,
    "wetting": {"saturation": 0.97, "time_s": 40.0},
    "capacity_mAh_g": {"pristine": 120.0, "cei": 100.0, "thick_cei": 92.7, "cei_cbd_clogging": 100.0,
                       "cei_full_clogging": 100.0},
    "overpotential_mV": {"cei": 43.8, "thick_cei": 79.4},
    "electrolyte_top_minus_bottom": {"pristine": 0.08, "cei_cbd_clogging": 0.15, "cei_full_clogging": 0.50},
    "thickness_240_vs_80": 0.70,
    "largest_cbd_aggregate": {"slurry": 0.236, "dry": 0.57},
}

#: sizes of each part: (quick, full)
SIZES = {
    "scenario_box_um": ((30.0, 16.0, 16.0), (71.5, 33.0, 33.0)),   # z, y, x from the collector corner
    "scenario_voxel_um": (2.0, 1.0),
    "impregnation_box_um": ((20.0, 10.0, 10.0), (70.0, 33.0, 33.0)),
    "impregnation_voxel_um": (1.0, 1.2),
    "impregnation_steps": (3000, 100_000),
    "phantom_size_um": ((24.0, 20.0, 20.0), (40.0, 32.0, 32.0)),   # z, y, x
    "phantom_voxel_um": (0.4, 0.2),
    "flow_voxel_um": (0.8, 0.4),
    "flow_axes": (("z",), ("x", "y", "z")),
    # quick: 10 um columns need the 5 um particles of a narrower size distribution to hold a few
    # particles across (with the study's 10 um ones the pores do not percolate across so thin a box)
    "thickness_lateral_um": (10.0, 30.0),
    "thickness_voxel_um": (1.0, 1.0),
    "thickness_d50_um": (5.0, 10.0),
    "cbd_size_um": ((16.0, 16.0, 16.0), (30.0, 30.0, 30.0)),
    "cbd_voxel_um": (0.4, 0.25),
    "rev_metrics": ("fractions", None),
}


@dataclass
class FigureSpec:
    """What one figure shows (an entry of ``figures.json``).

    Attributes
    ----------
    name, title : str
        File stem (``fig4b``) and title.
    kind : str
        ``line``, ``bar`` or ``volume``.
    csv : str
        The CSV file (name inside OUTDIR).
    series : list of [x column, y column, legend label]
        Chart series (line and bar charts).
    x_title, y_title : str
        Axis titles with units.
    volume : str
        Volume file (``.vti``), absolute or inside OUTDIR (volume figures).
    array : str
        Point array coloured (volume figures).
    color_range : list of 2 float
        Fixed colour range (volume figures).
    categorical : bool
        One colour per integer value (aggregate ids).
    study : str
        The study's finding this figure is compared with.
    """

    name: str
    title: str
    kind: str
    csv: str
    series: list = field(default_factory=list)
    x_title: str = ""
    y_title: str = ""
    volume: str = ""
    array: str = ""
    color_range: list = field(default_factory=list)
    categorical: bool = False
    study: str = ""


class _Ctx:
    """What the figure functions share: the sample, the size set, OUTDIR, caches, progress."""

    def __init__(self, outdir: Path, quick: bool, sample, progress):
        self.out, self.quick, self.sample, self.progress = outdir, quick, sample, progress
        self.cache: dict = {}
        self.scenario_dir = outdir / "runs" / "scenarios"

    def size(self, key):
        return SIZES[key][0 if self.quick else 1]

    def table(self, name, header, rows) -> str:
        write_csv(self.out / f"{name}.csv", header,
                  ([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in row] for row in rows))
        return f"{name}.csv"


def study_sample(path=None, legend=None, voxel_um=None):
    """The sample the figures are made on: a label volume with legend and voxel size.

    Default: the NREL NMC volume of ``../shared/data/real`` (legend 0 = pore, 1 = am, 2 = cbd, 0.398 um
    voxels, from its PROVENANCE.md) when the repository has it beside it; else ``path`` must be
    given.

    Returns
    -------
    Volume
    """
    from electrovox.io import read_volume
    from electrovox.phases import parse_legend
    from electrovox.volume import voxel_um_to_spacing
    if path is None:
        root = Path(__file__).resolve().parents[2]
        default = root.parent / "shared" / "data" / "real" / "nmc-1-cal_generatedCBD_bridge.tif"
        if not default.is_file():
            raise BadInput("--sample", f"not given, and the default sample {default} is not there",
                           "give --sample LABELS (with --legend and --voxel-um when the file lacks them)")
        path, legend, voxel_um = default, legend or "0=pore,1=am,2=cbd", voxel_um or [0.398]
    lg = parse_legend(legend, source="--legend") if isinstance(legend, str) else legend
    return read_volume(path, spacing=voxel_um_to_spacing(voxel_um) if voxel_um else None, legend=lg, labels=True)


def _crop_um(vol, box_um):
    n = [min(s, max(1, int(round(b / d)))) for s, b, d in zip(vol.array.shape, box_um, vol.spacing, strict=True)]
    return np.ascontiguousarray(vol.array[:n[0], :n[1], :n[2]])


# -- Fig. 1: fractions and profiles of the sample ------------------------------------------------
def fig1c(c: _Ctx) -> list[FigureSpec]:
    from electrovox.filters.quantify.fractions import volume_fractions
    f = volume_fractions(c.sample.array, c.sample.legend)
    names = [n for n in ("pore", "am", "cbd", "crack") if n in f]
    rows = [(i, n, f[n], STUDY["fractions"].get(n, np.nan)) for i, n in enumerate(names)]
    csv = c.table("fig1c", ("index", "phase", "electrovox", "study"), rows)
    return [FigureSpec("fig1c", "Fig. 1C: volume fractions (sample vs study)", "bar", csv,
                       [["index", "electrovox", "ElectroVox (sample)"], ["index", "study", "study (PFIB-SEM)"]],
                       "phase (" + ", ".join(f"{i} {n}" for i, n in enumerate(names)) + ")", "volume fraction",
                       study="29 % pores, 9 % CBD, 58 % NMC, 4 % cracks")]


def fig1d(c: _Ctx) -> list[FigureSpec]:
    from electrovox.filters.quantify.fractions import profiles
    t = profiles(c.sample.array, c.sample.legend, c.sample.spacing, axis="z", bin_um=2.0)
    phases = [n for n in ("pore", "am", "cbd", "crack") if n in t]
    zcol = next(k for k in t if k.startswith("z"))
    rows = zip(t[zcol], *[t[p] for p in phases], strict=True)
    csv = c.table("fig1d", ("z_um", *phases), rows)
    return [FigureSpec("fig1d", "Fig. 1D: phase fractions against distance from the current collector", "line", csv,
                       [["z_um", p, p] for p in phases], "distance from the current collector (um)",
                       "volume fraction", study="CBD even; NMC deviates from its mean ~50 um from the collector")]


def figs6(c: _Ctx) -> list[FigureSpec]:
    from electrovox.filters.quantify.rev import representative_volume
    t = representative_volume(c.sample.array, c.sample.legend, c.sample.spacing, metrics=c.size("rev_metrics"),
                              mode="random", n_random=4 if c.quick else 8, seed=0)
    cols = ["edge_um"] + [k for k in t if k.endswith(".mean") or k.endswith(".std")]
    csv = c.table("figs6", cols, zip(*[t[k] for k in cols], strict=True))
    means = [k for k in cols if k.endswith(".mean")]
    return [FigureSpec("figs6", "Fig. S6: representative volume (metric against sub-volume edge)", "line", csv,
                       [["edge_um", k, k.replace(".mean", "")] for k in means], "sub-volume edge (um)",
                       "metric (mean of random sub-volumes)",
                       study="the 108 x 33 x 72 um volume is representative (fractions level off)")]


# -- Fig. 2 and Table S1: cycled phantoms --------------------------------------------------------
def _phantoms(c: _Ctx) -> dict:
    """Pristine and cycled synthetic electrodes (the study's 4.4 V and 4.7 V damage)."""
    if "phantoms" in c.cache:
        return c.cache["phantoms"]
    from electrovox.solvers.phantoms.cycling import cycle_electrode
    from electrovox.solvers.phantoms.electrode import generate_electrode
    sp = (c.size("phantom_voxel_um"),) * 3
    g = generate_electrode(size_um=c.size("phantom_size_um"), spacing=sp, seed=1)
    vols = {"pristine": g["labels"]}
    grain = g["report"].get("parameters", {}).get("sub_seeds", {}).get("cracks")
    for i, (name, growth, loss) in enumerate((("4.4V", 0.09, 0.10), ("4.7V", 0.24, 0.20))):
        vols[name] = cycle_electrode(g["labels"], sp, crack_growth=growth, contact_loss=loss, seed=2 + i,
                                     particles=g["particles"], grain_seed=grain)["labels"]
    c.cache["phantoms"] = (vols, sp)
    return c.cache["phantoms"]


def fig2(c: _Ctx) -> list[FigureSpec]:
    from electrovox.filters.quantify.fractions import crack_fraction
    from electrovox.filters.quantify.surfaces import contact_fraction_am_cbd
    from electrovox.phases import DEFAULT_LEGEND
    vols, sp = _phantoms(c)
    cr = {k: crack_fraction(v, DEFAULT_LEGEND) for k, v in vols.items()}
    co = {k: contact_fraction_am_cbd(v, DEFAULT_LEGEND, sp) for k, v in vols.items()}
    rows = [(i, k, cr[k], cr[k] / cr["pristine"] - 1, STUDY["crack_change"].get(k, 0.0), co[k],
             co[k] / co["pristine"] - 1, STUDY["contact_change"].get(k, 0.0)) for i, k in enumerate(vols)]
    hdr = ("index", "state", "crack_fraction", "crack_change", "crack_change_study", "contact_fraction",
           "contact_change", "contact_change_study")
    csv2c = c.table("fig2c", hdr, rows)
    csv2d = c.table("fig2d", hdr, rows)
    x = "state (0 pristine, 1 after 15 cycles to 4.4 V, 2 to 4.7 V)"
    note = ("the cycled phantoms are built to the study's relative changes; the bars are what the "
            "independent quantification measures on them")
    return [FigureSpec("fig2c", "Fig. 2C: crack volume (of the particles) after cycling, relative change", "bar",
                       csv2c, [["index", "crack_change", "ElectroVox"], ["index", "crack_change_study", "study"]], x,
                       "relative change of the crack fraction", study="+9 % (4.4 V), +24 % (4.7 V); " + note),
            FigureSpec("fig2d", "Fig. 2D: NMC-CBD contact (of the particle surface) after cycling, relative change",
                       "bar", csv2d, [["index", "contact_change", "ElectroVox"],
                                      ["index", "contact_change_study", "study"]], x,
                       "relative change of the contact fraction", study="-10 % (4.4 V), -20 % (4.7 V); " + note)]


def tables1(c: _Ctx) -> list[FigureSpec]:
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.flow.permeability import permeability
    vols, sp = _phantoms(c)
    rows, i = [], 0
    for state, lab in vols.items():
        for ax in c.size("flow_axes"):
            r = permeability(lab, DEFAULT_LEGEND, sp, ax, resample_um=c.size("flow_voxel_um"))
            rows.append((i, state, ax, r["permeability_m2"], r["flow_tortuosity"], STUDY["flow_tortuosity"]))
            i += 1
    csv = c.table("tables1", ("index", "state", "axis", "permeability_m2", "flow_tortuosity",
                              "flow_tortuosity_study"), rows)
    return [FigureSpec("tables1", "Table S1: flow tortuosity, pristine and cycled", "bar", csv,
                       [["index", "flow_tortuosity", "ElectroVox"], ["index", "flow_tortuosity_study", "study"]],
                       "run (" + ", ".join(f"{r[0]} {r[1]} {r[2]}" for r in rows) + ")", "flow tortuosity",
                       study="pristine ~1.5, not significantly changed after cycling")]


# -- Fig. S7: impregnation -----------------------------------------------------------------------
def figs7(c: _Ctx) -> list[FigureSpec]:
    from electrovox.solvers.flow.impregnation import impregnate, write_tables
    lab = _crop_um(c.sample, c.size("impregnation_box_um"))
    run = c.out / "runs" / "impregnation"
    r = impregnate(lab, c.sample.legend, c.sample.spacing, resample_um=c.size("impregnation_voxel_um"),
                   max_steps=c.size("impregnation_steps"), run_dir=run)
    write_tables(run, r)
    h = r["history"]
    csv = c.table("figs7", ("time_s", "time_dimensionless", "saturation", "study_97pct"),
                  zip(h["time_s"], h["time_dimensionless"], h["saturation"], [0.97] * len(h["time_s"]), strict=True))
    c.cache["impregnation"] = r
    return [FigureSpec("figs7", "Fig. S7: electrolyte saturation of the pores against time", "line", csv,
                       [["time_s", "saturation", "ElectroVox"], ["time_s", "study_97pct", "97 % (study: < 40 s)"]],
                       "time (s)", "saturation", study="> 97 % of the pores wetted within 40 s")]


# -- Fig. 4 and 5: the discharge scenarios --------------------------------------------------------
def _scenarios(c: _Ctx) -> dict:
    if "scenarios" not in c.cache:
        from electrovox.solvers.echem.scenarios import run_scenarios, write_scenario_tables
        lab = _crop_um(c.sample, c.size("scenario_box_um"))
        out = run_scenarios(lab, c.sample.legend, c.sample.spacing, c.scenario_dir,
                            resample_um=c.size("scenario_voxel_um"))
        write_scenario_tables(c.scenario_dir, out)
        c.cache["scenarios"] = out
    return c.cache["scenarios"]


def _wide(c: _Ctx, name, per: dict, cols: tuple[str, ...]) -> str:
    """One table, two columns per scenario (``<col>_<scenario>``), padded with NaN."""
    n = max(len(v[cols[0]]) for v in per.values())
    header, data = [], []
    for s, v in per.items():
        for col in cols:
            header.append(f"{col}_{s}")
            a = np.full(n, np.nan)
            a[:len(v[col])] = v[col]
            data.append(a)
    return c.table(name, header, zip(*data, strict=True))


def fig4b(c: _Ctx) -> list[FigureSpec]:
    out = _scenarios(c)
    per = {s: {"capacity_mAh_g": r["history"]["capacity_mAh_g"], "voltage_V": r["history"]["voltage_V"]}
           for s, r in out["results"].items()}
    csv = _wide(c, "fig4b", per, ("capacity_mAh_g", "voltage_V"))
    return [FigureSpec("fig4b", "Fig. 4B: discharge curves at C/2 (five scenarios)", "line", csv,
                       [[f"capacity_mAh_g_{s}", f"voltage_V_{s}", s] for s in per], "capacity (mAh/g)",
                       "voltage (V)", study="pristine 120, CEI ~100, thick CEI 92.7 mAh/g at 3.5 V")]


def _profile_fig(c: _Ctx, name, col, title, ytitle, study) -> list[FigureSpec]:
    from electrovox.solvers.echem.scenarios import end_profiles
    out = _scenarios(c)
    per = {}
    for s, r in out["results"].items():
        p = end_profiles(r)
        per[s] = {"z_um": p["z_um"], col: p[col]}
    csv = _wide(c, name, per, ("z_um", col))
    return [FigureSpec(name, title, "line", csv, [[f"z_um_{s}", f"{col}_{s}", s] for s in per],
                       "distance from the current collector (um)", ytitle, study=study)]


def fig4c(c: _Ctx) -> list[FigureSpec]:
    return _profile_fig(c, "fig4c", "lithiation", "Fig. 4C: lithiation at the end of discharge against depth",
                        "mean lithiation x = c/c_max",
                        "gradient steepest with thick CEI, mildest pristine; separator side poorly used")


def fig5(c: _Ctx) -> list[FigureSpec]:
    return _profile_fig(c, "fig5", "electrolyte_mol_m3", "Fig. 5: electrolyte Li+ concentration at the end of "
                        "discharge against depth", "Li+ concentration (mol/m3)",
                        "top - bottom difference ~8 % (no clogging), ~15 % (CBD), ~50 % (full clogging)")


def _volume_fig(c: _Ctx, name, scenario, title, study) -> list[FigureSpec]:
    from electrovox.io.pvd import read_pvd
    from electrovox.solvers.echem.scenarios import end_profiles
    out = _scenarios(c)
    frames = read_pvd(c.scenario_dir / scenario / "fields.pvd")
    lo = min(float(np.nanmin(r["fields"]["lithiation"])) for r in out["results"].values())
    hi = max(float(np.nanmax(r["fields"]["lithiation"])) for r in out["results"].values())
    p = end_profiles(out["results"][scenario])
    csv = c.table(name, ("z_um", "lithiation"), zip(p["z_um"], p["lithiation"], strict=True))
    return [FigureSpec(name, title, "volume", csv, [["z_um", "lithiation", scenario]], "", "lithiation x",
                       volume=str(frames[-1][1]), array="lithiation", color_range=[lo, hi], study=study)]


def fig4d(c: _Ctx) -> list[FigureSpec]:
    return _volume_fig(c, "fig4d", "pristine", "Fig. 4D: lithiation at the end of discharge, pristine",
                       "mild gradient along the thickness")


def fig4e(c: _Ctx) -> list[FigureSpec]:
    return _volume_fig(c, "fig4e", "thick_cei", "Fig. 4E: lithiation at the end of discharge, thick CEI",
                       "upper half (separator side) poorly utilised")


# -- Fig. S9: thickness study --------------------------------------------------------------------
def figs9(c: _Ctx) -> list[FigureSpec]:
    from electrovox.solvers.echem.thickness import thickness_study, write_thickness_table
    out = thickness_study(lateral_um=c.size("thickness_lateral_um"), voxel_um=c.size("thickness_voxel_um"),
                          phantom={"d50_um": c.size("thickness_d50_um")}, outdir=c.out / "runs" / "thickness")
    write_thickness_table(c.out / "runs" / "thickness" / "thickness.csv", out)
    study = {80.0: 1.0, 160.0: 1.0, 240.0: STUDY["thickness_240_vs_80"]}
    rows = [(r["thickness_um"], r["capacity_mAh_g"], r["relative_to_thinnest"], study.get(r["thickness_um"], np.nan))
            for r in out["rows"]]
    csv = c.table("figs9", ("thickness_um", "capacity_mAh_g", "relative_to_thinnest", "relative_study"), rows)
    return [FigureSpec("figs9", "Fig. S9: specific capacity at C/3 against electrode thickness", "line", csv,
                       [["thickness_um", "relative_to_thinnest", "ElectroVox"],
                        ["thickness_um", "relative_study", "study"]], "electrode thickness (um)",
                       "capacity relative to the thinnest",
                       study="240 um ~30 % below 80 and 160 um")]


# -- Fig. 6E/F: CBD connectivity, slurry against dry ---------------------------------------------
def fig6(c: _Ctx) -> list[FigureSpec]:
    from electrovox.filters.quantify.connectivity import components
    from electrovox.io.vti_xml import write_vti_xml
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.phantoms.electrode import generate_electrode
    sp = (c.size("cbd_voxel_um"),) * 3
    cbd_id = next(k for k, v in DEFAULT_LEGEND.items() if v == "cbd")
    specs, rows = [], []
    for i, (name, morph) in enumerate((("fig6e", "slurry"), ("fig6f", "dry"))):
        lab = generate_electrode(size_um=c.size("cbd_size_um"), spacing=sp, seed=1, cbd_morphology=morph)["labels"]
        ids, sizes = components(lab == cbd_id, 6)
        share = float(sizes[0] / sizes.sum()) if sizes.size else 0.0
        # shuffle the ids (keeping 0 = no CBD) so that neighbouring aggregates get distant colours
        perm = np.concatenate([[0], np.random.default_rng(0).permutation(sizes.size) + 1]).astype(np.int32)
        write_vti_xml(c.out / f"{name}.vti", {"aggregate": perm[ids], "largest": (ids == 1).astype(np.uint8)},
                      sp, field={"largest_share": repr(share)})
        rows.append((i, morph, sizes.size, share, STUDY["largest_cbd_aggregate"][morph]))
        specs.append(FigureSpec(name, f"Fig. 6{'EF'[i]}: CBD aggregates, {morph} ({100 * share:.1f} % of the CBD "
                                      "in the largest)", "volume", f"{name}.csv", x_title="", y_title="aggregate",
                                volume=f"{name}.vti", array="aggregate", color_range=[1.0, float(max(1, sizes.size))],
                                categorical=True,
                                study=f"largest aggregate {100 * STUDY['largest_cbd_aggregate'][morph]:.1f} % "
                                      f"of the CBD ({morph})"))
    for s in specs:
        c.table(s.name, ("index", "morphology", "aggregates", "largest_share", "largest_share_study"), rows)
    return specs


#: figure group -> function (a group writes one or more figures)
FIGURES = {"fig1c": fig1c, "fig1d": fig1d, "figs6": figs6, "fig2": fig2, "tables1": tables1, "figs7": figs7,
           "fig4b": fig4b, "fig4c": fig4c, "fig4d": fig4d, "fig4e": fig4e, "fig5": fig5, "figs9": figs9,
           "fig6": fig6}


def _write_info(outdir: Path, info: dict) -> None:
    tmp = outdir / "figures.json.part"
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(outdir / "figures.json")


def _absolute(specs: list[dict], outdir: Path) -> list[dict]:
    for s in specs:                              # volumes inside OUTDIR are named relative to it
        if s["volume"] and not Path(s["volume"]).is_absolute():
            s["volume"] = str((outdir / s["volume"]).resolve())
    return specs


def scenario_figures(outdir, out: dict) -> list[dict]:
    """Fig. 4B-4E and 5 of a finished :func:`~electrovox.solvers.echem.scenarios.run_scenarios` set.

    Parameters
    ----------
    outdir : str or Path
        The scenarios' OUTDIR (run folders ``<scenario>/`` inside it); the figures' CSVs and
        ``figures.json`` are written there too.
    out : dict
        What ``run_scenarios`` returned (it must hold the pristine and thick_cei runs for 4D/4E).

    Returns
    -------
    list of dict
        The :class:`FigureSpec` entries written to ``figures.json``.
    """
    outdir = Path(outdir)
    ctx = _Ctx(outdir, False, None, None)
    ctx.cache["scenarios"], ctx.scenario_dir = out, outdir
    groups = [fig4b, fig4c, fig5] + [f for f, s in ((fig4d, "pristine"), (fig4e, "thick_cei")) if s in out["results"]]
    specs = _absolute([asdict(s) for g in groups for s in g(ctx)], outdir)
    _write_info(outdir, {"figures": specs})
    return specs


def make_figures(outdir, *, quick: bool = False, sample=None, only=None, progress=None) -> dict:
    """Compute every figure's data into ``outdir`` and describe it in ``outdir/figures.json``.

    Parameters
    ----------
    outdir : str or Path
        Output folder (created); run folders of the solvers go to ``outdir/runs/`` and are resumed.
    quick : bool
        Reduced sizes (:data:`SIZES`), minutes on two cores.
    sample : Volume, optional
        The label volume (default :func:`study_sample`).
    only : list of str, optional
        Figure groups of :data:`FIGURES` to make (default all).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    dict
        ``figures`` (list of :class:`FigureSpec` as dicts), ``timings_s`` (group -> wall time),
        ``wall_s``, ``quick``, ``sample`` (shape, voxel, legend).
    """
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise BadInput(outdir, "is a file, not a folder", "give a folder as OUTDIR")
    names = list(only) if only else list(FIGURES)
    bad = [n for n in names if n not in FIGURES]
    if bad:
        raise BadInput("--only", f"unknown figure(s) {', '.join(bad)}", "use any of " + ", ".join(FIGURES))
    outdir.mkdir(parents=True, exist_ok=True)
    vol = sample if sample is not None else study_sample()
    ctx = _Ctx(outdir, quick, vol, progress)
    specs, timings, t_all = [], {}, time.perf_counter()
    for i, n in enumerate(names):
        if progress is not None:
            progress(i / len(names), f"figures: {n}")
        t0 = time.perf_counter()
        specs += [asdict(s) for s in FIGURES[n](ctx)]
        timings[n] = time.perf_counter() - t0
    info = {"figures": _absolute(specs, outdir), "timings_s": timings, "wall_s": time.perf_counter() - t_all,
            "quick": quick,
            "sample": {"shape": list(vol.array.shape), "voxel_um": list(vol.spacing),
                       "legend": {str(k): v for k, v in vol.legend.items()}}}
    _write_info(outdir, info)
    if progress is not None:
        progress(1.0, "figures: data done")
    return info
