"""The study reproduced: discharge scenarios, the thickness study and the figures' data.

References: the Ohmic drop j R of a uniform CEI film (analytic: a slab reacting through its top
face only carries the same current density on every face); slab means of linear profiles
(arithmetic); the study's scenario switches (each run's parameter file differs from pristine's
only in them); porous-electrode theory's limits for thickness (at a low rate every thickness is
used fully, at a high rate the thick one loses); the phantom's truth and scipy's labelling for the
figures' numbers.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import run_cli
from scipy import ndimage

from electrovox.io import write_volume
from electrovox.phases import DEFAULT_LEGEND
from electrovox.solvers.echem.discharge import discharge
from electrovox.solvers.echem.parameters import default_parameters
from electrovox.solvers.echem.scenarios import SCENARIOS, mean_voltage_gap_mV, run_scenarios, scenario_metrics
from electrovox.solvers.echem.thickness import thickness_study
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.volume import Volume


def _fake(z, lith, ce, q, v, cap=None):
    return {"profiles": {"time_s": np.array([1.0]), "z_um": z, "lithiation": lith[None],
                         "electrolyte_mol_m3": ce[None]},
            "history": {"capacity_mAh_g": q, "voltage_V": v}, "capacity_mAh_g": cap or float(q[-1]),
            "mean_overpotential_mV": 0.0, "cutoff_reached": True}


def test_metrics_of_linear_profiles_and_offset_curves_are_exact():
    """Ten layers, x = 0.3 + 0.01 z and c = 1000 - 10 z: the top and bottom tenths are the last
    and first layer, so x_top - x_bot = 0.09 and (c_top - c_bot)/c_top = -90/905; curves 50 mV
    apart give 50 mV over the capacity both reach (to rounding: 1e-9)."""
    z = np.arange(10) + 0.5
    q = np.linspace(0, 150, 31)
    v = 4.2 - 0.004 * q
    ref = _fake(z, 0.3 + 0.01 * z, 1000 - 10 * z, q, v)
    low = _fake(z, 0.3 + 0.01 * z, 1000 - 10 * z, q[:25], v[:25] - 0.05)
    rows = {r["scenario"]: r for r in scenario_metrics({"pristine": ref, "film": low})}
    assert rows["pristine"]["mean_overpotential_mV"] == 0.0
    assert rows["film"]["mean_overpotential_mV"] == pytest.approx(50.0, rel=1e-9)
    assert rows["film"]["lithiation_top_minus_bottom"] == pytest.approx(0.09, rel=1e-9)
    assert rows["film"]["electrolyte_top_minus_bottom"] == pytest.approx((905.0 - 995.0) / 905.0, rel=1e-9)
    # a curve that ends earlier is compared only where both exist: the offset stays 50 mV
    assert mean_voltage_gap_mV({"capacity_mAh_g": q, "voltage_V": v},
                               {"capacity_mAh_g": q[:5], "voltage_V": v[:5] - 0.05}) == pytest.approx(50.0)


def test_uniform_film_gap_is_its_ohmic_drop_over_the_whole_discharge():
    """A uniform CEI lowers the whole discharge curve by j R_film (R = thickness / film
    conductivity, j = I / reacting area): the scenario metric reads it back within 0.2 %.  The
    slab on the collector reacts through its top face only, so every face carries j at every time
    with or without the film; both runs share the fixed output times, so the two curves are
    compared node for node except in the film run's last interval, which ends at its cut-off
    (interpolation error there: well under 0.2 % of the mean)."""
    lab = np.zeros((6, 3, 3), np.uint8)
    lab[0] = 2
    p = default_parameters()
    runs = {m: discharge(lab, {0: "pore", 2: "am"}, 1.0, params=p.with_values({"cei.thickness_mode": m}),
                         area_factor=1.0, output_rows=40, frames=1) for m in ("none", "uniform")}
    thick = 0.5 * (p.cei.thickness_collector_m + p.cei.thickness_separator_m)
    j = runs["none"]["current_A"] / (3 * 3 * 1e-12)
    gap = scenario_metrics({"pristine": runs["none"], "uniform": runs["uniform"]})[1]["mean_overpotential_mV"]
    assert gap == pytest.approx(1e3 * j * thick / p.cei.conductivity_S_m, rel=2e-3)
    assert runs["uniform"]["capacity_mAh_g"] < runs["none"]["capacity_mAh_g"]


@pytest.fixture(scope="module")
def scenario_set(tmp_path_factory):
    """The five scenarios on a 24 x 10 x 10 um synthetic electrode at 1 um (20 rows per C/2)."""
    d = tmp_path_factory.mktemp("scen")
    lab = generate_electrode((24, 10, 10), (1.0, 1.0, 1.0), seed=3, d50_um=5.0)["labels"]
    out = run_scenarios(lab, DEFAULT_LEGEND, 1.0, d, output_rows=20, frames=1)
    return d, lab, out


def test_scenarios_show_the_studys_trends(scenario_set):
    """Only the interphase changes, and each change has its physical sign: the CEI costs capacity
    and adds overpotential, doubling its thickness costs more and adds at most twice as much (the
    film's Ohmic drop doubles on every face; current moving to thinner films can only lower it;
    0.05 for the solver's tolerances); clogging the CBD, then halving the pores' transport, each
    steepen the electrolyte's top-bottom difference and cost capacity against the CEI alone."""
    _, _, out = scenario_set
    t = {r["scenario"]: r for r in out["table"]}
    assert list(t) == list(SCENARIOS)
    q = {k: r["capacity_mAh_g"] for k, r in t.items()}
    assert q["pristine"] > q["cei"] > q["thick_cei"]
    assert q["cei"] > q["cei_cbd_clogging"] and q["cei"] > q["cei_full_clogging"]
    eta = {k: r["mean_overpotential_mV"] for k, r in t.items()}
    assert eta["pristine"] == 0.0 and 0.0 < eta["cei"] < eta["thick_cei"] <= 2.05 * eta["cei"]
    de = {k: r["electrolyte_top_minus_bottom"] for k, r in t.items()}
    assert de["cei_full_clogging"] > de["cei_cbd_clogging"] > de["cei"] > 0.0
    assert all(r["cutoff_reached"] for r in t.values())


def test_scenarios_change_only_their_own_switches(scenario_set):
    """Each run's parameter file (BPX) equals pristine's except the CEI mode and scale, and its run
    configuration differs only in the clogging switch: nothing is tuned per scenario."""
    from electrovox.solvers.echem.bpx import read_bpx
    d, _, _ = scenario_set
    flat = {s: {k: v for k, v, _ in read_bpx(d / s / "params.json").fields()} for s in SCENARIOS}
    for s, sw in SCENARIOS.items():
        diff = {k for k in flat[s] if flat[s][k] != flat["pristine"][k]}
        expect = {k for k, v in (("cei.thickness_mode", sw["cei"]), ("cei.thickness_scale", sw["cei_scale"]))
                  if flat["pristine"][k] != v}
        assert diff == expect, (s, diff)
        cfg = json.loads((d / s / "run.json").read_text())["config"]
        ref = json.loads((d / "pristine" / "run.json").read_text())["config"]
        assert {k for k in cfg if cfg[k] != ref[k] and k != "params"} <= {"clogging"}, s
        assert cfg["clogging"] == sw["clogging"]


def test_scenario_table_files_equal_the_results(scenario_set, tmp_path):
    """scenarios.csv holds the returned table; curves.csv each run's discharge curve row for row."""
    from electrovox.solvers.echem.scenarios import write_scenario_tables
    _, _, out = scenario_set
    files = write_scenario_tables(tmp_path, out)
    rows = list(csv.DictReader(open(files["table"])))
    assert [r["scenario"] for r in rows] == list(SCENARIOS)
    for r, ref in zip(rows, out["table"], strict=True):
        assert float(r["capacity_mAh_g"]) == pytest.approx(ref["capacity_mAh_g"], rel=1e-12)
    curves = list(csv.DictReader(open(files["curves"])))
    thick = [float(c["voltage_V"]) for c in curves if c["scenario"] == "thick_cei"]
    assert thick == pytest.approx(list(out["results"]["thick_cei"]["history"]["voltage_V"]), rel=1e-12)


def test_scenarios_cli_contract(tmp_path):
    """`electrovox scenarios LABELS OUTDIR --json`: one object per scenario under "scenarios" with
    the contract's keys, equal to the core's numbers; a second call reuses the finished runs (same
    numbers); an unknown scenario is refused naming the flag (exit 2)."""
    lab = generate_electrode((16, 8, 8), (1.0, 1.0, 1.0), seed=5, d50_um=5.0)["labels"]
    write_volume(tmp_path / "e.nc", Volume.labels(lab, (1.0, 1.0, 1.0), DEFAULT_LEGEND))
    args = ("scenarios", tmp_path / "e.nc", tmp_path / "out", "--c-rate", "1", "--cutoff-v", "3.5",
            "--scenarios", "pristine,thick_cei", "--output-rows", "10", "--frames", "1", "--json", "--quiet",
            "--no-render")
    r = json.loads(run_cli(*args, check=0).stdout)
    assert [s["scenario"] for s in r["scenarios"]] == ["pristine", "thick_cei"]
    for s in r["scenarios"]:
        for key in ("scenario", "capacity_mAh_g", "mean_overpotential_mV", "lithiation_top_minus_bottom",
                    "electrolyte_top_minus_bottom"):
            assert key in s, key
    ref = run_scenarios(lab, DEFAULT_LEGEND, 1.0, tmp_path / "core", scenarios=["thick_cei"], c_rate=1.0,
                        cutoff_v=3.5, output_rows=10, frames=1)["table"]
    assert r["scenarios"][1]["capacity_mAh_g"] == pytest.approx(ref[1]["capacity_mAh_g"], rel=1e-12)
    assert r["scenarios"][1]["mean_overpotential_mV"] == pytest.approx(ref[1]["mean_overpotential_mV"], rel=1e-9)
    again = json.loads(run_cli(*args, check=0).stdout)
    assert again["scenarios"] == r["scenarios"]
    bad = run_cli("scenarios", tmp_path / "e.nc", tmp_path / "o2", "--scenarios", "pristine,warm", "--no-render",
                  check=2)
    assert "--scenarios" in bad.stderr and "warm" in bad.stderr and "thick_cei" in bad.stderr


def test_thickness_study_limits(tmp_path):
    """Porous-electrode theory's two limits on phantoms that differ only in thickness (same set-up
    and seed: their porosities agree within 0.02): at C/20 the electrolyte and the solid keep up,
    so a 3x thicker electrode gives the same specific capacity (within 3 %: the OCV window sets
    it); at 3C the thick one is starved of Li+ from the separator and gives less (by > 5 %)."""
    kw = dict(lateral_um=8.0, voxel_um=1.0, seed=2, phantom={"d50_um": 4.0}, output_rows=20, frames=1)
    slow = thickness_study((15.0, 45.0), c_rate=0.05, **kw)["rows"]
    fast = thickness_study((15.0, 45.0), c_rate=3.0, **kw)["rows"]
    assert abs(slow[0]["porosity"] - slow[1]["porosity"]) < 0.02
    assert slow[1]["relative_to_thinnest"] == pytest.approx(1.0, abs=0.03)
    assert fast[1]["relative_to_thinnest"] < 0.95
    assert fast[1]["relative_to_thinnest"] < slow[1]["relative_to_thinnest"]


@pytest.fixture(scope="module")
def figure_data(tmp_path_factory):
    """The image and connectivity figures' data (quick sizes) on a synthetic sample."""
    from electrovox.solvers.study.figures import make_figures
    d = tmp_path_factory.mktemp("fig")
    lab = generate_electrode((40, 24, 24), (0.5, 0.5, 0.5), seed=6, d50_um=6.0)["labels"]
    vol = Volume.labels(lab, (0.5, 0.5, 0.5), DEFAULT_LEGEND)
    info = make_figures(d, quick=True, sample=vol, only=["fig1c", "fig1d", "fig2", "fig6"])
    return d, lab, info


def test_figure_fractions_are_the_samples(figure_data):
    """Fig. 1C's bars are the sample's voxel counts (exact); Fig. 1D's profile averages back to
    them (2 um bins of 0.5 um slices: the mean over bins weighted by their slices, 1e-12)."""
    d, lab, info = figure_data
    names = [f["name"] for f in info["figures"]]
    assert names == ["fig1c", "fig1d", "fig2c", "fig2d", "fig6e", "fig6f"]
    rows = {r["phase"]: r for r in csv.DictReader(open(d / "fig1c.csv"))}
    for k, name in DEFAULT_LEGEND.items():
        if name in rows:
            assert float(rows[name]["electrovox"]) == pytest.approx(np.mean(lab == k), rel=1e-12)
    prof = list(csv.DictReader(open(d / "fig1d.csv")))
    am = np.array([float(r["am"]) for r in prof])
    assert am.mean() == pytest.approx(np.mean(lab == 2), rel=1e-12)   # 40 slices in 10 bins of 4


def test_cbd_connectivity_figure_against_scipy(figure_data):
    """Fig. 6E/6F: the largest aggregate's share equals scipy's 6-connected labelling of the CBD of
    the same phantoms (exact), the dry CBD is the more connected (the study: 57 % against 23.6 %),
    and the volume written holds one id per aggregate."""
    from electrovox.io import read_volume
    from electrovox.solvers.study.figures import SIZES
    d, _, _ = figure_data
    rows = {r["morphology"]: r for r in csv.DictReader(open(d / "fig6e.csv"))}
    for morph in ("slurry", "dry"):
        lab = generate_electrode(size_um=SIZES["cbd_size_um"][0], spacing=(SIZES["cbd_voxel_um"][0],) * 3, seed=1,
                                 cbd_morphology=morph)["labels"]
        ids, n = ndimage.label(lab == 1)
        sizes = np.bincount(ids.ravel())[1:]
        assert float(rows[morph]["largest_share"]) == pytest.approx(sizes.max() / sizes.sum(), rel=1e-12)
        assert int(rows[morph]["aggregates"]) == n
    assert float(rows["dry"]["largest_share"]) > float(rows["slurry"]["largest_share"])
    agg = read_volume(d / "fig6e.vti").array
    assert len(np.unique(agg[agg > 0])) == int(rows["slurry"]["aggregates"])


def test_cycling_figure_measures_the_transform(figure_data):
    """Fig. 2C/2D: the crack and contact changes measured on the cycled phantoms have the study's
    signs and sizes (the transform aims at +9/+24 % cracks, -10/-20 % contact; measured back by
    the independent quantification within 3 points: the voxel grid's rounding at 0.4 um)."""
    d, _, _ = figure_data
    rows = {r["state"]: r for r in csv.DictReader(open(d / "fig2c.csv"))}
    assert float(rows["pristine"]["crack_change"]) == 0.0
    for state, crack, contact in (("4.4V", 0.09, -0.10), ("4.7V", 0.24, -0.20)):
        assert float(rows[state]["crack_change"]) == pytest.approx(crack, abs=0.03)
        assert float(rows[state]["contact_change"]) == pytest.approx(contact, abs=0.03)
