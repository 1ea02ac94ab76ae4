"""Segmentation cores (electrovox.filters.image: levels, poreback, segment, cracks, pipeline)
against phantom truth, analytic shapes and the real binary SEM volume.

The accuracy bounds are the issue's (SNR >= 6, pore-back, curtaining and drift on): IoU >= 0.96
active material, >= 0.80 CBD, >= 0.92 pore + crack; volume fractions within 1.5 points; crack
fraction of particles within 25 % relative.  The phantoms come from the project's generator with
fixed seeds that were not chosen by hand (0, 1, ...), and nothing in the segmentation reads the
generator's constants: levels, noise, stripe direction and pore-back are estimated.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.filters.image.cracks import find_cracks
from electrovox.filters.image.levels import detect_phases, estimate_levels
from electrovox.filters.image.pipeline import default_denoise, fibsem_like, parse_phases, run_step, segment_image
from electrovox.filters.image.poreback import correct_pore_back
from electrovox.filters.image.segment import segment_phases
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.solvers.phantoms.imaging import simulate_fibsem

SP_LABELS = (0.2, 0.2, 0.2)
SP_IMAGE = (0.2, 0.1, 0.1)       # 200 nm slices, 100 nm pixels (coarser than PFIB, same anisotropy)


def iou(a, b):
    return np.count_nonzero(a & b) / max(1, np.count_nonzero(a | b))


@pytest.fixture(scope="module")
def electrode():
    return generate_electrode((80, 96, 96), SP_LABELS, seed=0, d50_um=6.0)["labels"]


def image_of(labels, snr, seed, **kw):
    r = simulate_fibsem(labels, SP_LABELS, image_spacing=SP_IMAGE, snr=snr, seed=seed, **kw)
    return r["image"], r["truth"]


def scores(seg, truth):
    pc = lambda a: (a == 0) | (a == 3)  # noqa: E731
    cf = lambda a: np.count_nonzero(a == 3) / max(1, np.count_nonzero((a == 2) | (a == 3)))  # noqa: E731
    return {"am": iou(seg == 2, truth == 2), "cbd": iou(seg == 1, truth == 1), "pore+crack": iou(pc(seg), pc(truth)),
            "dfrac": max(abs(np.mean(seg == k) - np.mean(truth == k)) for k in range(4)),
            "crack_rel": cf(seg) / cf(truth) - 1}


# ----------------------------------------------------------------------------- grey levels

def test_levels_of_a_three_phase_mixture():
    """Three Gaussian phases of known means/weights: the mixture fit recovers them."""
    rng = np.random.default_rng(0)
    n = 400_000
    means, sds, w = (0.2, 0.45, 0.75), (0.04, 0.05, 0.04), (0.3, 0.1, 0.6)
    k = rng.choice(3, n, p=w)
    x = rng.normal(np.take(means, k), np.take(sds, k)).astype(np.float32)
    lev = estimate_levels(x, 3)
    # histogram EM on 400k samples: means to 1 % of the contrast, weights to 0.02 (sampling +
    # binning errors are ~0.1 %; the CBD weight is the weakest-determined)
    assert np.allclose(lev["means"], means, atol=0.0055)
    assert np.allclose(lev["weights"], w, atol=0.02)
    assert lev["thresholds"][0] == pytest.approx(0.33, abs=0.03)


def test_levels_bad_input():
    with pytest.raises(BadInput):
        estimate_levels(np.ones((8, 8, 8), np.float32), 3)


# ----------------------------------------------------------------------------- pore-back

def test_pore_back_correction_changes_shine_through_only(electrode):
    """The mask marks shine-through voxels (empty in the truth) and the correction removes the
    CBD over-segmentation the artifact causes (the issue: show what it changes)."""
    img, truth = image_of(electrode, 8, seed=2, curtaining=0, drift=0)
    from electrovox.filters.image.pipeline import default_denoise
    d = default_denoise(img.astype(np.float32), SP_IMAGE)
    lev = estimate_levels(d, 3)
    pb = correct_pore_back(d, lev, slice_axis=0)
    mask = pb["mask"]
    # >= 95 % of the corrected voxels are pore or crack in the truth (measured 99.5 %)
    assert mask.mean() > 0.02 and np.isin(truth[mask], (0, 3)).mean() > 0.95
    assert pb["reach_slices"] >= 2 and pb["excess"] == sorted(pb["excess"], reverse=True)
    with_pb = segment_image(img, SP_IMAGE, destripe=False, drift=False)["labels"]
    without = segment_image(img, SP_IMAGE, destripe=False, drift=False, pore_back=False)["labels"]
    over = lambda s: np.mean(s == 1) - np.mean(truth == 1)  # noqa: E731
    # without the correction CBD is over-segmented by several points (measured +4 to +5), with it
    # by less than 1.5 points (the fraction bound)
    assert over(without) > 0.03 and abs(over(with_pb)) < 0.015
    assert iou(with_pb == 1, truth == 1) > iou(without == 1, truth == 1) + 0.1


def test_pore_back_without_artifact_changes_little(electrode):
    """No shine-through in the image: (almost) nothing is corrected."""
    img, truth = image_of(electrode, 8, seed=3, curtaining=0, drift=0, pore_back=0)
    from electrovox.filters.image.pipeline import default_denoise
    d = default_denoise(img.astype(np.float32), SP_IMAGE)
    pb = correct_pore_back(d, estimate_levels(d, 3), slice_axis=0)
    # the front/behind comparison finds at most a first-slice excess of about the pore noise
    # (measured: 1.0 sigma at n = 1, 2.1 % of the voxels shifted by it), against 8+ slices and
    # excesses up to 15 sigma with the artifact on
    assert pb["reach_slices"] <= 1 and pb["corrected_fraction"] < 0.03


def _wall_scene(seed=0, noise=0.02):
    """A particle wall (slices 24-31) seen along the slice axis; in front of it, in 4 x 4 pixel
    patches chosen at random, either a CBD layer 2 slices thick at the wall or open pore.  Pore
    voxels show the shine-through of the first solid behind them: excess (cbd - pore) * exp(-(d -
    1) / 3) at distance d from active material (at d = 1 exactly the CBD level: a single voxel
    cannot tell), scaled by (cbd - pore) / (am - pore) in front of CBD.  Returns image, truth
    (0 pore, 1 CBD, 2 am) and the levels."""
    pore, cbd, am = 0.2, 0.45, 0.75
    rng = np.random.default_rng(seed)
    truth = np.zeros((48, 64, 64), np.uint8)
    truth[24:32] = 2
    layer = np.kron(rng.random((16, 16)) < 0.5, np.ones((4, 4), bool))
    truth[22:24][:, layer] = 1
    img = np.choose(truth, [pore, cbd, am]).astype(np.float64)
    k = np.arange(24)[:, None, None]
    d_am = 24 - k                                             # distance of slice k to the wall
    d_cbd = 22 - k
    e = cbd - pore
    shine = np.where(layer[None], e * (cbd - pore) / (am - pore) * np.exp(-(d_cbd - 1) / 3.0),
                     e * np.exp(-(d_am - 1) / 3.0))
    img[:24] += np.where(truth[:24] == 0, shine, 0.0)
    img += rng.normal(0, noise, img.shape)
    levels = {"means": [pore, cbd, am], "stds": [noise, noise, noise],
              "thresholds": [0.5 * (pore + cbd), 0.5 * (cbd + am)], "weights": [0.5, 0.1, 0.4]}
    return img.astype(np.float32), truth, levels


def test_pore_back_column_model_tells_cbd_layer_from_shine_through():
    """Right in front of the wall shine-through takes the CBD level exactly: only the column (a
    CBD layer is flat, shine-through falls off slice by slice) can tell them apart."""
    img, truth, levels = _wall_scene()
    pb = correct_pore_back(img, levels, slice_axis=0)
    mask = pb["mask"]
    ambiguous = (truth == 0) & (np.arange(48)[:, None, None] == 23)      # shine-through at d = 1
    # the fitted excess at d = 1 is the CBD level over the pore (0.25) to within the noise
    assert pb["excess"][0] == pytest.approx(0.25, abs=0.03)
    # CBD layers kept: < 5 % of the CBD voxels corrected (measured 2.7 %; the per-voxel decision
    # of the first version, smoothed over the slice plane: 16 %); shine-through at d = 1
    # corrected: > 95 % (measured 98 %)
    assert mask[truth == 1].mean() < 0.05
    assert mask[ambiguous].mean() > 0.95
    # corrected voxels end near the pore level: median within 1 noise sd (0.02) of 0.2
    assert abs(float(np.median(pb["image"][mask])) - 0.2) < 0.02


# ----------------------------------------------------------------------------- phases, partial volume

def test_blurred_particles_get_no_cbd_shell():
    """Two-phase scene (spheres in pore) blurred by 1.5 px: the boundary passes through CBD grey
    levels but must not become a CBD shell."""
    z, y, x = np.ogrid[:48, :48, :48]
    lab = np.zeros((48, 48, 48), np.uint8)
    for c, r in (((24, 24, 14), 9), ((20, 26, 34), 8), ((30, 12, 30), 6)):
        lab[(z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= r * r] = 2
    lab[:, :, 44:] = 1                                     # a CBD slab (real CBD must survive)
    grey = np.choose(lab, [0.2, 0.45, 0.75]).astype(np.float32)
    img = ndimage.gaussian_filter(grey, 1.5) + np.random.default_rng(0).normal(0, 0.02, lab.shape).astype(np.float32)
    seg = segment_phases(img, (1.0, 1.0, 1.0))["labels"]
    spheres = lab == 2
    shell = ndimage.binary_dilation(spheres, iterations=3) & ~spheres & (lab == 0)
    # the blurred shell around the spheres: < 5 % of it labelled CBD (measured 3.1 %, mostly where
    # a sphere's shell meets the blurred CBD slab; plain thresholds: ~40 %; markers eroded by one
    # voxel only, as before the blur estimate: 29 %)
    assert np.mean(seg[shell] == 1) < 0.05
    plain = np.digitize(img, estimate_levels(img, 3)["thresholds"])
    assert np.mean(plain[shell] == 1) > 0.2
    # the sphere volume: blurring small spheres (r 6-9 voxels, sigma 1.5) moves their steepest
    # gradient and half height inward (a plain threshold at half height: -10 %); the watershed
    # keeps it within 20 % (measured -15 %); sharp edges, as in the phantom tests, lose nothing
    assert np.count_nonzero(seg == 2) == pytest.approx(np.count_nonzero(spheres), rel=0.2)
    assert iou(seg == 1, lab == 1) > 0.85


def test_two_phase_mode_on_real_sem_volume(real_data):
    """The real binary lab-CT volume (0 = pore + CBD, 128 = NMC), as a greyscale image with
    noise added: two-phase mode recovers its labels."""
    import tifffile
    vol = tifffile.imread(real_data["sem"])[:64]
    img = vol.astype(np.float32) + np.random.default_rng(1).normal(0, 128 / 6, vol.shape).astype(np.float32)
    res = segment_image(img, 1.0, phases="pore,am", destripe=False, drift=False)
    # SNR 6 white noise on a real microstructure: IoU of the particles >= 0.96 (the am bound)
    assert iou(res["labels"] == 2, vol == 128) > 0.96
    assert set(np.unique(res["labels"])) <= {0, 2}


def test_single_slice(electrode):
    img, truth = image_of(electrode, 8, seed=4, pore_back=0)
    k = img.shape[0] // 2
    res = segment_image(img[k], SP_IMAGE)
    assert res["labels"].shape == (1,) + img.shape[1:]
    # one slice: no pore-back or drift step; the particles still to IoU 0.93 (2D: no 3D context)
    assert iou(res["labels"][0] == 2, truth[k] == 2) > 0.93


def test_tophat_keeps_thin_cbd_film_not_noise_on_fine_pixels():
    """PFIB-like voxels (100 nm slices, 15.2 nm pixels): a CBD wall 3 pixels (46 nm) thick in the
    pore is kept (by its markers and the white top-hat), while the noise peaks the bilateral
    denoiser leaves on the fine pixels must not become CBD in the pores (through the top-hat)."""
    from electrovox.filters.image.denoise import denoise
    sp = (0.1, 0.0152, 0.0152)
    pore, cbd, am = 0.2, 0.45, 0.75
    truth = np.zeros((24, 160, 160), np.uint8)
    truth[:, :, 130:] = 2                                  # a particle wall (three classes present)
    truth[4:20, 30:130, 60:63] = 1                         # the film: 1.6 x 1.5 um, 3 pixels thick
    rng = np.random.default_rng(4)
    img = np.choose(truth, [pore, cbd, am]).astype(np.float32)
    img = denoise(img + rng.normal(0, 0.12, img.shape).astype(np.float32), sp, "bilateral")
    levels = {"means": [pore, cbd, am], "stds": [0.02, 0.02, 0.02],
              "thresholds": [0.5 * (pore + cbd), 0.5 * (cbd + am)], "weights": [0.6, 0.05, 0.35]}
    film = truth == 1
    seg = segment_phases(img, sp, levels=levels)["labels"]
    # the film is found (measured 92 %) ...
    assert np.mean(seg[film] == 1) > 0.8
    # ... and open pore far from film and particle stays pore: < 0.1 % CBD (measured 0.03 %; the
    # top-hat on the unsmoothed image: 0.26 %, and 6 % of the pore volume on a PFIB phantom)
    far = (truth == 0) & ~ndimage.binary_dilation(film | (truth == 2), iterations=12)
    assert np.mean(seg[far] == 1) < 0.001


# ----------------------------------------------------------------------------- cracks

def test_cracks_enclosed_vs_neck():
    """A particle with an internal crack (enclosed) and one with a crack open to its surface are
    found; the pore in the neck between two touching particles is not a crack."""
    z, y, x = np.ogrid[:60, :60, :90]
    lab = np.zeros((60, 60, 90), np.uint8)
    a = (z - 30) ** 2 + (y - 30) ** 2 + (x - 22) ** 2 <= 16 ** 2
    b = (z - 30) ** 2 + (y - 30) ** 2 + (x - 52) ** 2 <= 15 ** 2       # touching a: a neck of pore around
    lab[a | b] = 2
    crack_a = a & (np.abs(x - 22) <= 1) & ((z - 30) ** 2 + (y - 30) ** 2 <= 10 ** 2) + np.zeros_like(a)
    crack_b = b & (np.abs(y - 30) <= 1) & (x >= 52)                 # reaches b's surface
    truth = lab.copy()
    truth[crack_a] = 3
    truth[crack_b] = 3
    seg = lab.copy()
    seg[crack_a | crack_b] = 0                                      # what segmentation sees: dark
    out = find_cracks(seg, (1.0, 1.0, 1.0), max_width_um=4.0)
    # the enclosed crack is found exactly (a hole); the open one to 75 % (measured 81 %: the
    # closing cannot bridge the last voxels of the mouth on the curved surface)
    assert np.array_equal(out[crack_a], np.full(np.count_nonzero(crack_a), 3))
    assert np.mean(out[crack_b] == 3) > 0.75
    # the neck pore between the particles stays pore
    neck = (lab == 0) & (np.abs(x - 37) <= 3) & ((z - 30) ** 2 + (y - 30) ** 2 <= 12 ** 2)
    # (the innermost wedge, where the two surfaces meet at a grazing angle, is filled by the
    # closing and walled by particle: measured 8.7 % of this neck region, 144 voxels)
    assert neck.any() and np.mean(out[neck] == 3) < 0.15


def test_wide_cracks_found_without_tuning():
    """Cracks 1-1.6 um wide (5 and 8 label voxels, beyond the first closing width of 4 coarse
    voxels) in an electrode phantom: the default width ladder, which ends at half the particle
    diameter estimated from the labels, finds them."""
    cf = lambda a: np.count_nonzero(a == 3) / np.count_nonzero((a == 2) | (a == 3))  # noqa: E731
    for width_vox in (5, 8):
        lab = generate_electrode((64, 64, 64), SP_LABELS, seed=3, d50_um=8.0, crack_min_width_vox=width_vox,
                                 cracks=0.06)["labels"]
        seg = np.where(lab == 3, 0, lab).astype(np.uint8)            # what segmentation sees: dark
        out = find_cracks(seg, SP_LABELS)
        # crack fraction of particles within the 25 % (measured +2.9 % and -21 %; one
        # closing of 4 voxels, the first version's default: -96 % and -97 %)
        assert abs(cf(out) / cf(lab) - 1) < 0.25, (width_vox, cf(out), cf(lab))
        # what is found is crack in the truth (measured 97 / 96 %), and CBD between particles is
        # not made crack by the wide closings (measured 0.4 % of the CBD, from the first width)
        assert np.mean(lab[out == 3] == 3) > 0.93
        assert np.mean(out[lab == 1] == 3) < 0.01


# ----------------------------------------------------------------------------- the accuracy table

@pytest.mark.parametrize("snr", [6, 8])
def test_accuracy_with_all_artifacts(electrode, snr):
    img, truth = image_of(electrode, snr, seed=snr)
    res = segment_image(img, SP_IMAGE)
    # a PFIB-like stack (200 nm slices under 100 nm pixels): all four phases, every FIB-SEM
    # correction, nothing to notice
    rep = res["report"]
    assert rep["phases"] == ["pore", "cbd", "am", "crack"] and res["notices"] == []
    assert rep["phase_detection"]["n_levels"] == 3 and rep["fibsem"]["fibsem"]
    assert all(rep["corrections"][k]["ran"] for k in ("destripe", "drift", "pore_back"))
    assert "FIB-SEM-like" in rep["corrections"]["destripe"]["why"]
    s = scores(res["labels"], truth)
    assert s["am"] >= 0.96, s
    assert s["cbd"] >= 0.80, s
    assert s["pore+crack"] >= 0.92, s
    assert s["dfrac"] <= 0.015, s
    assert abs(s["crack_rel"]) <= 0.25, s


@pytest.mark.slow
@pytest.mark.parametrize("snr", [4, 6, 8, 12])
@pytest.mark.parametrize("seed", [1, 2])
def test_accuracy_other_electrodes(snr, seed):
    lab = generate_electrode((80, 96, 96), SP_LABELS, seed=seed, d50_um=6.0)["labels"]
    img, truth = image_of(lab, snr, seed=100 + seed)
    s = scores(segment_image(img, SP_IMAGE)["labels"], truth)
    print(snr, seed, s)
    if snr >= 6:
        assert s["am"] >= 0.96 and s["cbd"] >= 0.80 and s["pore+crack"] >= 0.92, s
        assert s["dfrac"] <= 0.015 and abs(s["crack_rel"]) <= 0.25, s


# ----------------------------------------------------------------------------- arguments

def test_bad_arguments():
    with pytest.raises(BadInput) as err:
        parse_phases("pore,cbd,stuff")
    assert err.value.source == "phases" and "--" not in str(err.value)   # the keyword, not a CLI flag
    with pytest.raises(BadInput):
        segment_image(np.zeros((4, 4, 4, 4), np.float32), 1.0)
    with pytest.raises(BadInput):
        segment_image(np.full((4, 8, 8), np.nan, np.float32), 1.0)
    with pytest.raises(BadInput):
        segment_image(np.zeros((4, 8, 8), np.float32), 1.0, denoise="magic")
    assert parse_phases("am,pore") == ("pore", "am")

    for kw in ({"method": "magic"}, {"denoise": "magic"}, {"slice_axis": "w"}, {"fibsem": "yes"}, {"destripe": 1}):
        with pytest.raises(BadInput) as err:
            segment_image(np.zeros((4, 8, 8), np.float32), 1.0, **kw)
        assert err.value.source == next(iter(kw)) and "--" not in str(err.value), err.value


def test_axes_by_name():
    """Axis keywords take "z", "y", "x" as well as the array indices 0, 1, 2."""
    from electrovox.filters.image.corrections import destripe
    rng = np.random.default_rng(0)
    img = rng.normal(size=(6, 24, 20)).astype(np.float32)
    sp = (0.2, 0.1, 0.1)
    a, info = destripe(img, sp, slice_axis="z", beam_axis="y")
    b, _ = destripe(img, sp, slice_axis=0, beam_axis=1)
    assert np.array_equal(a, b) and info["beam_axis"] == 1
    c, _ = run_step(img, sp, "drift", slice_axis="x")
    d, _ = run_step(img, sp, "drift", slice_axis=2)
    assert np.array_equal(c, d)
    assert fibsem_like(sp, "z") == fibsem_like(sp, 0)


def test_fibsem_like_from_anisotropy_or_given():
    # the study's PFIB voxels (6.6 : 1) and the phantoms' (2 : 1) are FIB-SEM-like; cubic CT voxels
    # and a tilt-corrected SEM pixel (1.27 : 1 in the plane) are not
    assert fibsem_like((0.1, 0.0152, 0.0152))[0] and fibsem_like(SP_IMAGE)[0]
    assert not fibsem_like(0.4)[0] and not fibsem_like((0.1, 0.127, 0.1))[0]
    yes, why = fibsem_like(0.4, fibsem=True)
    assert yes and "given" in why
    assert not fibsem_like(SP_IMAGE, fibsem=False)[0]


# ----------------------------------------------------------------------------- X-ray CT: what the image supports

SP_CT = (0.4, 0.4, 0.4)          # lab / synchrotron CT voxels: cubic, 400 nm


@pytest.fixture(scope="module")
def ct_electrode():
    """A CT-like image of an electrode with 9 % CBD that CT cannot resolve (see tests/_ct_phantom.py)."""
    from _ct_phantom import render_ct
    lab = generate_electrode((96, 96, 96), SP_CT, seed=1, d50_um=8.0)["labels"]
    assert np.mean(lab == 1) > 0.08                      # the CBD is there ...
    return lab, render_ct(lab, snr=6, psf_sigma_vox=0.8, seed=6)   # ... but shows at the pore's grey


def test_phase_detector_follows_the_image(electrode, ct_electrode):
    """detect_phases counts the grey levels the phase interiors show, whatever made the image:
    the PFIB phantom shows three (CBD resolved), the CT-like one two; the same CT renderer with a
    CBD grey level of its own (0.45 between 0.2 and 0.75) on the same grid as the PFIB labels
    shows three again."""
    from _ct_phantom import render_ct
    img, _ = image_of(electrode, 6, seed=6)
    pfib = detect_phases(default_denoise(img, SP_IMAGE), SP_IMAGE)
    assert pfib["n_levels"] == 3 and pfib["cbd_resolved"] and pfib["phases"] == ("pore", "cbd", "am")
    # measured peak resolutions 1.73 (pore-CBD) and 1.62 (CBD-am) against the threshold 1
    assert min(pfib["resolution"]) > 1.3
    _, ct_img = ct_electrode
    ct = detect_phases(default_denoise(ct_img, SP_CT), SP_CT)
    assert ct["n_levels"] == 2 and not ct["cbd_resolved"] and ct["phases"] == ("pore", "am")
    lv = ct["levels"]["means"]
    assert lv[0] == pytest.approx(0.2, abs=0.02) and lv[1] == pytest.approx(0.75, abs=0.02)
    resolved = render_ct(electrode, snr=8, seed=3, levels={0: 0.2, 1: 0.45, 2: 0.75, 3: 0.2})
    assert detect_phases(default_denoise(resolved, SP_LABELS), SP_LABELS)["cbd_resolved"]
    unresolved = render_ct(electrode, snr=8, seed=3)
    assert not detect_phases(default_denoise(unresolved, SP_LABELS), SP_LABELS)["cbd_resolved"]


def test_ct_image_falls_back_to_what_it_resolves(ct_electrode):
    """Default phases on a CT-like image: pore / am / crack with a one-line notice, no FIB-SEM
    correction, and the particles keep their size.

    Tolerance: a particle surface shifted by a tenth of a voxel changes the active-material
    fraction by S_v * 0.04 um = 1.9 points (S_v = 6 * 0.62 / 8 um = 0.47 / um for d50 = 8 um at
    62 % particles), so 2 points holds the surfaces within about a tenth of a voxel of the truth
    (measured +1.2 to +1.5 points at SNR 4-10; a 3-class segmentation instead hands the blurred
    particle edges to a CBD class)."""
    lab, img = ct_electrode
    res = segment_image(img, SP_CT)
    rep, seg = res["report"], res["labels"]
    assert rep["phases_requested"] == ["pore", "cbd", "am", "crack"]
    assert rep["phases"] == ["pore", "am", "crack"] and "cbd" not in rep["fractions"]
    assert not np.any(seg == 1)
    assert len(res["notices"]) == 1 and "\n" not in res["notices"][0]
    assert "not resolved" in res["notices"][0] and "pore,am,crack" in res["notices"][0]
    assert not rep["fibsem"]["fibsem"] and "destripe" not in rep["steps"]
    for k in ("destripe", "drift", "pore_back"):
        assert not rep["corrections"][k]["ran"], rep["corrections"]
    assert "not FIB-SEM-like" in rep["corrections"]["destripe"]["why"]
    am, am_true = np.mean(seg == 2), np.mean(lab == 2)
    particles, particles_true = np.mean((seg == 2) | (seg == 3)), np.mean((lab == 2) | (lab == 3))
    assert abs(am - am_true) < 0.02, (am, am_true)
    assert abs(particles - particles_true) < 0.02, (particles, particles_true)
    # asked strictly, the CBD that is not in the image is refused with the fix
    with pytest.raises(BadInput) as err:
        segment_image(img[:24], SP_CT, phases_strict=True)
    assert err.value.source == "phases" and "phases='pore,am,crack'" in err.value.fix
    # explicit switches win over the detection of the kind of data, and are recorded as given
    forced = segment_image(img[:24], SP_CT, fibsem=True, phases="pore,am")["report"]
    assert forced["corrections"]["destripe"]["ran"] and "fibsem=True given" in forced["corrections"]["destripe"]["why"]
    assert not forced["corrections"]["pore_back"]["ran"]          # needs three phases


def test_phase_detector_on_real_sem_volume(real_data):
    """The real binary lab-CT volume (0 = pore + CBD, 128 = NMC): two grey levels, CBD not resolved."""
    import tifffile
    vol = tifffile.imread(real_data["sem"])
    det = detect_phases(vol, 1.0)
    assert det["n_levels"] == 2 and not det["cbd_resolved"]
    assert det["levels"]["means"] == pytest.approx([0.0, 128.0], abs=1.0)
