"""Electrolyte impregnation: the time scaling in seconds against Washburn, invariance in the
capillary time, the outlet options, and the CLI contract with a killed run that resumes.

References: Washburn's law for a slit with both viscosities in SI units
(``(mu_e l + mu_a (L - l)) dl/dt = sigma h cos(theta) / 6``, ``shared/reference/solver-references.md``);
the viscous-capillary regime's single time scale (the saturation against ``t / T`` does not depend
on the lattice viscosity or tension); conservation of the trapped air in a dead end; the
uninterrupted run of the same input (resume).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import kill_after_first_checkpoint, run_cli

from electrovox.io import write_volume
from electrovox.solvers.flow.impregnation import (
    RESOLVED_RH_VOXELS,
    ImpregnationConfig,
    ImpregnationSolver,
    air_clusters,
)
from electrovox.volume import Volume

LEGEND = {0: "pore", 2: "am"}


def _slit(nz, h=10):
    """A slit h voxels wide along z between two active-material plates (x), one voxel deep (y)."""
    lab = np.zeros((nz, 1, h + 2), np.uint8)
    lab[:, :, [0, -1]] = 2
    return lab


def _run(solver, steps, every):
    rows = []
    for _ in range(steps // every):
        solver.advance(every)
        solver.step += every
        rows.append((solver.time, solver.saturation()))
    return np.array(rows)


def _washburn_error(ratio, h, nz=40, theta=30.0):
    """Relative error of the length a slit h voxels wide fills, against Washburn in SI units.

    The slit (1 um voxels, contact angle 30 degrees) fills from the separator face; the filled
    length against time in seconds (the lattice step converted with the lattice tension 2 A / 9)
    against ``(mu_e (l + 2 dx) + mu_a (L - l)) dl/dt = sigma h cos(theta) / 6`` (the electrolyte
    column includes the 2 free inlet layers), from the first 10 % of the slit to 75 % (the
    meniscus, its cap ~0.15 h high at 30 degrees, is then still inside the slit; once it reaches
    the outlet its cap counts as filled at once).
    """
    from scipy.integrate import solve_ivp
    cfg = ImpregnationConfig(voxel_m=1e-6, contact_angles_deg={"am": theta}, viscosity_ratio=ratio,
                             lateral="periodic")
    s = ImpregnationSolver(_slit(nz, h), LEGEND, cfg)
    every = 500
    rows = _run(s, 40 * every if ratio < 50 else 100 * every, every)
    length = rows[:, 1] * nz * cfg.voxel_m
    i0 = int(np.argmax(length > 0.1 * nz * cfg.voxel_m))
    i1 = int(np.argmax(length > 0.75 * nz * cfg.voxel_m)) if (length > 0.75 * nz * cfg.voxel_m).any() else -1
    mu_e = cfg.electrolyte_viscosity_Pa_s
    mu_a = mu_e / ratio
    big_l = nz * cfg.voxel_m
    k = cfg.surface_tension_N_m * h * cfg.voxel_m * np.cos(np.radians(theta)) / 6
    extra = 2 * cfg.voxel_m
    sol = solve_ivp(lambda t, y: [k / (mu_e * (y[0] + extra) + mu_a * (big_l - y[0]))],
                    (rows[i0, 0], rows[i1, 0]), [length[i0]], rtol=1e-8)
    return (length[i1] - length[i0]) / (sol.y[0][-1] - length[i0]) - 1.0


def test_slit_fills_as_washburn_in_seconds():
    """Viscosity ratio 20, a slit 16 um wide: the filled length in seconds follows Washburn's law
    in SI units within 10 % (the issue's tolerance for the two-phase Washburn test)."""
    err = _washburn_error(20.0, 16)
    assert abs(err) < 0.10, err


def test_slit_filling_at_viscosity_ratio_100_converges():
    """Viscosity ratio 100 (the air's relaxation time 0.509): the filled length in seconds follows
    Washburn within the issue's 10 % in a slit 16 um wide (+5 % measured with the geometric
    viscosity blend; +12 % at 10 um), the error falling with the slit's width (the diffuse
    interface's 2-3 nodes take a smaller share of a wider slit)."""
    coarse, fine = _washburn_error(100.0, 10), _washburn_error(100.0, 16)
    assert abs(fine) < abs(coarse) and abs(fine) < 0.10, (coarse, fine)


def _blobs(shape=(32, 16, 16), porosity=0.5, sigma=2.5, seed=3):
    """A periodic random pore space with wide throats (smoothed noise, thresholded): pores 5-10
    voxels across, so that the interface (2-3 nodes) and the wetting are resolved everywhere."""
    from scipy import ndimage
    f = ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), sigma, mode="wrap")
    return np.where(f > np.quantile(f, 1 - porosity), 0, 2).astype(np.uint8)


def test_curves_collapse_in_capillary_time():
    """The same pore space filled with two lattice set-ups whose tension (amplitude 0.005 and 0.01)
    and electrolyte viscosity (0.1 and 0.2) differ together: the Ohnesorge number nu_e /
    sqrt(sigma r_h) changes 1.41x and the lattice steps per second 2x, while the lattice steps per
    capillary time T = mu_e L^2 / (sigma r_h) stay equal.  In the viscous-capillary regime T is the
    only time scale, so the saturation against t / T must be one curve: within 0.015 from t / T =
    0.05 to 1.5 (0.0055 measured here; 0.004-0.011 for Oh up to 1.7x apart on a larger space,
    ``benchmarks/impregnation_scaling.py``).  The bound is about 3x the measured gap and below the
    0.026 that doubling the steps per T alone makes here; a time scaling whose error differs by
    sqrt(2) between the two set-ups (the viscosity entering dt squared, say) shifts one curve by
    t* x sqrt(2), ~0.05 in S here (S ~ t*^0.35), and fails it.  The steps per T are held because the curve does
    depend on them, a lattice effect (S at t / T = 1: 0.364, 0.393, 0.428, 0.444, 0.447 at 9.6 k,
    19 k, 38 k, 57 k, 76 k steps per T, then 0.476 at 229 k in another pattern, RESULTS.md); the
    pair this test had before (A 0.01 / 0.005, nu_e 0.1 / 0.2) changed both and differed by 0.053."""
    lab = _blobs()
    curves = []
    for amp, nu in ((0.005, 0.1), (0.01, 0.2)):
        cfg = ImpregnationConfig(amplitude=amp, nu_electrolyte_lu=nu, viscosity_ratio=20.0,
                                 contact_angles_deg={"am": 30.0})
        s = ImpregnationSolver(lab, LEGEND, cfg)
        every = max(50, int(0.05 * s.capillary_time_s / s.dt_s))
        rows = _run(s, 30 * every, every)
        curves.append((rows[:, 0] / s.capillary_time_s, rows[:, 1]))
    assert curves[0][1][-1] - curves[0][1][0] > 0.2     # the front moves on through the window
    grid = np.linspace(0.05, 1.5, 59)
    gap = np.abs(np.interp(grid, *curves[0]) - np.interp(grid, *curves[1])).max()
    assert gap < 0.015, gap


def test_closed_collector_traps_the_air_of_a_dead_end():
    """A slit 10 wide and 20 long closed at the collector: the air can only leave counter-current
    through the separator face (a wetting film down the walls, air up the middle), so after the
    time in which the open slit fills to its vent the closed one is less than half full (0.28
    measured) and its air is one pocket against the foil that touches no outlet (trapped).  The
    open slit fills but for its meniscus against the vent (a cap ~0.15 h = 1.5 nodes high at 30
    degrees plus the 2-3 node interface, counted as half air): above 0.75 of the 20 layers."""
    nz = 20
    closed = ImpregnationSolver(_slit(nz), LEGEND, ImpregnationConfig(outlet="closed", lateral="periodic"))
    _run(closed, 20000, 1000)
    assert closed.saturation() < 0.5
    pockets = air_clusters(closed.air(), 1.0, outlet_face=False)
    assert pockets[0]["trapped"] and pockets[0]["z_min_um"] == 0.0
    assert pockets[0]["voxels"] > 0.9 * closed.air().sum()
    opened = ImpregnationSolver(_slit(nz), LEGEND, ImpregnationConfig(outlet="open", lateral="periodic"))
    _run(opened, 20000, 1000)
    assert opened.saturation() > 0.75
    assert opened.saturation() > closed.saturation() + 0.4


def test_a_sudden_expansion_stops_the_front():
    """A capillary stop valve: a channel 6 voxels wide opening into a cavity 14 wide (sharp 90
    degree edges), contact angle 30.  Gibbs' criterion pins the meniscus at the edge (to go on it
    would have to meet the cavity's wall at 90 + 30 degrees, a meniscus curved the wrong way), as
    in microfluidic stop valves: the narrow inlet channel fills (> 0.95 but for the 2 layers at the
    edge, where the meniscus sits), the cavity beyond stays
    mostly air (< 0.35 per layer past its first 3) and the channel below it dry (< 0.05).  This is
    why electrode images at 1 um, whose voxel steps are such edges, stall (docs/impregnation.md)."""
    nz, width = 44, 16
    lab = np.full((nz, 1, width), 2, np.uint8)
    lab[:, :, 5:11] = 0
    lab[14:28, :, 1:15] = 0
    s = ImpregnationSolver(lab, LEGEND, ImpregnationConfig(lateral="periodic", contact_angles_deg={"am": 30.0}))
    _run(s, 30000, 2500)
    phi = s.model.phase_field()[s.core][:, 0, :]
    layer = np.nanmean(np.where(lab[:, 0, :] == 0, (phi + 1) / 2, np.nan), axis=1)
    assert layer[30:].min() > 0.95, layer  # the 2 layers at the edge hold the meniscus
    assert layer[14:25].max() < 0.35, layer
    assert layer[:14].max() < 0.05, layer


def test_hydraulic_radius_of_a_cylindrical_pore():
    """The hydraulic radius (twice the pore volume over the pore surface), on which the capillary
    time and the resolution warning rest, of a cylindrical pore of radius R along z is R: within
    3 % for R = 6 voxels (the digitised disk's area is within 1 % of pi R^2 and the Crofton
    surface estimate within 1 %), at 1 and 0.5 um voxels (so it is converted to um correctly).
    The pore keeps 3.5 voxels from the lateral faces: the Crofton estimator extends the lattice
    lines to the box faces, which is exact for surfaces that run into a face but over-counts one
    that runs parallel to a face within two steps of it (+13 % at 1.5 voxels;
    ``filters/quantify/surfaces.py``)."""
    R, nz, n = 6.0, 24, 20
    y, x = np.mgrid[:n, :n]
    lab = np.broadcast_to(np.where((y - 9.5) ** 2 + (x - 9.5) ** 2 < R * R, 0, 2), (nz, n, n)).astype(np.uint8)
    for dx in (1.0, 0.5):
        s = ImpregnationSolver(lab, LEGEND, ImpregnationConfig(voxel_m=dx * 1e-6))
        assert s.hydraulic_radius_m == pytest.approx(R * dx * 1e-6, rel=0.03)


@pytest.fixture(scope="module")
def electrode(tmp_path_factory):
    """A small phantom electrode (16 x 16 x 24 um at 1 um voxels) as NetCDF."""
    d = tmp_path_factory.mktemp("imp")
    path = d / "e.nc"
    run_cli("phantom", "electrode", path, "--size-um", "16", "16", "24", "--voxel-um", "1.0", "--seed", "4",
            "--force", "--quiet")
    return d, path


def test_impregnate_contract(electrode):
    """The contract's keys; saturation.csv's columns with time_s = step dt and the dimensionless
    time = time_s / T; fields.pvd; the Darcy estimate from the single-phase permeability."""
    d, path = electrode
    out = d / "run"
    res = run_cli("impregnate", path, out, "--contact-angle", "am=30,cbd=20", "--viscosity-ratio", "20",
                  "--air-outlet", "--max-steps", "2000", "--json", "--quiet", check=0)
    r = json.loads(res.stdout)
    for key in ("final_saturation", "time_to_97pct_s", "time_to_97pct_dimensionless", "washburn_estimate_s",
                "entrapped_air_fraction", "electrolyte_viscosity_Pa_s", "air_viscosity_Pa_s",
                "surface_tension_N_m", "contact_angles_deg", "steps", "converged", "wall_s"):
        assert key in r, key
    assert r["steps"] == 2000 and r["converged"] is False and r["time_to_97pct_s"] is None
    assert r["air_viscosity_Pa_s"] == pytest.approx(r["electrolyte_viscosity_Pa_s"] / 20, rel=1e-12)
    assert r["contact_angles_deg"]["am"] == 30.0 and r["contact_angles_deg"]["cbd"] == 20.0
    assert 0 < r["washburn_estimate_s"] < 1.0
    assert r["entrapped_air_fraction"] == pytest.approx(1 - r["final_saturation"], abs=0.05)
    rows = list(csv.DictReader(open(out / "saturation.csv")))
    assert list(rows[0])[:3] == ["time_s", "time_dimensionless", "saturation"]
    for row in rows:
        assert float(row["time_s"]) == pytest.approx(int(row["step"]) * r["dt_s"], rel=1e-12)
        assert float(row["time_dimensionless"]) == pytest.approx(float(row["time_s"]) / r["capillary_time_s"],
                                                                 rel=1e-12)
    assert float(rows[-1]["saturation"]) == pytest.approx(r["final_saturation"], rel=1e-12)
    assert (out / "fields.pvd").is_file() and (out / "air_clusters.csv").is_file()
    # the resolution warning: the phantom's pores are ~2 voxels in hydraulic radius at 1 um
    assert r["hydraulic_radius_voxels"] == pytest.approx(r["hydraulic_radius_um"], rel=1e-12)
    assert r["hydraulic_radius_voxels"] < RESOLVED_RH_VOXELS
    assert "hydraulic radius" in r["resolution_note"] and r["resolution_note"] in res.stderr


@pytest.mark.parametrize("args,words", [
    (["--contact-angle", "am=200"], ["--contact-angle", "between 0 and 180"]),
    (["--contact-angle", "glass=30"], ["--contact-angle", "unknown phase"]),
    (["--viscosity-ratio", "0.5"], ["--viscosity-ratio"]),
    (["--overpressure", "5e6"], ["--overpressure", "density step"]),
    (["--overpressure", "-1"], ["--overpressure"]),
])
def test_impregnate_bad_input(electrode, tmp_path, args, words):
    d, path = electrode
    r = run_cli("impregnate", path, tmp_path / "x", *args, check=2)
    for w in words:
        assert w in r.stderr, r.stderr
    assert "Fix:" in r.stderr


def test_killed_impregnation_resumes_to_the_same_result(electrode, tmp_path):
    """Killed (SIGKILL) after its first checkpoint and run again on the same OUTDIR: the same
    saturation curve and final field, bit for bit, as a run never interrupted."""
    d, path = electrode
    args = ["impregnate", str(path), None, "--max-steps", "12000", "--frames", "6", "--json", "--quiet"]
    ref_dir = tmp_path / "ref"
    ref = json.loads(run_cli(*[a if a is not None else ref_dir for a in args], check=0).stdout)
    run_dir = tmp_path / "killed"
    assert kill_after_first_checkpoint([a if a is not None else run_dir for a in args], run_dir), \
        "the run finished before it could be killed: make it longer"
    first_s = float(np.load(run_dir / "checkpoint.npz")["state/compute_s"])
    res = json.loads(run_cli(*[a if a is not None else run_dir for a in args], check=0).stdout)
    assert res["final_saturation"] == ref["final_saturation"] and res["steps"] == ref["steps"]
    assert (run_dir / "saturation.csv").read_text() == (ref_dir / "saturation.csv").read_text()
    a = np.load(run_dir / "checkpoint.npz")
    b = np.load(ref_dir / "checkpoint.npz")
    for key in ("state/r", "state/b"):  # the electrolyte and air populations of the final state
        assert np.array_equal(a[key], b[key])
    # the throughput is the whole run's: all its node updates (as many as the uninterrupted run's)
    # over the compute seconds of both sittings, not the resumed sitting's alone
    assert int(a["state/updates"]) == int(b["state/updates"]) > 0
    assert float(a["state/compute_s"]) > first_s > 0
    assert res["mflups"] == pytest.approx(int(a["state/updates"]) / float(a["state/compute_s"]) / 1e6, rel=1e-12)


def test_refuses_labels_without_pores(tmp_path):
    path = tmp_path / "solid.nc"
    write_volume(path, Volume.labels(np.full((6, 4, 4), 2, np.uint8), (1.0, 1.0, 1.0), LEGEND))
    r = run_cli("impregnate", path, tmp_path / "o", check=2)
    assert "solid.nc" in r.stderr and "Fix:" in r.stderr


def test_refuses_a_lattice_that_cannot_fit_in_memory(electrode, tmp_path, monkeypatch):
    """With the memory the machine has made tiny, the run is refused before it starts, the message
    naming the file's labels and the fix (a coarser resampling)."""
    import electrovox.memory
    from electrovox.errors import BadInput
    from electrovox.io import read_volume
    from electrovox.solvers.flow.impregnation import impregnate
    d, path = electrode
    vol = read_volume(path)
    monkeypatch.setattr(electrovox.memory, "available_bytes", lambda: 1000)
    with pytest.raises(BadInput, match="resample-um"):
        impregnate(vol.array, vol.legend, vol.spacing, run_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists()



def test_a_checkpoint_carries_the_throughput_counters():
    """The solver counts its node updates and compute seconds (the base's counters), and they
    leave in the checkpoint and come back on load, so a resumed run's MFLUPS is the whole run's;
    the updates are nodes x steps exactly.  A checkpoint from before the seconds were kept counts
    the resumed sitting only (zero, not the old updates over new seconds)."""
    s = ImpregnationSolver(_slit(12), LEGEND, ImpregnationConfig(lateral="periodic"))
    s.advance(6)
    state = s.checkpoint_state()
    t = ImpregnationSolver(_slit(12), LEGEND, ImpregnationConfig(lateral="periodic"))
    t.restore_state(state)
    assert t.updates == s.updates == 6 * s.model.n
    assert t.compute_s == s.compute_s > 0
    assert np.array_equal(t.model.r, s.model.r) and np.array_equal(t.model.b, s.model.b)
    old = {k: v for k, v in state.items() if k != "compute_s"}
    t.restore_state(old)
    assert (t.updates, t.compute_s) == (0, 0.0)
