"""Connected components, percolation, isolated AM and dead pores (quantify.connectivity).

References: constructed blob sets whose components are known by construction (counted by hand),
``scipy.ndimage.label`` on the whole mask (the slab-wise labelling must give the same partition),
and the phantom generator's own largest-CBD-aggregate share (computed in its cbd module with a
full-volume label).  Shares are ratios of integer voxel counts: tolerance 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.filters.quantify.connectivity import (
    component_table,
    components,
    dead_pore_fraction,
    isolated_am_fraction,
    largest_share,
)

LEG = {0: "pore", 1: "cbd", 2: "am", 3: "crack"}
EXACT = 1e-12


def _two_cubes(offset):
    m = np.zeros((6, 6, 6), bool)
    m[0:2, 0:2, 0:2] = True
    z, y, x = offset
    m[z:z + 2, y:y + 2, x:x + 2] = True
    return m


@pytest.mark.parametrize("offset, expect", [
    ((2, 0, 0), {6: 1, 18: 1, 26: 1}),         # sharing a face
    ((2, 2, 0), {6: 2, 18: 1, 26: 1}),         # sharing an edge
    ((2, 2, 2), {6: 2, 18: 2, 26: 1}),         # sharing a corner
    ((3, 3, 3), {6: 2, 18: 2, 26: 2}),         # apart
])
def test_diagonal_cubes(offset, expect):
    m = _two_cubes(offset)
    for conn, n in expect.items():
        ids, sizes = components(m, conn)
        assert len(sizes) == n, conn
        assert sizes.sum() == 16 and ids.dtype == np.int32
        assert set(np.unique(ids[m])) == set(range(1, n + 1)) and not ids[~m].any()


@pytest.mark.parametrize("conn", [6, 18, 26])
@pytest.mark.parametrize("p", [0.25, 0.35, 0.6])
def test_slabwise_partition_equals_whole_volume_label(conn, p):
    rng = np.random.default_rng(int(p * 100) + conn)
    m = rng.random((29, 17, 13)) < p
    ref, n = ndimage.label(m, ndimage.generate_binary_structure(3, {6: 1, 18: 2, 26: 3}[conn]))
    ref_sizes = np.sort(np.bincount(ref.ravel())[1:])[::-1]
    for slab in (17 * 13, 3 * 17 * 13, 10 ** 9):     # one plane per slab, 3 planes, one slab
        ids, sizes = components(m, conn, slab_voxels=slab)
        assert len(sizes) == n
        np.testing.assert_array_equal(sizes, ref_sizes)
        np.testing.assert_array_equal(np.bincount(ids.ravel(), minlength=n + 1)[1:], sizes)
        # the same partition: every (reference, ours) pair of labels is a bijection
        pairs = np.unique(np.stack([ref.ravel(), ids.ravel()]), axis=1)
        assert pairs.shape[1] == n + 1
        assert np.all(np.diff(sizes) <= 0)


def test_components_auto_dtype_and_errors():
    m = _two_cubes((3, 3, 3))
    ids, sizes = components(m, 6, dtype="auto")
    assert ids.dtype == np.uint8 and len(sizes) == 2
    with pytest.raises(BadInput):
        components(m, 8)
    with pytest.raises(BadInput):
        # a checkerboard: 256 single-voxel components at 6-connectivity, one too many for uint8
        components(np.indices((8, 8, 8)).sum(0) % 2 == 1, 6, dtype=np.uint8)


def test_component_table_percolation_flags():
    a = np.zeros((10, 8, 8), np.uint8)
    a[:, 0:2, 0:2] = 1        # column z = 0..9: percolating, 40 voxels
    a[0:3, 5:7, 5:7] = 1      # touches z = 0 only: 12 voxels
    a[7:10, 5:7, 0:2] = 1     # touches z = max only: 12 voxels
    a[4:6, 4:6, 4:5] = 1      # floating: 4 voxels
    t = component_table(a, LEG, "cbd", (0.5, 0.25, 0.25))
    assert t["count"] == 4 and t["phase_voxels"] == 68
    c = t["components"]
    np.testing.assert_array_equal(c["voxels"], [40, 12, 12, 4])
    np.testing.assert_array_equal(c["id"], [1, 2, 3, 4])
    np.testing.assert_array_equal(c["percolating"], [True, False, False, False])
    np.testing.assert_array_equal(c["touches_low"], [True, True, False, False])
    np.testing.assert_array_equal(c["touches_high"], [True, False, True, False])
    np.testing.assert_allclose(c["volume_um3"], c["voxels"] * 0.5 * 0.25 * 0.25, atol=EXACT)
    assert t["largest_share"] == pytest.approx(40 / 68, abs=EXACT)
    assert t["percolating_share"] == pytest.approx(40 / 68, abs=EXACT)
    assert t["low_share"] == pytest.approx(52 / 68, abs=EXACT)
    assert t["high_share"] == pytest.approx(52 / 68, abs=EXACT)
    assert t["isolated_share"] == pytest.approx(4 / 68, abs=EXACT)
    assert t["phase_volume_um3"] == pytest.approx(68 * 0.5 * 0.25 * 0.25, abs=EXACT)
    assert largest_share(a, LEG, "cbd") == pytest.approx(40 / 68, abs=EXACT)
    d = t["size_distribution"]
    np.testing.assert_array_equal(d["voxels"], [40, 12, 4])
    np.testing.assert_array_equal(d["components"], [1, 2, 1])
    np.testing.assert_allclose(d["cumulative_share"], [40 / 68, 64 / 68, 1.0], atol=EXACT)
    t2 = component_table(a, LEG, "cbd", 1.0, max_rows=2)
    np.testing.assert_array_equal(t2["components"]["voxels"], [40, 12])
    assert t2["count"] == 4 and t2["isolated_share"] == t["isolated_share"]
    # along x: nothing spans x = 0 .. 7
    tx = component_table(a, LEG, "cbd", 1.0, axis="x")
    assert tx["percolating_share"] == 0.0 and tx["low_share"] == pytest.approx(52 / 68, abs=EXACT)
    # the union of phases, and the slab-wise scan with one plane per slab
    a[5, 2, 0] = 2            # an am voxel joining nothing new (touches the column's face)
    tu = component_table(a, LEG, ("am", "cbd"), 1.0, slab_voxels=64)
    assert tu["count"] == 4 and tu["phase_voxels"] == 69 and tu["phase"] == "am+cbd"
    with pytest.raises(BadInput):
        component_table(a, LEG, "separator", 1.0)


def test_component_table_sides_skip_collector_and_separator_layers():
    leg = {0: "pore", 1: "cbd", 4: "separator", 5: "collector"}
    a = np.zeros((9, 4, 4), np.uint8)
    a[:2] = 5
    a[7:] = 4
    a[2:7, 0, 0] = 1          # spans the electrode (slices 2..6)
    t = component_table(a, leg, "cbd", 1.0)
    assert t["percolating_share"] == 1.0


def test_isolated_am_exact():
    a = np.zeros((12, 10, 10), np.uint8)
    a[0:3, 0:3, 0:3] = 2      # A: touches z = 0 (27 voxels)
    a[5:8, 0:3, 0:3] = 2      # B: reaches z = 0 through the CBD bridge below (27 voxels)
    a[3:5, 1, 1] = 1          #    the bridge (CBD) from A's top to B's bottom
    a[5:8, 6:9, 6:9] = 2      # C: floating in pore (27 voxels)
    a[9:12, 6:9, 0:3] = 2     # D: touches z = max only (27 voxels)
    assert isolated_am_fraction(a, LEG) == pytest.approx(54 / 108, abs=EXACT)
    # a crack (empty) cuts B from its bridge: B becomes isolated too
    a[5, 0:3, 0:3] = 3
    assert isolated_am_fraction(a, LEG) == pytest.approx((18 + 27 + 27) / 99, abs=EXACT)
    # an edge-only contact connects at 18 but not at 6
    b = np.zeros((6, 6, 6), np.uint8)
    b[0:2, 0:2, 0:2] = 2
    b[2:4, 2:4, 0:2] = 2
    assert isolated_am_fraction(b, LEG, 6) == pytest.approx(0.5, abs=EXACT)
    assert isolated_am_fraction(b, LEG, 18) == 0.0
    assert np.isnan(isolated_am_fraction(np.zeros((3, 3, 3), np.uint8), LEG))


def test_isolated_am_through_a_collector_layer():
    leg = {0: "pore", 1: "cbd", 2: "am", 5: "collector"}
    a = np.zeros((8, 5, 5), np.uint8)
    a[0] = 5
    a[1:3, 0:2, 0:2] = 2      # on the collector: connected (8 voxels)
    a[4:6, 3:5, 3:5] = 2      # floating (8 voxels)
    assert isolated_am_fraction(a, leg) == pytest.approx(0.5, abs=EXACT)


def test_dead_pores_exact():
    a = np.full((10, 8, 8), 2, np.uint8)       # solid am
    a[3:10, 0:2, 0:2] = 0     # channel open at z = max: 28 live pore voxels
    a[2:4, 5:7, 5:7] = 0      # enclosed pocket: 8 dead pore voxels
    a[6, 3:7, 4] = 3          # enclosed crack: 4 dead voxels
    a[9, 2, 0:2] = 3          # crack opening to the channel and to z = max: 2 live voxels
    assert dead_pore_fraction(a, LEG) == pytest.approx(12 / 42, abs=EXACT)
    # a separator on top carries the electrolyte: the channel stays live
    leg = {**LEG, 4: "separator"}
    b = np.concatenate([a, np.full((2, 8, 8), 4, np.uint8)])
    assert dead_pore_fraction(b, leg) == pytest.approx(12 / 42, abs=EXACT)
    assert np.isnan(dead_pore_fraction(np.full((3, 3, 3), 2, np.uint8), LEG))


def test_phantom_dry_cbd_better_connected_than_slurry():
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.phantoms.electrode import generate_electrode
    share = {}
    for morph in ("slurry", "dry"):
        r = generate_electrode(shape=(64, 64, 64), spacing=(0.5, 0.5, 0.5), seed=2, cbd_morphology=morph)
        t = component_table(r["labels"], DEFAULT_LEGEND, "cbd", 0.5)
        share[morph] = t["largest_share"]
        # same number as the generator's own (full-volume) aggregate labelling
        assert share[morph] == pytest.approx(r["report"]["cbd"]["largest_aggregate_share"], abs=EXACT)
        assert t["count"] == r["report"]["cbd"]["aggregates"]
    assert share["dry"] > share["slurry"]


def _reference_isolated_and_dead(lab, legend, conn):
    """Whole-volume ndimage.label reference for isolated AM and dead pore space."""
    ids = {n: i for i, n in legend.items()}
    st = ndimage.generate_binary_structure(3, {6: 1, 18: 2, 26: 3}[conn])
    cond = np.isin(lab, [ids[p] for p in ("am", "cbd", "collector") if p in ids])
    c, _ = ndimage.label(cond, st)
    live = np.isin(c, np.setdiff1d(c[0], [0]))
    am = lab == ids["am"]
    iso = np.count_nonzero(am & ~live) / np.count_nonzero(am)
    elec = np.isin(lab, [ids[p] for p in ("pore", "crack", "separator") if p in ids])
    e, _ = ndimage.label(elec, st)
    live = np.isin(e, np.setdiff1d(e[-1], [0]))
    space = np.isin(lab, [ids["pore"], ids["crack"]])
    dead = np.count_nonzero(space & ~live) / np.count_nonzero(space)
    return iso, dead


def _phantom_check(shape, conns, slab):
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.phantoms.electrode import generate_electrode
    r = generate_electrode(shape=shape, spacing=(0.5, 0.5, 0.5), seed=4, collector_um=1.0, separator_um=1.5)
    lab = r["labels"]
    for conn in conns:
        iso, dead = _reference_isolated_and_dead(lab, DEFAULT_LEGEND, conn)
        assert isolated_am_fraction(lab, DEFAULT_LEGEND, conn, slab_voxels=slab) == pytest.approx(iso, abs=EXACT)
        assert dead_pore_fraction(lab, DEFAULT_LEGEND, conn, slab_voxels=slab) == pytest.approx(dead, abs=EXACT)
        t = component_table(lab, DEFAULT_LEGEND, "cbd", 0.5, conn, slab_voxels=slab)
        e = lab[2:-3] == 1                     # the electrode: 2 collector and 3 separator planes off
        ref, n = ndimage.label(e, ndimage.generate_binary_structure(3, {6: 1, 18: 2, 26: 3}[conn]))
        assert t["count"] == n
        both = np.intersect1d(np.unique(ref[0]), np.unique(ref[-1]))
        both = both[both > 0]
        assert t["percolating_share"] == pytest.approx(np.isin(ref, both).sum() / e.sum(), abs=EXACT)


def test_phantom_with_layers_matches_whole_volume_reference():
    _phantom_check((48, 40, 40), (6, 26), slab=40 * 40 * 7)


@pytest.mark.slow
def test_phantom_with_layers_matches_whole_volume_reference_large():
    _phantom_check((192, 160, 160), (6, 18, 26), slab=160 * 160 * 13)
