"""Representative-volume analysis and the comparison table (quantify.rev, quantify.compare).

References: periodic volumes whose fraction is exact in every sub-volume of a whole number of
periods; an i.i.d. (Bernoulli) volume whose sub-volume spread is the binomial standard
deviation sqrt(p (1 - p) / N); and the cycling transform's own record of the change it applied
(the phantom's ground truth).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from electrovox.errors import BadInput
from electrovox.filters.quantify.compare import compare, flatten, relative_change
from electrovox.filters.quantify.fractions import crack_fraction, volume_fractions
from electrovox.filters.quantify.rev import representative_volume

LEG = {0: "pore", 1: "cbd", 2: "am", 3: "crack"}
EXACT = 1e-12


def _periodic(shape, period=4):
    """am where (z//2 + y//2 + x//2) is even: fraction exactly 1/2 in any box of whole periods."""
    z, y, x = np.indices(shape)
    half = period // 2
    return np.where(((z // half + y // half + x // half) % 2) == 0, 2, 0).astype(np.uint8)


def test_rev_periodic_volume_exact_in_whole_periods():
    a = _periodic((40, 36, 44))
    # edges of 4, 8, 16 voxels (1 um voxels): whole periods wherever they sit
    t = representative_volume(a, LEG, 1.0, mode="random", sizes_um=[4, 8, 16], n_random=10, seed=3)
    np.testing.assert_allclose(t["fractions.am.mean"], 0.5, atol=EXACT)
    np.testing.assert_allclose(t["fractions.am.std"], 0.0, atol=EXACT)
    np.testing.assert_allclose(t["fractions.pore.max"], 0.5, atol=EXACT)
    np.testing.assert_array_equal(t["samples"], [10, 10, 10])
    np.testing.assert_allclose(t["edge_um"], [4, 8, 16], atol=EXACT)
    # sizes that are not whole periods scatter, less the larger they are
    t = representative_volume(a, LEG, 1.0, mode="random", sizes_um=[3, 7, 15], n_random=16, seed=3)
    std = t["fractions.am.std"]
    assert np.all(std > 0) and np.all(np.diff(std) < 0)


def test_rev_bernoulli_spread_follows_the_binomial_law():
    p = 0.3
    a = (np.random.default_rng(5).random((96, 96, 96)) < p).astype(np.uint8) * 2
    edges = np.array([3, 6, 12, 24])
    t = representative_volume(a, LEG, 1.0, metrics="fractions", mode="random", sizes_um=list(edges),
                              n_random=32, seed=1)
    sigma = np.sqrt(p * (1 - p) / edges ** 3.0)
    std = t["fractions.am.std"]
    assert np.all(np.diff(std) < 0)
    # a sample std of 32 samples has ~13 % relative error: bounds of about 3.5 of those
    assert np.all((std / sigma > 0.55) & (std / sigma < 1.5)), std / sigma
    # the mean of 32 samples lies within 4 standard errors of p
    assert np.all(np.abs(t["fractions.am.mean"] - p) < 4 * sigma / np.sqrt(32))


def test_rev_growing_default_ends_with_the_whole_volume():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, (16, 24, 32)).astype(np.uint8)
    t = representative_volume(a, LEG, (0.5, 0.25, 0.25))
    assert len(t["edge_um"]) == 8
    np.testing.assert_array_equal(t["samples"], 1)
    np.testing.assert_allclose(t["size_z_um"], np.arange(1, 9) * 1.0, atol=EXACT)
    np.testing.assert_allclose(t["size_x_um"], np.arange(1, 9) * 1.0, atol=EXACT)
    whole = volume_fractions(a, LEG)
    for k, v in whole.items():
        assert t[f"fractions.{k}.mean"][-1] == pytest.approx(v, abs=EXACT)
    assert t["crack_fraction.mean"][-1] == pytest.approx(crack_fraction(a, LEG), abs=EXACT)
    assert "largest_cbd_share.mean" in t and np.all(t["largest_cbd_share.std"] == 0)
    # growing sub-volumes are centred: the smallest is the 2 x 3 x 4 box in the middle
    sub = a[7:9, 10:13, 14:18]
    assert t["fractions.am.mean"][0] == pytest.approx(np.count_nonzero(sub == 2) / sub.size, abs=EXACT)


def test_rev_custom_metric_fig_s6_size_and_enumerated_positions():
    a = _periodic((160, 80, 80))

    def voxels(sub, legend, spacing):
        return {"sub": {"voxels": sub.size, "thick_um": sub.shape[0] * spacing[0]}}

    # the study's 33 x 33 x 70 um sub-volume (z = 70 um thick) on 0.5 um voxels
    t = representative_volume(a, LEG, 0.5, metrics=["fractions", voxels], mode="random",
                              sizes_um=[(70, 33, 33)], n_random=5)
    assert (t["size_z_um"][0], t["size_y_um"][0], t["size_x_um"][0]) == (70.0, 33.0, 33.0)
    assert t["sub.voxels.mean"][0] == 140 * 66 * 66 and t["sub.thick_um.max"][0] == 70.0
    # fewer distinct positions than samples asked for: each position once
    b = np.zeros((10, 10, 10), np.uint8)
    t = representative_volume(b, LEG, 1.0, mode="random", sizes_um=[9, 10], n_random=100)
    np.testing.assert_array_equal(t["samples"], [8, 1])
    with pytest.raises(BadInput):
        representative_volume(b, LEG, 1.0, metrics="tortuosity")
    with pytest.raises(BadInput):
        representative_volume(b, LEG, 1.0, mode="sideways")


def test_compare_table_generic():
    r0 = {"fractions": {"am": 0.5, "pore": 0.0}, "count": 10, "name": "x", "tab": {"a": np.arange(3)},
          "flag": True}
    r1 = {"fractions": {"am": 0.6, "pore": 0.1}, "count": 5, "extra": 2.0, "flag": False}
    t = compare([r0, r1], ["a", "b"])
    assert list(t) == ["metric", "a", "b", "b.rel_change"]
    assert t["metric"].tolist() == ["fractions.am", "fractions.pore", "count", "flag", "extra"]
    np.testing.assert_allclose(t["a"], [0.5, 0.0, 10, 1, np.nan])
    rc = t["b.rel_change"]
    assert rc[0] == pytest.approx(0.2, abs=EXACT) and rc[2] == pytest.approx(-0.5, abs=EXACT)
    assert math.isnan(rc[1]) and math.isnan(rc[4])          # x0 == 0, x0 missing
    flat = flatten({"a": {"b": {"c": 1}}, "s": "t", "n": None, "v": [1, 2]})
    assert list(flat) == ["a.b.c", "n"] and flat["a.b.c"] == 1.0 and math.isnan(flat["n"])
    assert math.isnan(relative_change(1.0, 0.0))
    with pytest.raises(BadInput):
        compare([r0, r1], ["a", "a"])
    with pytest.raises(BadInput):
        compare([r0], ["a", "b"])


@pytest.fixture(scope="module")
def cycled():
    from electrovox.solvers.phantoms.cycling import cycle_electrode
    from electrovox.solvers.phantoms.electrode import generate_electrode
    spacing = (0.5, 0.5, 0.5)
    r = generate_electrode(shape=(96, 96, 96), spacing=spacing, seed=2)
    grain = r["report"]["parameters"]["sub_seeds"]["cracks"]
    out = [(r["labels"], None)]
    for growth, loss in ((0.09, 0.10), (0.24, 0.20)):
        c = cycle_electrode(r["labels"], spacing, crack_growth=growth, contact_loss=loss, seed=1,
                            particles=r["particles"], grain_seed=grain)
        out.append((c["labels"], c["report"]))
    return out


def test_compare_on_the_cycling_transform(cycled):
    from electrovox.phases import DEFAULT_LEGEND
    leg = DEFAULT_LEGEND
    results = [{"fractions": volume_fractions(lab, leg), "crack_fraction": crack_fraction(lab, leg)}
               for lab, _ in cycled]
    t = compare(results, ["pristine", "4.4V", "4.7V"])
    row = t["metric"].tolist().index("crack_fraction")
    for name, (_, rep), applied in (("4.4V", cycled[1], 0.09), ("4.7V", cycled[2], 0.24)):
        rc = t[f"{name}.rel_change"][row]
        # the transform's record of what it did (its own counts): agreement to rounding
        assert rc == pytest.approx(rep["achieved"]["crack_fraction_of_particles_change"], abs=1e-9)
        # and the applied growth within 2 percentage points (the transform's voxel granularity)
        assert abs(rc - applied) < 0.02
    # particles keep their volume (cracks grow into AM): am + crack unchanged
    i_am, i_cr = (t["metric"].tolist().index(k) for k in ("fractions.am", "fractions.crack"))
    for name in ("4.4V", "4.7V"):
        assert t[name][i_am] + t[name][i_cr] == pytest.approx(t["pristine"][i_am] + t["pristine"][i_cr], abs=EXACT)
