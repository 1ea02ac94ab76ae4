"""Connected components of a phase: aggregate sizes, percolation, isolated active material, dead pores.

Inputs: a label volume ``[z, y, x]`` with its legend ``{id: phase name}``, or a boolean mask;
``spacing`` = voxel size in um (dz, dy, dx).  z is the electrode thickness: the plane z = 0 is the
current-collector side, z = max the separator side.

Connectivity is 6 (voxels sharing a face), 18 (a face or an edge) or 26 (also a corner).  Two
cubes touching only along an edge are one component at 18 and 26 and two at 6.

Memory: a full int32 label map is four times a uint8 volume.  The volume is therefore labelled
slab by slab along z (``scipy.ndimage.label`` on a slab of a few million voxels), and the slabs'
components are joined across each slab boundary with a graph of the label pairs that touch there
(``scipy.sparse.csgraph.connected_components``).  The metrics need nothing more; only
:func:`components` writes a full id map, because its caller asks for one.  The phase mask is
built per slab from the labels, so no full-size mask exists either.  Temporaries: about 5 bytes
per slab voxel plus ~20 bytes per component (a noisy segmentation with millions of components
pays for them).

Component ids and tables are ordered by size: id 1 is the largest component (ties in a
deterministic order: the same volume always gives the same ids).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from electrovox.errors import BadInput
from electrovox.filters.quantify.fractions import Table, as_axis, as_spacing, electrode_range, phase_ids
from electrovox.progress import report

#: default voxels per slab: the int32 labels of a slab take 32 MB
SLAB_VOXELS = 1 << 23
_RANK = {6: 1, 18: 2, 26: 3}


def _rank(connectivity) -> int:
    try:
        return _RANK[int(connectivity)]
    except (KeyError, TypeError, ValueError):
        raise BadInput("connectivity", f"{connectivity!r} is not 6, 18 or 26",
                       "give 6 (faces), 18 (faces, edges) or 26 (faces, edges, corners)") from None


def _plane_shifts(rank: int) -> list[tuple[int, int]]:
    """In-plane offsets (dy, dx) of the neighbours in the next z plane for this connectivity rank."""
    return [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if 1 + abs(dy) + abs(dx) <= rank]


def _pair_slices(d: int, n: int) -> tuple[slice, slice]:
    """Slices of the previous and the next plane that line up when shifted by d along an axis."""
    return slice(max(0, -d), n - max(0, d)), slice(max(0, d), n + min(0, d))


def _selector(ids):
    """A function slab -> bool mask of the voxels whose value is one of ``ids`` (None: nonzero)."""
    if ids is None:
        return lambda s: s if s.dtype == bool else s != 0
    ids = [int(i) for i in ids]

    def select(s):
        # a few == passes: no intp copy of the slab (a lookup table indexed by uint8 makes one)
        m = s == ids[0] if ids else np.zeros(s.shape, bool)
        for i in ids[1:]:
            m |= s == i
        return m
    return select


class _Scan:
    """Slab-wise connected components of ``member(source)`` (see the module docstring).

    A *node* is one component of one slab, numbered in scan order.  After the scan, per final
    component: ``n`` (count), ``size`` (member voxels, int64), ``count`` (voxels selected by
    ``counted``, the same array as ``size`` when ``counted`` is None), ``touch_low`` /
    ``touch_high`` (touches the low / high face along ``axis``), ``order`` (component indices,
    largest first); and ``comp`` (node -> component).
    """

    def __init__(self, source, member, counted=None, connectivity=6, axis=0, slab_voxels=SLAB_VOXELS,
                 progress=None):
        rank = _rank(connectivity)
        self.structure = ndimage.generate_binary_structure(3, rank)
        self.source, self.member, self.axis = source, member, axis
        nz, ny, nx = source.shape
        self.step = max(1, int(slab_voxels) // max(1, ny * nx))
        # per-node voxel counts fit int32 when a slab does (they are summed in float64 later)
        cnt_t = np.int32 if self.step * ny * nx < 2 ** 31 else np.int64
        shifts = _plane_shifts(rank)
        members, counted_l, low, high, edges, offsets = [], [], [], [], [], []
        offset = 0
        prev = None                                    # last plane of the previous slab, global id + 1
        for z0 in range(0, nz, self.step):
            lab, n = self._label(z0)
            offsets.append(offset)
            members.append(_bincount(lab, n + 1)[1:].astype(cnt_t))
            if counted is not None:
                # counted voxels are members, so their labels are > 0 (bin 0 stays empty)
                sel = counted(source[z0:z0 + self.step])
                counted_l.append(_bincount(lab, n + 1, sel)[1:].astype(cnt_t))
                del sel
            # face contacts as node indices (few compared with the nodes)
            faces = {0: ((lab[0],) if z0 == 0 else (), (lab[-1],) if z0 + self.step >= nz else ()),
                     1: ((lab[:, 0, :],), (lab[:, -1, :],)),
                     2: ((lab[:, :, 0],), (lab[:, :, -1],))}[axis]
            low.extend(_nonzero_ids(f) + offset for f in faces[0])
            high.extend(_nonzero_ids(f) + offset for f in faces[1])
            first = np.where(lab[0] > 0, lab[0].astype(np.int64) + offset, 0)
            if prev is not None:
                for dy, dx in shifts:
                    (py, cy), (px, cx) = _pair_slices(dy, ny), _pair_slices(dx, nx)
                    a, b = prev[py, px].ravel(), first[cy, cx].ravel()
                    both = (a > 0) & (b > 0)
                    if both.any():
                        edges.append(np.unique(((a[both] - 1) << 32) | (b[both] - 1)))
            prev = first if lab.shape[0] == 1 else np.where(lab[-1] > 0, lab[-1].astype(np.int64) + offset, 0)
            offset += n
            del lab, first, faces             # (faces holds views of lab)
            report(progress, min(z0 + self.step, nz) / nz * 0.95, "labelling components")
        self.offsets = offsets
        self.n_nodes = offset
        # (there is at least one slab, so no list is empty)
        members = np.concatenate(members)
        counted_n = None if counted is None else np.concatenate(counted_l)
        del counted_l
        low = np.concatenate(low) if low else np.zeros(0, np.int64)
        high = np.concatenate(high) if high else np.zeros(0, np.int64)
        self._join(np.concatenate(edges) if edges else np.zeros(0, np.int64), members, counted_n, low, high)
        report(progress, 1.0, "components labelled")

    def _label(self, z0):
        m = self.member(self.source[z0:z0 + self.step])
        lab = np.empty(m.shape, np.int32)
        n = int(ndimage.label(m, structure=self.structure, output=lab))
        return lab, n

    def _join(self, keys, members, counted, low, high):
        n = self.n_nodes
        if keys.size and n:
            a, b = keys >> 32, keys & 0xFFFFFFFF
            g = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(n, n)).tocsr()
            del a, b
            self.n, comp = connected_components(g, directed=False)
            del g

            def total(w):
                # float sums of integer counts are exact below 2**53
                return np.rint(np.bincount(comp, weights=w, minlength=self.n)).astype(np.int64)
        else:                                          # one slab, or no contact between slabs
            self.n, comp = n, np.arange(n, dtype=np.int32)

            def total(w):
                return w.astype(np.int64)

        self.size = total(members)
        del members
        self.count = self.size if counted is None else total(counted)
        self.touch_low = np.zeros(self.n, bool)
        self.touch_low[comp[low]] = True
        self.touch_high = np.zeros(self.n, bool)
        self.touch_high[comp[high]] = True
        self.comp = comp
        self._order = None

    @property
    def order(self) -> np.ndarray:
        """Component indices, largest first; ties keep the components' order (deterministic)."""
        if self._order is None:
            self._order = np.argsort(-self.size, kind="stable")
        return self._order

    def write_ids(self, out):
        """Write component ids (1 = largest, 0 = background) into ``out`` (full shape) slab by slab."""
        rank = np.empty(self.n, np.int64)
        rank[self.order] = np.arange(1, self.n + 1)
        node_id = rank[self.comp]
        del rank
        for k, z0 in enumerate(range(0, self.source.shape[0], self.step)):
            lab, n = self._label(z0)
            lut = np.zeros(n + 1, out.dtype)
            lut[1:] = node_id[self.offsets[k]:self.offsets[k] + n]
            out[z0:z0 + lab.shape[0]] = lut[lab]
            del lab
        return out


def _bincount(lab, length, where=None, chunk=1 << 21) -> np.ndarray:
    """``np.bincount`` of an int32 array in chunks (no full-size copies).

    np.bincount of an int32 array (optionally of its voxels where ``where``) in chunks:
    bincount copies its input to intp, 8 bytes a voxel, and boolean selection copies too.
    """
    flat = lab.reshape(-1)
    sel = None if where is None else where.reshape(-1)
    out = np.zeros(length, np.int64)
    for i in range(0, flat.size, chunk):
        part = flat[i:i + chunk] if sel is None else flat[i:i + chunk][sel[i:i + chunk]]
        out += np.bincount(part, minlength=length)
    return out


def _nonzero_ids(face) -> np.ndarray:
    """Local node indices (label - 1) present on a face."""
    v = np.unique(face)
    return (v[v > 0] - 1).astype(np.int64)


# ---------------------------------------------------------------- public API

def components(mask, connectivity: int = 6, *, dtype=np.int32, slab_voxels: int = SLAB_VOXELS,
               progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of a boolean mask, with ids ordered by size.

    Parameters
    ----------
    mask : array [z, y, x]; nonzero voxels are foreground
    connectivity : 6, 18 or 26
    dtype : dtype of the id map (default int32, for a ParaView array with categorical colouring).
        ``"auto"`` picks the smallest unsigned type that holds the count (uint8/uint16/uint32),
        a quarter of the memory of int32 for fewer than 256 components.
    slab_voxels : voxels per labelling slab (temporaries: about 5 bytes per slab voxel)

    Returns
    -------
    ids : array of the mask's shape; 0 = background, 1..n = components, 1 the largest
    sizes : int64 array (n,), ``sizes[k - 1]`` = voxels of component k (non-increasing)

    Peak memory: the id map plus the slab temporaries (labelling runs twice: once to join the
    slabs, once to write the ids, so no int32 map is needed when ``dtype`` is smaller).
    """
    m = np.asarray(mask)
    if m.ndim != 3:
        raise BadInput("mask", f"expected a 3-D mask [z, y, x], got shape {m.shape}", "pass a 3-D array")
    scan = _Scan(m, _selector(None), None, connectivity, 0, slab_voxels, _sub(progress, 0.0, 0.6))
    if isinstance(dtype, str) and dtype == "auto":
        dtype = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if scan.n <= np.iinfo(t).max)
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu" or scan.n > np.iinfo(dtype).max:
        raise BadInput("dtype", f"{dtype} cannot hold {scan.n} component ids", "use int32 or 'auto'")
    out = np.zeros(m.shape, dtype)
    scan.write_ids(out)
    report(progress, 1.0, "component ids written")
    return out, scan.size[scan.order]


def _sub(progress, a, b):
    if progress is None:
        return None
    return lambda f, msg=None: progress(a + (b - a) * f, msg)


def _resolve_phases(legend, phase) -> tuple[list[str], list[int]]:
    ids = phase_ids(legend)
    names = [phase] if isinstance(phase, str) else list(phase)
    missing = [p for p in names if p not in ids]
    if not names or missing:
        raise BadInput("phase", f"phase(s) {missing or names} not in the legend {sorted(ids)}",
                       "name phases of the legend, e.g. 'cbd' or ('am', 'cbd')")
    return names, [ids[p] for p in names]


_SIDES = {0: ("current collector (z = 0)", "separator (z = max)"), 1: ("y = 0", "y = max"), 2: ("x = 0", "x = max")}


def component_table(labels, legend: dict[int, str], phase, spacing, connectivity: int = 6, axis="z", *,
                    max_rows: int | None = None, slab_voxels: int = SLAB_VOXELS, progress=None) -> dict:
    """Connected components of a phase (or a union of phases): count, sizes, percolation.

    Parameters
    ----------
    labels : integer array [z, y, x]; legend : ``{id: phase name}``
    phase : phase name (``"cbd"``) or several names (``("am", "cbd")``: their union)
    spacing : voxel size in um (dz, dy, dx) or one number
    connectivity : 6, 18 or 26
    axis : the axis whose two end planes are the "low" and "high" sides: ``"z"`` (default; low =
        current-collector side, high = separator side), ``"y"`` or ``"x"``.  Whole planes of a
        ``collector`` layer (low z) and a ``separator`` layer (high z) are left out first, so the
        sides are the electrode's faces.
    max_rows : keep only the largest ``max_rows`` components in the ``components`` table (None:
        all; a noisy segmentation can hold millions, ~35 bytes each); the summary numbers and the
        size distribution always cover every component

    Returns a dict:

    - ``phase``, ``connectivity``, ``axis``, ``sides`` (what low and high mean);
    - ``count``: number of components; ``phase_voxels``, ``phase_volume_um3``;
    - ``largest_share``: largest component's share of the phase volume (0 for an empty phase),
      ``largest_volume_um3``;
    - ``percolating_share``: share of the phase volume in components touching both sides;
      ``low_share`` / ``high_share``: touching the low / high side (percolating ones included);
      ``isolated_share``: touching neither side; ``percolating_count``;
    - ``components``: a :data:`Table` sorted by size (largest first) with ``id`` (1..count, the
      ids :func:`components` gives the same mask), ``voxels``, ``volume_um3``, ``share`` (of the
      phase volume), ``touches_low``, ``touches_high``, ``percolating``;
    - ``size_distribution``: a :data:`Table` of the distinct component sizes, largest first:
      ``voxels``, ``volume_um3``, ``components`` (how many have that size), ``share`` (their
      share of the phase volume) and ``cumulative_share`` (share in components at least that big).
    """
    a = np.asarray(labels)
    ax = as_axis(axis)
    sp = as_spacing(spacing)
    names, ids = _resolve_phases(legend, phase)
    if max_rows is not None and int(max_rows) < 0:
        raise BadInput("max_rows", f"{max_rows!r} rows", "give a count >= 0, or None for all")
    z0, z1 = electrode_range(a, legend)
    scan = _Scan(a[z0:z1], _selector(ids), None, connectivity, ax, slab_voxels, progress)
    size, low, high = scan.size, scan.touch_low, scan.touch_high
    perc = low & high
    total = int(size.sum())
    vox_um3 = sp[0] * sp[1] * sp[2]

    def share(sel):
        return float(size[sel].sum() / total) if total else 0.0

    o = scan.order if max_rows is None else scan.order[:int(max_rows)]
    so = size[o]
    table: Table = {
        "id": np.arange(1, o.size + 1, dtype=np.int64),
        "voxels": so,
        "volume_um3": so * vox_um3,
        "share": so / total if total else np.zeros(0),
        "touches_low": low[o], "touches_high": high[o], "percolating": perc[o],
    }
    distinct, n_of = np.unique(size, return_counts=True)
    distinct, n_of = distinct[::-1], n_of[::-1]
    vol_share = distinct * n_of / total if total else np.zeros(0)
    dist: Table = {"voxels": distinct, "volume_um3": distinct * vox_um3, "components": n_of.astype(np.int64),
                   "share": vol_share, "cumulative_share": np.cumsum(vol_share)}
    return {
        "phase": names[0] if len(names) == 1 else "+".join(names),
        "connectivity": int(connectivity), "axis": "zyx"[ax],
        "sides": {"low": _SIDES[ax][0], "high": _SIDES[ax][1]},
        "count": int(scan.n),
        "phase_voxels": total, "phase_volume_um3": total * vox_um3,
        "largest_share": float(size.max() / total) if total else 0.0,
        "largest_volume_um3": float(size.max() * vox_um3) if total else 0.0,
        "percolating_share": share(perc), "percolating_count": int(perc.sum()),
        "low_share": share(low), "high_share": share(high), "isolated_share": share(~low & ~high),
        "components": table,
        "size_distribution": dist,
    }


def largest_share(labels, legend: dict[int, str], phase, connectivity: int = 6, *,
                  slab_voxels: int = SLAB_VOXELS) -> float:
    """Share of a phase's volume in its largest connected component (0.0 for an absent phase).

    The study's "largest CBD aggregate" (Fig. 6: 23.6 % slurry vs 57 % dry, 6-connected here by
    default).  Same as ``component_table(...)["largest_share"]`` without building the table.
    """
    a = np.asarray(labels)
    _, ids = _resolve_phases(legend, phase)
    scan = _Scan(a, _selector(ids), None, connectivity, 0, slab_voxels)
    total = int(scan.size.sum())
    return float(scan.size.max() / total) if total else 0.0


def isolated_am_fraction(labels, legend: dict[int, str], connectivity: int = 6, *,
                         slab_voxels: int = SLAB_VOXELS, progress=None) -> float:
    """Share of the active material with no electronic path to the current collector.

    Electrons travel through active material and CBD only (cracks are empty, pores hold
    electrolyte); a ``collector`` phase, where the legend has one, conducts too.  An AM voxel is
    connected when its component of ``am | cbd | collector`` (``connectivity``-connected) touches
    the plane z = 0.  Returns isolated AM voxels / AM voxels (NaN without AM voxels).
    """
    a = np.asarray(labels)
    ids = phase_ids(legend)
    if "am" not in ids:
        return float("nan")
    conduct = [ids[p] for p in ("am", "cbd", "collector") if p in ids]
    scan = _Scan(a, _selector(conduct), _selector([ids["am"]]), connectivity, 0, slab_voxels, progress)
    total = int(scan.count.sum())
    return float(scan.count[~scan.touch_low].sum() / total) if total else float("nan")


def dead_pore_fraction(labels, legend: dict[int, str], connectivity: int = 6, *,
                       slab_voxels: int = SLAB_VOXELS, progress=None) -> float:
    """Share of the electrolyte space that the electrolyte cannot reach from the separator side.

    The electrolyte space is pore and crack voxels: a crack is filled when, and only when, it is
    connected to the pore network, so cracks count as electrolyte space and an enclosed crack
    counts as dead.  A ``separator`` phase (porous, electrolyte-filled) carries the electrolyte
    too.  A voxel is live when its component of ``pore | crack | separator``
    (``connectivity``-connected) touches the plane z = max.  Returns dead (pore + crack) voxels /
    (pore + crack) voxels (NaN when there are none).
    """
    a = np.asarray(labels)
    ids = phase_ids(legend)
    space = [ids[p] for p in ("pore", "crack") if p in ids]
    if not space:
        return float("nan")
    carry = space + ([ids["separator"]] if "separator" in ids else [])
    scan = _Scan(a, _selector(carry), _selector(space), connectivity, 0, slab_voxels, progress)
    total = int(scan.count.sum())
    return float(scan.count[~scan.touch_high].sum() / total) if total else float("nan")
