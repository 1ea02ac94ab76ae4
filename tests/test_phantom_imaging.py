"""PFIB-SEM image phantom (solvers.phantoms.imaging): grid and truth, grey levels, SNR, and each
artifact checked alone against its defining formula.

Most checks switch every effect off except the one under test and use noise-free float32 output,
so the expected values are exact up to float32 rounding (rtol 1e-5); checks with noise state
their tolerance from the standard error of the estimate.
"""

import math

import numpy as np
import pytest

from electrovox.errors import BadInput
from electrovox.solvers.phantoms import imaging
from electrovox.solvers.phantoms.imaging import DEFAULT_GREY_LEVELS, measure_snr, simulate_fibsem

PORE, CBD, AM, CRACK, SEP, COLL = range(6)
ALL_OFF = dict(grain_contrast=0, cbd_texture=0, psf_sigma_um=None, curtaining=0, drift=0, pore_back=0,
               snr=None)


def off(**kw):
    """Every effect off, then the given ones on."""
    return {**ALL_OFF, **kw}


def mixed_labels(shape=(24, 40, 40), seed=3):
    """Blocky random labels of all six phases (blocks of 2x4x4 voxels)."""
    rng = np.random.default_rng(seed)
    coarse = rng.choice(6, size=(shape[0] // 2, shape[1] // 4, shape[2] // 4), p=[.3, .1, .45, .05, .05, .05])
    return coarse.repeat(2, 0).repeat(4, 1).repeat(4, 2).astype(np.uint8)


# ------------------------------------------------------------------------------ grid and truth
def test_grid_shape_and_truth_is_nearest_label():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, size=(7, 9, 11)).astype(np.uint8)
    spacing = np.array([0.1, 0.03, 0.02])
    ispc = np.array([0.03, 0.0152, 0.035])
    out = simulate_fibsem(labels, spacing, image_spacing=ispc, **off())
    truth = out["truth"]
    # extents 0.7, 0.27, 0.22 um -> floor(23.33), floor(17.76), floor(6.29)
    assert truth.shape == out["image"].shape == (23, 17, 6)
    assert truth.dtype == np.uint8
    # reference: for every image voxel, the label voxel that contains its centre (explicit loops)
    for i in range(truth.shape[0]):
        for j in range(truth.shape[1]):
            for k in range(truth.shape[2]):
                c = (np.array([i, j, k]) + 0.5) * ispc
                src = tuple(min(int(c[a] // spacing[a]), labels.shape[a] - 1) for a in range(3))
                assert truth[i, j, k] == labels[src]
    np.testing.assert_allclose(out["report"]["image_origin_offset_um"], ispc / 2 - spacing / 2)


def test_slab_lands_at_its_physical_depth():
    # a collector slab 0.5 um thick at z = 0 on 0.05 um labels; image planes every 0.1 um have
    # centres at 0.05, 0.15, ...: exactly the first 5 planes lie inside it
    labels = np.zeros((40, 6, 6), np.uint8)
    labels[:10] = COLL
    labels[10:] = AM
    out = simulate_fibsem(labels, 0.05, image_spacing=(0.1, 0.025, 0.025), **off())
    t = out["truth"]
    assert t.shape == (20, 12, 12)
    assert np.all(t[:5] == COLL) and np.all(t[5:] == AM)


def test_sphere_stays_a_sphere_on_anisotropic_grid():
    # sphere of radius 0.8 um on cubic 0.04 um labels, imaged on 0.1 x 0.02 x 0.03 um voxels
    s, r = 0.04, 0.8
    n = (60, 50, 55)
    c = np.array([1.21, 0.97, 1.13])
    z, y, x = [(np.arange(k) + 0.5) * s for k in n]  # label voxel centres from the box face
    inside = (z[:, None, None] - c[0]) ** 2 + (y[None, :, None] - c[1]) ** 2 + (x[None, None, :] - c[2]) ** 2
    labels = np.where(inside < r * r, AM, PORE).astype(np.uint8)
    ispc = np.array([0.1, 0.02, 0.03])
    out = simulate_fibsem(labels, s, image_spacing=ispc, **off())
    t = out["truth"]
    assert out["report"]["slice_axis"] == 0
    zi, yi, xi = np.nonzero(t == AM)
    pts = (np.stack([zi, yi, xi], 1) + 0.5) * ispc  # image voxel centres in um
    # every am voxel centre lies in a label voxel whose centre is inside: within half a label
    # voxel diagonal of the sphere; every pore voxel centre likewise outside
    h = s * math.sqrt(3) / 2
    d = np.linalg.norm(pts - c, axis=1)
    assert d.max() < r + h
    zp, yp, xp = np.nonzero(t == PORE)
    dp = np.linalg.norm((np.stack([zp, yp, xp], 1) + 0.5) * ispc - c, axis=1)
    assert dp.min() > r - h
    # centroid at the centre (0.01 um = a quarter of a label voxel) and equal second moments
    # r^2/5 per axis (5 %: staircase of 0.04 um on 0.8 um, sampled on 0.1 um planes along z)
    np.testing.assert_allclose(pts.mean(0), c, atol=0.01)
    np.testing.assert_allclose(pts.var(0), r * r / 5, rtol=0.05)
    # the volume too: 4/3 pi r^3 within 3 %
    assert len(pts) * np.prod(ispc) == pytest.approx(4 / 3 * math.pi * r ** 3, rel=0.03)


# ------------------------------------------------------------------------------ grey levels
@pytest.mark.parametrize("dtype", ["uint16", "uint8", "float32"])
def test_levels_exact_with_everything_off(dtype):
    labels = mixed_labels()
    out = simulate_fibsem(labels, (0.1, 0.02, 0.02), image_spacing=(0.1, 0.02, 0.02), dtype=dtype, **off())
    img, t = out["image"], out["truth"]
    assert img.dtype == np.dtype(dtype) and img.shape == labels.shape
    np.testing.assert_array_equal(t, labels)  # same grid: truth is the labels
    scale = 1.0 if dtype == "float32" else np.iinfo(dtype).max
    for idx, name in enumerate(["pore", "cbd", "am", "crack", "separator", "collector"]):
        expect = DEFAULT_GREY_LEVELS[name] * scale
        vals = img[t == idx]
        if dtype == "float32":
            np.testing.assert_array_equal(vals, np.float32(expect))
        else:
            assert np.all(vals == round(expect))  # exact up to quantisation (rounding)
        assert out["report"]["grey_levels_dtype"][name] == pytest.approx(expect, abs=0.5)
    assert out["report"]["clipped_fraction"] == 0


def test_custom_grey_levels_and_legend():
    # the NREL legend (0 pore, 1 am, 2 cbd) with custom levels
    labels = np.zeros((4, 6, 6), np.uint8)
    labels[:, :, :2] = 1
    labels[:, :, 4:] = 2
    out = simulate_fibsem(labels, 0.1, image_spacing=0.1, legend={0: "pore", 1: "am", 2: "cbd"},
                          grey_levels={"am": 0.9, "pore": 0.1}, dtype="float32", **off())
    img = out["image"]
    assert np.all(img[:, :, :2] == np.float32(0.9))
    assert np.all(img[:, :, 2:4] == np.float32(0.1))
    assert np.all(img[:, :, 4:] == np.float32(DEFAULT_GREY_LEVELS["cbd"]))


def test_mean_levels_ordered_with_all_defaults():
    labels = mixed_labels((40, 64, 64))
    out = simulate_fibsem(labels, (0.1, 0.02, 0.02), image_spacing=(0.1, 0.02, 0.02), seed=5)
    img, t = out["image"].astype(np.float64), out["truth"]
    m = {p: img[t == p].mean() for p in (PORE, CBD, AM)}
    assert m[AM] > m[CBD] > m[PORE]
    means = out["report"]["phase_means_dtype"]
    assert means["am"] > means["cbd"] > means["pore"]
    assert means["am"] == pytest.approx(m[AM], rel=1e-9)


# ------------------------------------------------------------------------------ SNR
def two_phase(shape=(32, 128, 128)):
    labels = np.full(shape, PORE, np.uint8)
    labels[:, :, shape[2] // 2:] = AM
    return labels


@pytest.mark.parametrize("snr", [4.0, 8.0, 12.0])
@pytest.mark.parametrize("read_fraction", [0.0, 0.3, 1.0])
def test_snr_measured_equals_requested(snr, read_fraction):
    # float32: no clipping, no quantisation; blur off so there is no partial volume.  2 x 262k
    # voxels: the SNR estimate's relative standard error is ~0.2 %, so 1 % is > 4 standard errors
    out = simulate_fibsem(two_phase(), 0.05, image_spacing=0.05, dtype="float32",
                          noise_read_fraction=read_fraction, **{**ALL_OFF, "snr": snr})
    measured = measure_snr(out["image"], out["truth"])
    assert measured == pytest.approx(snr, rel=0.01)
    assert out["report"]["snr_measured"] == pytest.approx(measured, rel=1e-9)
    assert out["report"]["snr_requested"] == snr
    # the noise really is signal dependent: var(am) - var(pore) = shot * (level_am - level_pore)
    img, t = out["image"], out["truth"]
    rep = out["report"]
    dvar = img[t == AM].var() - img[t == PORE].var()
    expect = rep["noise_shot_coefficient"] * rep["contrast"]
    assert dvar == pytest.approx(expect, abs=0.03 * rep["noise_sigma_mid"] ** 2)


@pytest.mark.parametrize("snr", [4.0, 8.0, 12.0])
def test_snr_on_uint16_output(snr):
    # uint16 with levels that leave > 2.6 sigma of headroom at SNR 4 (0.3 / 0.7): at most 0.4 %
    # of the am voxels clip, which lowers their std by < 0.5 %; tolerance 2 %
    out = simulate_fibsem(two_phase(), 0.05, image_spacing=0.05, grey_levels={"pore": 0.3, "am": 0.7},
                          **{**ALL_OFF, "snr": snr})
    assert out["image"].dtype == np.uint16
    assert out["report"]["clipped_fraction"] < 0.005
    assert measure_snr(out["image"], out["truth"]) == pytest.approx(snr, rel=0.02)


def test_snr_in_interiors_with_blur():
    # blur smears the interface (partial volume): over all voxels the SNR reads low; eroding each
    # phase by 3 sigma of the point spread recovers the requested value (1 %, as above)
    out = simulate_fibsem(two_phase((32, 128, 128)), 0.02, image_spacing=0.02, dtype="float32",
                          **{**ALL_OFF, "snr": 8.0, "psf_sigma_um": 0.06})
    rep = out["report"]
    assert rep["interior_margin_vox"] == [9, 9, 9]
    assert rep["snr_measured"] < 7.8
    assert rep["snr_measured_interior"] == pytest.approx(8.0, rel=0.01)
    assert measure_snr(out["image"], out["truth"], margin=9) == pytest.approx(rep["snr_measured_interior"])


def test_measured_snr_with_all_artifacts_is_lower():
    out = simulate_fibsem(mixed_labels((40, 64, 64)), (0.1, 0.02, 0.02), image_spacing=(0.1, 0.02, 0.02))
    rep = out["report"]
    assert rep["snr_requested"] == 8.0
    assert 3.0 < rep["snr_measured"] < 8.0  # grain, texture, pore-back, drift add within-phase spread


def test_measure_snr_errors():
    img = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(BadInput, match="no am or no pore"):
        measure_snr(img, np.zeros((2, 3, 4), np.uint8))
    with pytest.raises(BadInput):
        measure_snr(img, np.zeros((2, 3, 5), np.uint8))


# ------------------------------------------------------------------------------ pore-back
def pore_back_labels(n=40, solid_at=30):
    """Pores in front of a solid wall (am in half the columns, cbd in the other half) along z;
    a second wall at z < 5 lies on the already-milled side and must not shine; a crack pocket."""
    labels = np.full((n, 16, 16), PORE, np.uint8)
    labels[solid_at:, :, :8] = AM
    labels[solid_at:, :, 8:] = CBD
    labels[:5] = AM
    labels[20:25, 10:14, 2:6] = CRACK
    return labels


@pytest.mark.parametrize("slice_axis", [0, 2])
def test_pore_back_follows_its_formula(slice_axis):
    labels = pore_back_labels()
    dz, alpha, depth = 0.1, 0.3, 0.5
    if slice_axis == 2:  # the same scene milled along x
        labels = np.ascontiguousarray(np.moveaxis(labels, 0, 2))
    out = simulate_fibsem(labels, dz, image_spacing=dz, slice_axis=slice_axis, dtype="float32",
                          **off(pore_back=alpha, pore_back_depth_um=depth))
    img = np.moveaxis(out["image"], slice_axis, 0)
    lv = DEFAULT_GREY_LEVELS
    expect = np.empty_like(img)
    k = np.arange(40)[:, None, None]
    # distance from the voxel centre to the wall's face at z = 30 dz
    shine = alpha * np.exp(-(30 - k - 0.5) * dz / depth)
    expect[:] = lv["pore"] + shine * np.where(np.arange(16) < 8, lv["am"], lv["cbd"])[None, None, :]
    expect[:5] = lv["am"]
    expect[30:, :, :8] = lv["am"]
    expect[30:, :, 8:] = lv["cbd"]
    np.testing.assert_allclose(img, expect, rtol=1e-5)  # cracks are empty too (same level as pores)
    assert out["report"]["pore_back_reach_fraction"] == 1.0


def test_pore_back_decreases_with_depth_and_is_absent_when_off():
    labels = pore_back_labels()
    labels[20:25] = PORE
    kw = dict(image_spacing=0.1, psf_sigma_um=None, curtaining=0, drift=0, grain_contrast=0, cbd_texture=0,
              snr=8.0, seed=1)
    lv = DEFAULT_GREY_LEVELS
    on = simulate_fibsem(labels, 0.1, pore_back=0.3, **kw)["image"].astype(np.float64) / 65535
    no = simulate_fibsem(labels, 0.1, pore_back=0, **kw)["image"].astype(np.float64) / 65535
    # plane means over the 256 pore voxels in front of the wall, distances 0.05 .. 0.95 um: the
    # step between neighbours (>= 0.0046 at 0.95 um) is > 3 standard errors (sigma ~0.055/16)
    m_on = on[20:30].mean(axis=(1, 2))
    assert np.all(np.diff(m_on) > 0)  # brighter towards the wall
    # without pore-back the pore planes sit at the pore level, flat in depth (within 4 SE)
    m_no = no[5:30].mean(axis=(1, 2))
    assert np.all(np.abs(m_no - lv["pore"]) < 4 * 0.055 / 16)


# ------------------------------------------------------------------------------ blur
def test_blur_sigmas_are_in_micrometres_per_axis():
    # a step normal to x and one normal to z; the derivative of a blurred step is the kernel, whose
    # standard deviation must be the requested sigma in um (1 %: discrete kernel, 4-sigma cut)
    spc = np.array([0.05, 0.01, 0.01])
    psf = (0.2, 0.0, 0.03)
    labels = np.full((80, 4, 80), PORE, np.uint8)
    labels[:, :, 40:] = AM
    labels[40:] = AM
    out = simulate_fibsem(labels, spc, image_spacing=spc, dtype="float32", **off(psf_sigma_um=psf))

    def kernel_sigma(profile, step):
        w = np.diff(profile.astype(np.float64))
        x = np.arange(w.size)
        mu = (w * x).sum() / w.sum()
        return math.sqrt((w * (x - mu) ** 2).sum() / w.sum()) * step

    img = out["image"]
    assert kernel_sigma(img[10, 2, :], spc[2]) == pytest.approx(psf[2], rel=0.01)
    assert kernel_sigma(img[:, 2, 10], spc[0]) == pytest.approx(psf[0], rel=0.01)
    np.testing.assert_array_equal(img[:, 0], img[:, 3])  # no blur along y
    assert out["report"]["psf_sigma_vox"] == pytest.approx([4.0, 0.0, 3.0])


def test_default_psf_is_widest_along_the_slice_axis():
    rep = simulate_fibsem(mixed_labels(), 0.05, image_spacing=(0.02, 0.05, 0.02))["report"]
    assert rep["slice_axis"] == 1
    assert rep["psf_sigma_um"] == [0.01, 0.03, 0.01]
    assert rep["beam_axis"] == 0  # the thickness axis z lies in the slice plane


# ------------------------------------------------------------------------------ grains, texture
def test_grain_contrast_is_piecewise_constant_in_am_and_texture_in_cbd():
    labels = np.full((40, 100, 100), AM, np.uint8)
    labels[:, :, 50:] = CBD
    spc = (0.1, 0.02, 0.02)
    out = simulate_fibsem(labels, spc, image_spacing=spc, dtype="float32",
                          **off(grain_contrast=0.05, grain_size_um=0.4, cbd_texture=0.1, cbd_texture_um=0.03))
    img, rep = out["image"], out["report"]
    am = img[:, :, :50]
    lv = DEFAULT_GREY_LEVELS
    # one value per grain: far fewer distinct values than voxels, about one per grain
    n_values = np.unique(am).size
    box = 4.0 * 2.0 * 1.0
    n_grains = box / (math.pi / 6 * 0.4 ** 3)  # ~ 64 grains expected in the am half
    assert 0.5 * n_grains < n_values < 2 * n_grains
    # grain offsets: std 5 % of the am level; ~100 grains -> 15 % sampling error, so 35 %
    assert am.std() == pytest.approx(0.05 * lv["am"], rel=0.35)
    assert am.mean() == pytest.approx(lv["am"], abs=0.03 * lv["am"])
    # CBD texture: std 10 % of the CBD level; 200k voxels with a 1.5-voxel correlation: ~2 %
    cbd = img[:, :, 52:]  # away from the am (texture smoothing does not cross phases anyway)
    assert cbd.std() == pytest.approx(0.1 * lv["cbd"], rel=0.05)
    assert cbd.mean() == pytest.approx(lv["cbd"], abs=0.005)
    assert rep["grain_count"] > 0


# ------------------------------------------------------------------------------ curtaining
def curtain_diff(strength, labels, **kw):
    args = dict(image_spacing=(0.1, 0.02, 0.02), dtype="float32", seed=7)
    a = simulate_fibsem(labels, (0.1, 0.02, 0.02), **args, **off(curtaining=strength, **kw))
    b = simulate_fibsem(labels, (0.1, 0.02, 0.02), **args, **off(**kw))
    return a["image"].astype(np.float64) - b["image"], a["report"]


def test_curtaining_stripes_scale_with_strength():
    labels = mixed_labels((40, 64, 96))
    contrast = DEFAULT_GREY_LEVELS["am"] - DEFAULT_GREY_LEVELS["pore"]
    var = {}
    for s in (0.0, 0.05, 0.1):
        d, rep = curtain_diff(s, labels)
        assert rep["beam_axis"] == 1 and rep["across_axis"] == 2
        # stripes: constant along the beam axis (image columns), varying across it
        assert np.abs(d - d[:, :1, :]).max() < 1e-6
        profile = d.mean(axis=1)  # column-mean profile per slice
        var[s] = profile.var()
        if s:
            assert var[s] == pytest.approx((s * contrast) ** 2, rel=1e-4)  # normalised field
            # slowly varying from slice to slice: persistence 1 um = 10 slices
            r = np.corrcoef(profile[:-1].ravel(), profile[1:].ravel())[0, 1]
            assert r > 0.95
    assert var[0.0] == 0.0
    assert var[0.1] / var[0.05] == pytest.approx(4.0, rel=1e-4)


def test_curtaining_visible_through_noise():
    # uniform am, SNR 8, uint16: column means over 128 rows carry noise var sigma_am^2/128, which
    # is subtracted; the remaining stripe variance matches (0.1 * contrast)^2 within 5 %
    labels = np.full((30, 128, 96), AM, np.uint8)
    kw = dict(image_spacing=(0.1, 0.02, 0.02), grain_contrast=0, cbd_texture=0, psf_sigma_um=None, drift=0,
              pore_back=0, snr=8.0)
    stripe = {}
    for s in (0.0, 0.1):
        out = simulate_fibsem(labels, (0.1, 0.02, 0.02), curtaining=s, **kw)
        img = out["image"].astype(np.float64) / 65535
        rep = out["report"]
        noise_var = (rep["noise_shot_coefficient"] * rep["grey_levels"]["am"] + rep["noise_read_sigma"] ** 2)
        stripe[s] = img.mean(axis=1).var() - noise_var / 128
    contrast = rep["contrast"]
    assert abs(stripe[0.0]) < 0.05 * (0.1 * contrast) ** 2
    assert stripe[0.1] == pytest.approx((0.1 * contrast) ** 2, rel=0.05)


# ------------------------------------------------------------------------------ drift
def test_slice_means_follow_the_applied_gain():
    labels = mixed_labels((60, 32, 32))
    spc = (0.1, 0.02, 0.02)
    a = simulate_fibsem(labels, spc, image_spacing=spc, dtype="float32", **off(drift=0.05))
    b = simulate_fibsem(labels, spc, image_spacing=spc, dtype="float32", **off())
    g = np.array(a["report"]["drift_gain"])
    o = np.array(a["report"]["drift_offset"])
    assert g.shape == (60,) and np.std(g) == pytest.approx(0.05, rel=1e-9)
    m_a = a["image"].mean(axis=(1, 2), dtype=np.float64)
    m_b = b["image"].mean(axis=(1, 2), dtype=np.float64)
    np.testing.assert_allclose(m_a, g * m_b + o, rtol=1e-5)
    assert np.abs(np.diff(g)).max() < 0.3 * np.ptp(g)  # smooth: no jumps between slices


def test_drift_through_noise():
    # uniform am, SNR 8: plane means over 4096 voxels have SE ~0.08/64; tolerance 6 SE
    labels = np.full((50, 64, 64), AM, np.uint8)
    out = simulate_fibsem(labels, (0.1, 0.02, 0.02), image_spacing=(0.1, 0.02, 0.02),
                          **off(drift=0.05, snr=8.0))
    rep = out["report"]
    m = out["image"].mean(axis=(1, 2), dtype=np.float64) / 65535
    expect = rep["grey_levels"]["am"] * np.array(rep["drift_gain"]) + np.array(rep["drift_offset"])
    assert np.abs(m - expect).max() < 6 * 0.08 / 64
    assert np.corrcoef(m, expect)[0, 1] > 0.95


# ------------------------------------------------------------------------------ determinism, inputs
def test_deterministic_by_seed_and_independent_of_slab_size(monkeypatch):
    labels = mixed_labels((24, 40, 40))
    spc = (0.1, 0.02, 0.02)
    a = simulate_fibsem(labels, spc, image_spacing=spc, seed=11)
    b = simulate_fibsem(labels, spc, image_spacing=spc, seed=11)
    c = simulate_fibsem(labels, spc, image_spacing=spc, seed=12)
    np.testing.assert_array_equal(a["image"], b["image"])
    assert not np.array_equal(a["image"], c["image"])
    ra, rb = dict(a["report"]), dict(b["report"])
    ra.pop("wall_s"), rb.pop("wall_s")
    assert ra == rb
    monkeypatch.setattr(imaging, "_SLAB_VOXELS", 3 * 40 * 40)  # slabs of 3 planes instead of all
    d = simulate_fibsem(labels, spc, image_spacing=spc, seed=11)
    np.testing.assert_array_equal(a["image"], d["image"])


def test_effects_use_independent_random_streams():
    # switching the curtains off leaves every other effect's realisation unchanged (grains,
    # texture, drift, noise): with signal-independent noise (read only) the difference is exactly
    # the stripe pattern, constant along the beam axis (float32 rounding: 1e-6)
    labels = mixed_labels((24, 40, 40))
    spc = (0.1, 0.02, 0.02)
    kw = dict(image_spacing=spc, dtype="float32", seed=4, noise_read_fraction=1.0)
    a = simulate_fibsem(labels, spc, curtaining=0.1, **kw)["image"].astype(np.float64)
    b = simulate_fibsem(labels, spc, curtaining=0.0, **kw)["image"].astype(np.float64)
    d = a - b
    assert np.abs(d - d.mean(axis=1, keepdims=True)).max() < 1e-6
    assert d.std() > 0.01


@pytest.mark.parametrize("kw, word", [
    (dict(dtype="int8"), "dtype"),
    (dict(curtaining=-1), "curtaining"),
    (dict(slice_axis=3), "slice_axis"),
    (dict(beam_axis=0, slice_axis=0), "beam_axis"),
    (dict(image_spacing=(0.1, 0, 0.1)), "image_spacing"),
    (dict(image_spacing=10.0), "empty"),
    (dict(snr=0), "snr"),
    (dict(grey_levels={"graphite": 0.5}), "graphite"),
    (dict(seed=-1), "seed"),
])
def test_bad_arguments(kw, word):
    with pytest.raises(BadInput, match=word):
        simulate_fibsem(mixed_labels((4, 8, 8)), 0.1, **kw)


def test_bad_labels():
    with pytest.raises(BadInput, match="not in the legend"):
        simulate_fibsem(np.full((4, 4, 4), 9, np.uint8), 0.1)
    with pytest.raises(BadInput, match="not integers"):
        simulate_fibsem(np.zeros((4, 4, 4), np.float32), 0.1)


def test_report_is_json_ready():
    import json
    rep = simulate_fibsem(mixed_labels((8, 16, 16)), 0.05, image_spacing=(0.1, 0.025, 0.025))["report"]
    json.dumps(rep)
    assert rep["image_shape"] == [4, 32, 32]



# ------------------------------------------------------------------------------ settings
def _same(a, b):
    assert np.array_equal(a["image"], b["image"]) and np.array_equal(a["truth"], b["truth"])
    ra, rb = dict(a["report"]), dict(b["report"])
    ra.pop("wall_s"), rb.pop("wall_s")
    assert ra == rb


def test_config_and_keywords_are_the_same_settings():
    labels = mixed_labels((8, 16, 16))
    kw = dict(image_spacing=(0.1, 0.05, 0.05), snr=6.0, seed=2, pore_back=0.0, curtaining=0.1, drift=0.0)
    by_keywords = simulate_fibsem(labels, (0.1, 0.05, 0.05), **kw)
    by_config = simulate_fibsem(labels, (0.1, 0.05, 0.05), config=imaging.FibsemConfig(**kw))
    _same(by_keywords, by_config)
    # keywords replace the config's fields
    base = imaging.FibsemConfig(**{**kw, "seed": 9, "snr": None})
    _same(by_keywords, simulate_fibsem(labels, (0.1, 0.05, 0.05), config=base, seed=2, snr=6.0))


def test_config_is_frozen_and_checked_when_made():
    import dataclasses
    cfg = imaging.FibsemConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.snr = 3.0
    with pytest.raises(BadInput, match="curtaining"):
        imaging.FibsemConfig(curtaining=-1)
    with pytest.raises(BadInput, match="slice_axis"):
        imaging.FibsemConfig(slice_axis="w")
    with pytest.raises(TypeError, match="snrr"):
        simulate_fibsem(mixed_labels((4, 8, 8)), 0.1, snrr=3.0)
    with pytest.raises(BadInput, match="config"):
        simulate_fibsem(mixed_labels((4, 8, 8)), 0.1, config={"snr": 3.0})


@pytest.mark.parametrize("name, index", [("z", 0), ("y", 1), ("x", 2)])
def test_axes_by_name_or_array_index(name, index):
    labels = mixed_labels((8, 16, 16))
    kw = dict(image_spacing=(0.1, 0.05, 0.05), seed=1)
    beam = "x" if name != "x" else "y"
    a = simulate_fibsem(labels, (0.1, 0.05, 0.05), slice_axis=name, beam_axis=beam, **kw)
    b = simulate_fibsem(labels, (0.1, 0.05, 0.05), slice_axis=index, beam_axis="zyx".index(beam), **kw)
    _same(a, b)
    assert a["report"]["slice_axis"] == index


def test_memory_guard_names_image_spacing(monkeypatch):
    labels = mixed_labels((8, 16, 16))
    monkeypatch.setenv("EVX_MEMORY_LIMIT_GB", "0.001")
    # a 1 nm image of a 0.8 x 0.8 x 0.8 um box: refused before anything is allocated
    with pytest.raises(BadInput) as e:
        simulate_fibsem(labels, 0.05, image_spacing=0.001)
    assert e.value.source == "image_spacing" and "GB" in str(e.value)
    # a coarse image still fits
    assert simulate_fibsem(labels, 0.05, image_spacing=0.1)["image"].shape == (4, 8, 8)


def test_peak_estimate_bounds_the_measured_peak():
    """The memory estimate is an upper bound of the peak that tracemalloc sees (numpy's arrays)."""
    import tracemalloc
    labels = mixed_labels((48, 96, 96))
    for kw in (dict(), dict(grain_size_um=2.0, dtype="float32")):
        cfg = imaging.FibsemConfig(image_spacing=0.05, **kw)
        tracemalloc.start()
        try:
            out = simulate_fibsem(labels, 0.05, config=cfg)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        est = imaging._peak_bytes(out["image"].shape, imaging._resolve(cfg))
        assert peak <= est <= 4 * peak

@pytest.mark.slow
def test_pfib_default_grid_256():
    # full default simulation on the PFIB grid: 256^3 image voxels from 0.05 um labels
    ispc = np.array([0.1, 0.0152, 0.0152])
    ext = 256 * ispc
    shape = tuple(int(math.ceil(e / 0.05)) for e in ext)
    labels = mixed_labels(tuple(int(4 * math.ceil(n / 4)) for n in shape))
    out = simulate_fibsem(labels, 0.05, image_spacing=ispc)
    assert out["image"].shape == tuple(int(math.floor(n * 0.05 / s + 1e-9)) for n, s in zip(labels.shape, ispc,
                                                                                          strict=True))
    rep = out["report"]
    assert rep["wall_s"] < 60
    assert rep["clipped_fraction"] < 0.01
    assert rep["phase_means_dtype"]["am"] > rep["phase_means_dtype"]["cbd"] > rep["phase_means_dtype"]["pore"]
