"""Resampling: the grid rule, exact interpolation of ramps, label fractions, nearest = phantom truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from electrovox.errors import BadInput
from electrovox.filters.image import resample as resample_module
from electrovox.filters.image.resample import output_grid, resample_image, resample_labels

PFIB = (0.1, 0.0152, 0.0152)


def _centres_um(shape, spacing):
    """Voxel centres (z, y, x) in um from the box's low face, as broadcastable 1D grids."""
    return [((np.arange(n) + 0.5) * s).reshape([-1 if k == a else 1 for k in range(3)])
            for a, (n, s) in enumerate(zip(shape, spacing, strict=True))]


def _ramp(shape, spacing):
    z, y, x = _centres_um(shape, spacing)
    return 1.0 + 1.0 * z + 0.5 * y - 0.25 * x     # float64, a few grey units over a few um


def _spheres(shape, spacing, n, r_range, seed):
    """Random overlapping spheres: labels 1 and 2 (2 drawn over 1) in background 0."""
    rng = np.random.default_rng(seed)
    lab = np.zeros(shape, np.uint8)
    sp = np.asarray(spacing)
    ext = np.asarray(shape) * sp
    z, y, x = _centres_um(shape, spacing)
    for _ in range(n):
        c = rng.uniform(0, 1, 3) * ext
        r = rng.uniform(*r_range)
        lo = np.maximum(0, np.floor((c - r) / sp).astype(int))
        hi = np.minimum(shape, np.ceil((c + r) / sp).astype(int) + 1)
        d2 = ((z[lo[0]:hi[0]] - c[0]) ** 2 + (y[:, lo[1]:hi[1]] - c[1]) ** 2 + (x[:, :, lo[2]:hi[2]] - c[2]) ** 2)
        lab[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]][d2 <= r * r] = rng.integers(1, 3)
    return lab


# ---------------------------------------------------------------------------------- grid rule
def test_output_grid_rule():
    assert output_grid((7, 9, 11), PFIB, 0.1) == ((7, 1, 1), pytest.approx((0.0, 0.0424, 0.0424)))
    # a partial voxel is dropped: 10 x 0.3 um = 3 um holds 4 voxels of 0.7 um (4.29)
    shape, shift = output_grid((10, 10, 10), 0.3, (0.7, 0.3, 0.15))
    assert shape == (4, 10, 20)
    assert shift == pytest.approx((0.2, 0.0, -0.075))
    # at least one voxel even when the new voxel is bigger than the box
    assert output_grid((2, 3, 4), 0.1, 1.0)[0] == (1, 1, 1)
    # exact multiples whose float quotient falls just short (+1e-9 counts them):
    n, s, ns = 3, 0.7, 0.21
    assert n * s / ns < 10.0                        # 9.999999999999998 in float64
    assert output_grid((n, 1, 1), (s, 1, 1), (ns, 1, 1))[0][0] == 10


def test_output_shapes_and_spacing_returned():
    img = np.zeros((6, 20, 30), np.uint16)
    out, ns, shift = resample_image(img, PFIB, 0.05)
    assert out.dtype == np.float32
    assert out.shape == output_grid(img.shape, PFIB, 0.05)[0] == (12, 6, 9)
    assert ns == (0.05, 0.05, 0.05)
    assert shift == pytest.approx((-0.025, 0.0174, 0.0174))
    lab, ns2, shift2 = resample_labels(img.astype(np.uint8), PFIB, (0.1, 0.05, 0.02))
    assert lab.dtype == np.uint8 and lab.shape == (6, 6, 22)
    assert ns2 == (0.1, 0.05, 0.02) and shift2 == pytest.approx((0.0, 0.0174, 0.0024))


# -------------------------------------------------------------------------------- greyscale
@pytest.mark.parametrize("new_spacing", [0.01, (0.1, 0.0125, 0.02), 0.018, (0.13, 0.0152, 0.011)])
@pytest.mark.parametrize("order", [1, 3])
def test_ramp_exact_without_antialiasing(new_spacing, order):
    # factors <= 1.5 per axis (no pre-smoothing): linear and Keys-cubic interpolation reproduce a
    # linear function exactly wherever the output centre lies between input centres (outside that
    # the value is held: mirrored about the box face).  1e-5: float32 rounding of values ~1..5
    # (measured <= 1.3e-6).
    shape = (12, 60, 70)
    src = _ramp(shape, PFIB).astype(np.float32)
    out, ns, _ = resample_image(src, PFIB, new_spacing, order=order)
    expect = _ramp(out.shape, ns)
    inside = np.ones(out.shape, bool)
    for k, c in enumerate(_centres_um(out.shape, ns)):
        lo, hi = 0.5 * PFIB[k], (shape[k] - 0.5) * PFIB[k]
        # cubic needs a second input centre on each side for exactness
        if order == 3:
            lo, hi = lo + PFIB[k], hi - PFIB[k]
        inside &= (c >= lo - 1e-12) & (c <= hi + 1e-12)
    assert inside.mean() > 0.5
    assert np.abs(out - expect)[inside].max() < 1e-5


def test_ramp_exact_with_antialiasing_pfib_to_cubic():
    # 15.2 nm -> 100 nm in-plane is a 6.6x reduction: pre-smoothed along y and x by a Gaussian of
    # sqrt((6.6^2 - 1) / 12) = 1.88 input pixels.  A symmetric kernel leaves a ramp unchanged away
    # from the faces (mirroring bends it within 4 sigma + 1 of them = 9 pixels = 1.4 output voxels):
    # exact to 1e-5 (float32 rounding, measured 5e-7) in the outputs 2 voxels in from each face;
    # near the faces the bend is measured 5.6e-4 (less than 0.1 % of the ramp's range).
    shape = (12, 200, 210)
    src = _ramp(shape, PFIB).astype(np.float32)
    calls = []
    out, ns, _ = resample_image(src, PFIB, 0.1, progress=lambda f, m=None: calls.append(f))
    assert out.shape == (12, 30, 31)
    err = np.abs(out - _ramp(out.shape, ns))
    assert err[:, 2:-2, 2:-2].max() < 1e-5
    assert err.max() < 1e-3
    assert calls[0] == 0.0 and calls[-1] == pytest.approx(1.0) and np.all(np.diff(calls) >= 0)


def test_ramp_exact_with_antialiasing_along_z():
    # 4x along z (sigma 1.12 slices), chunked along y: same reasoning and tolerance as above
    spacing = (0.05, 0.1, 0.1)
    src = _ramp((60, 10, 12), spacing).astype(np.float32)
    out, ns, _ = resample_image(src, spacing, (0.2, 0.1, 0.1))
    assert out.shape == (15, 10, 12)
    assert np.abs(out - _ramp(out.shape, ns))[2:-2].max() < 1e-5


def test_chunks_give_the_same_result(monkeypatch):
    # the 4 M voxel chunk budget is never reached by the test volumes: shrink it so that every
    # step runs in many chunks (along z, or along y for the z step) and the majority vote in many
    # z-slabs (each with its own slice of the z overlap matrix); results must equal the one-chunk
    # ones (float32: to rounding, 1e-6; labels: exactly)
    rng = np.random.default_rng(8)
    img = rng.standard_normal((30, 40, 50)).astype(np.float32)
    lab = rng.integers(0, 3, (30, 40, 50)).astype(np.uint8)
    new = (0.23, 0.05, 0.011)            # 2.3x down along z (anti-aliased), 2.5x down, 1.4x up
    ref_img = resample_image(img, (0.1, 0.02, 0.0152), new)[0]
    ref_maj = resample_labels(lab, (0.1, 0.02, 0.0152), new)[0]
    ref_near = resample_labels(lab, (0.1, 0.02, 0.0152), new, method="nearest")[0]
    monkeypatch.setattr(resample_module, "_SLAB_VOXELS", 3000)
    np.testing.assert_allclose(resample_image(img, (0.1, 0.02, 0.0152), new)[0], ref_img, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(resample_labels(lab, (0.1, 0.02, 0.0152), new)[0], ref_maj)
    np.testing.assert_array_equal(resample_labels(lab, (0.1, 0.02, 0.0152), new, method="nearest")[0], ref_near)


def test_antialiasing_reduces_noise_like_a_coarse_detector():
    # white noise downsampled 4x along y and x: pre-smoothing by sigma = sqrt(15 / 12) = 1.12 px
    # leaves 1 / (2 sqrt(pi) sigma) = 0.252 of the std, and linear interpolation half-way between
    # two such correlated pixels (rho = exp(-1 / (4 sigma^2)) = 0.82) a further 0.954 per axis:
    # 0.229 expected.  Without it the 2 x 2 average of independent pixels keeps exactly 0.5.
    # 160 k pixels in, 20 k out: the sample std's relative error is ~0.5 %; bounds +-5 %.
    rng = np.random.default_rng(2)
    img = rng.standard_normal((2, 400, 400)).astype(np.float32)
    out, _, _ = resample_image(img, (0.1, 0.025, 0.025), (0.1, 0.1, 0.1))
    raw, _, _ = resample_image(img, (0.1, 0.025, 0.025), (0.1, 0.1, 0.1), anti_alias=False)
    assert out.std() == pytest.approx(0.229, rel=0.05)
    assert raw.std() == pytest.approx(0.5, rel=0.05)


def test_order_zero_is_nearest_input_voxel():
    rng = np.random.default_rng(4)
    img = rng.standard_normal((5, 30, 40)).astype(np.float32)
    out, ns, _ = resample_image(img, PFIB, (0.07, 0.02, 0.011), order=0)
    idx = [np.clip(np.floor((np.arange(m) + 0.5) * b / s).astype(int), 0, n - 1)
           for n, s, b, m in zip(img.shape, PFIB, ns, out.shape, strict=True)]
    np.testing.assert_array_equal(out, img[np.ix_(*idx)])


def test_single_slice():
    # one slice (1, ny, nx): the in-plane result equals resampling the plane alone, and the single
    # slice along z gives one output slice at 0.1 um
    src = _ramp((1, 80, 90), PFIB).astype(np.float32)
    out, ns, shift = resample_image(src, PFIB, (0.1, 0.02, 0.02))
    assert out.shape == (1, 60, 68)
    assert shift[0] == 0.0
    inside = np.ones(out.shape, bool)
    for k in (1, 2):
        c = _centres_um(out.shape, ns)[k]
        inside &= (c >= 0.5 * PFIB[k]) & (c <= (src.shape[k] - 0.5) * PFIB[k])
    assert np.abs(out - _ramp(out.shape, ns))[inside].max() < 1e-5   # as in the 3D ramp test
    lab, _, _ = resample_labels((src > 1.2).astype(np.uint8), PFIB, 0.1)
    assert lab.shape == (1, 12, 13)


# ----------------------------------------------------------------------------------- labels
def test_nearest_equals_direct_indexing_and_phantom_truth():
    from electrovox.solvers.phantoms.imaging import simulate_fibsem

    lab = _spheres((20, 24, 28), (0.2, 0.2, 0.2), 30, (0.4, 1.0), seed=5)
    out, ns, shift = resample_labels(lab, 0.2, (0.2, 0.1, 0.07), method="nearest")
    idx = [np.clip(np.floor((np.arange(m) + 0.5) * b / s).astype(int), 0, n - 1)
           for n, s, b, m in zip(lab.shape, (0.2, 0.2, 0.2), ns, out.shape, strict=True)]
    np.testing.assert_array_equal(out, lab[np.ix_(*idx)])
    # the phantom's truth is the same rule: identical labels and reported origin shift
    r = simulate_fibsem(lab, 0.2, image_spacing=(0.2, 0.1, 0.07), snr=None, dtype="float32",
                        curtaining=0, drift=0, pore_back=0, grain_contrast=0, cbd_texture=0)
    np.testing.assert_array_equal(out, r["truth"])
    assert list(shift) == pytest.approx(r["report"]["image_origin_offset_um"])


def _brute_majority(lab, spacing, new_spacing):
    """Labels and the two largest overlap fractions, from explicit 1D interval overlaps (float64)."""
    shape, _ = output_grid(lab.shape, spacing, new_spacing)
    ov = []
    for n, s, b, m in zip(lab.shape, spacing, new_spacing, shape, strict=True):
        o = np.zeros((m, n))
        for i in range(m):
            for j in range(n):
                o[i, j] = max(0.0, min((i + 1) * b, (j + 1) * s) - max(i * b, j * s)) / b
        ov.append(o)
    ids = np.unique(lab)
    votes = np.stack([np.einsum("ai,bj,ck,ijk->abc", *ov, (lab == v).astype(float), optimize=True) for v in ids])
    top2 = np.sort(votes, axis=0)[-2:]
    return ids[np.argmax(votes, axis=0)].astype(np.uint8), top2[1] - top2[0]   # argmax: lowest id of ties


@pytest.mark.parametrize("spacing, new_spacing", [
    ((0.3, 0.3, 0.3), (0.7, 0.7, 0.7)),       # non-integer ratio, a partial voxel dropped
    ((0.1, 0.0152, 0.0152), (0.1, 0.1, 0.1)),  # PFIB -> cubic (z unchanged)
    ((0.2, 0.1, 0.05), (0.13, 0.17, 0.045)),   # up along z, down in y, slightly up along x
])
def test_majority_matches_brute_force(spacing, new_spacing):
    rng = np.random.default_rng(9)
    lab = rng.integers(0, 4, size=(9, 33, 35)).astype(np.uint8)
    out, _, _ = resample_labels(lab, spacing, new_spacing)
    ref, gap = _brute_majority(lab, spacing, new_spacing)
    # random labels make exact and near ties common: the float32 sums may order two overlaps
    # that are within the 1e-5 tie tolerance differently from float64; any other difference
    # is a bug.  2e-5 allows float32 rounding on top of the tolerance.
    differ = out != ref
    assert np.all(gap[differ] < 2e-5), gap[differ].max()


def test_majority_ties_go_to_the_centre_label():
    # a checkerboard halved: every output box holds 4 voxels of each id, a tie; the output centre
    # is the corner shared by the 8 voxels, inside the input voxel (2i+1, 2j+1, 2k+1) by the
    # floor rule: its label wins (all 3 here), as "nearest" would give
    idx = np.indices((8, 8, 8)).sum(axis=0)
    lab = np.where(idx % 2 == 0, 1, 3).astype(np.uint8)
    out, _, _ = resample_labels(lab, 0.1, 0.2)
    near, _, _ = resample_labels(lab, 0.1, 0.2, method="nearest")
    assert np.all(out == 3) and np.all(near == 3)
    # a three-way tie: 0.3 -> 0.9 um, layers 0, 2, 1 along z in every box; the centre lies in the
    # middle layer (id 2), which beats the lower ids
    lab = np.broadcast_to(np.array([0, 2, 1] * 3, np.uint8)[:, None, None], (9, 3, 3))
    out, _, _ = resample_labels(lab, 0.3, 0.9)
    assert out.shape == (3, 1, 1) and np.all(out == 2)
    # the centre's label not among the tied: 0.1 -> 0.5 um, layers 3, 1, 2, 3, 1 (1 and 3 cover
    # 0.4 each, the centre's id 2 only 0.2): the lower id of the tie wins
    lab = np.broadcast_to(np.array([3, 1, 2, 3, 1], np.uint8)[:, None, None], (5, 5, 5))
    out, _, _ = resample_labels(lab, 0.1, 0.5)
    assert out.shape == (1, 1, 1) and out[0, 0, 0] == 1


@pytest.mark.parametrize("spacing, new_spacing, shape, radii, n, tol", [
    # Both grids cover exactly the same box (250 x 15.2 nm = 3.8 um = 38 x 100 nm; 64 x 0.1 um
    # = 32 x 0.2 um): a dropped partial strip at the far faces would change the fractions by itself
    # (sphere coverage falls off near the faces).  Spheres 3 .. 8 (PFIB) and 2.5 .. 6 (0.2 um)
    # output voxels in radius, 35 k and 41 k output voxels.  Measured over 9 seeds: |change| <=
    # 0.0012 (PFIB -> 100 nm) and <= 0.0018 (0.1 -> 0.2 um, where the 50 % vote shrinks convex
    # particles slightly: background +0.0013 on average).  0.004: about twice the worst seed.
    (PFIB, 0.1, (24, 250, 250), (0.3, 0.8), 25, 0.004),
    (0.1, 0.2, (64, 80, 64), (0.5, 1.2), 30, 0.004),
])
def test_majority_conserves_volume_fractions(spacing, new_spacing, shape, radii, n, tol):
    lab = _spheres(shape, (spacing,) * 3 if np.isscalar(spacing) else spacing, n, radii, seed=11)
    out, _, _ = resample_labels(lab, spacing, new_spacing)
    f_in = np.bincount(lab.ravel(), minlength=3) / lab.size
    f_out = np.bincount(out.ravel(), minlength=3) / out.size
    assert np.all(f_in[1:] > 0.03)                       # both sphere labels well represented
    assert np.abs(f_out - f_in).max() < tol, (f_in, f_out)


def test_linear_labels_are_closer_to_the_true_shape_when_refining():
    """A ball of radius 3 coarse voxels (1 um), refined 4x: against the same ball voxelised at
    0.25 um (the analytic shape), the ``"linear"`` labels mislabel at most 0.8x the voxels that
    ``"majority"`` does (0.63-0.66x measured over 4 random centres: the interpolated indicator
    rounds off the staircase, majority keeps it); the ball's volume within 6 % of 4/3 pi R^3 (the
    0.5 level of a linear interpolant cuts a convex shape's corners: -2 to -5 % measured); a
    voxel face between two labels stays where it was (linear weights cross 0.5 at the face)."""
    rng = np.random.default_rng(5)
    R = 3.0
    for _ in range(4):
        c = 8.0 + rng.random(3)
        balls = []
        for n, dx in ((16, 1.0), (64, 0.25)):
            z, y, x = _centres_um((n, n, n), (dx, dx, dx))
            balls.append(np.where((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 < R * R, 2, 0).astype(np.uint8))
        coarse, truth = balls
        lin = resample_labels(coarse, 1.0, 0.25, method="linear")[0]
        maj = resample_labels(coarse, 1.0, 0.25, method="majority")[0]
        assert (lin != truth).sum() <= 0.8 * (maj != truth).sum()
        assert (lin == 2).sum() * 0.25 ** 3 == pytest.approx(4 / 3 * np.pi * R ** 3, rel=0.06)
    slab = np.zeros((6, 4, 4), np.uint8)
    slab[3:] = 1
    out = resample_labels(slab, 1.0, 0.25, method="linear")[0]
    assert (out[:12] == 0).all() and (out[12:] == 1).all()
    assert np.array_equal(resample_labels(slab, 1.0, 1.0, method="linear")[0], slab)


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("new_spacing", [0, -0.1, (0.1, 0.1), (0.1, 0.0, 0.1), float("nan"), "fine", None])
def test_bad_new_spacing(new_spacing):
    img = np.zeros((2, 4, 4), np.float32)
    for call in (lambda: resample_image(img, PFIB, new_spacing),
                 lambda: resample_labels(img.astype(np.uint8), PFIB, new_spacing),
                 lambda: output_grid(img.shape, PFIB, new_spacing)):
        with pytest.raises(BadInput) as err:
            call()
        assert "new_spacing" in err.value.problem


@pytest.mark.parametrize("call", [
    lambda: resample_image(np.zeros((4, 4), np.float32), 0.1, 0.2),              # 2D
    lambda: resample_image(np.zeros((2, 4, 4), np.float32), (0.1, 0.1), 0.2),    # two sizes
    lambda: resample_image(np.zeros((2, 4, 4), np.float32), 0.1, 0.2, order=2),
    lambda: resample_labels(np.zeros((2, 4, 4), np.float32), 0.1, 0.2),          # float labels
    lambda: resample_labels(np.full((2, 4, 4), 300, np.int32), 0.1, 0.2),        # > 255
    lambda: resample_labels(np.zeros((2, 4, 4), np.uint8), 0.1, 0.2, method="mode"),
    lambda: output_grid((2, 0, 4), 0.1, 0.2),
])
def test_bad_arguments(call):
    with pytest.raises(BadInput):
        call()


def test_input_untouched_and_float64_scalar_safe():
    # the caller's float32 array is never smoothed in place; numpy 1.24 and 2.x give float32 out
    rng = np.random.default_rng(0)
    img = rng.standard_normal((3, 64, 64)).astype(np.float32)
    keep = img.copy()
    out, _, _ = resample_image(img, PFIB, np.float64(0.1))
    np.testing.assert_array_equal(img, keep)
    assert out.dtype == np.float32
    assert not math.isnan(float(out.mean()))
