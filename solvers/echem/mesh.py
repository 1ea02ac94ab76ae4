"""The finite-volume mesh of the discharge model: which voxel carries which unknown, and the faces.

The label volume ``[z, y, x]`` (z = 0 at the current collector) is extended upward by a few
homogenised separator layers (full lateral resolution, thicker along z: the separator is uniform,
so only its total resistance and capacity matter, and the finite volumes take any layer
thickness).  Every cell of this extended grid may carry

- an electrolyte unknown (concentration c_e, potential phi_e) with a volume fraction ``eps``
  (1 in pores and cracks, the micro-porosity in the CBD, the porosity in the separator) and a
  transport factor ``beta`` (effective/bulk conductivity and diffusivity: 1 in pores, the CBD's
  eps^b, the separator's transport efficiency);
- a solid unknown (phi_s) with an electronic conductivity (active material, CBD, collector).

CBD voxels carry both.  Electrolyte cells not connected (6-neighbours) to the separator are
dropped: a pocket the electrolyte cannot reach stays dry (the study's impregnation: > 97 % of
the pores filled).  Faces:

- conduction faces between two solid cells, and between two electrolyte cells, with harmonic
  conductances ``A / (h_a / (2 p_a) + h_b / (2 p_b))`` (``p`` the conductivity or transport
  factor, ``h`` the cell lengths along the axis: exact for anisotropic voxels and the thicker
  separator layers);
- reaction faces between an active-material voxel and an electrolyte cell, weighted by that
  cell's ``eps`` (a CBD face reacts through its micro-pores only) and by the surface area
  correction ``area_factor`` (true area / counted voxel faces);
- the current-collector faces (bottom of the solid cells of layer 0) and the Li-metal faces (top
  of the last separator layer).

Everything here is plain numpy; the solvers (:mod:`~electrovox.solvers.echem.cell`) assemble
their sparse systems from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput

__all__ = ["Mesh", "build_mesh", "CLOGGING"]

#: clogging scenarios of the study: none; cbd (no Li+ through the CBD, no reaction through it);
#: full (cbd, and the pores' effective transport halved: tortuosity x 2)
CLOGGING = ("none", "cbd", "full")


@dataclass
class Mesh:
    """The discharge model's cells and faces (SI units).

    Attributes
    ----------
    shape : tuple of 3 int
        The extended grid (nz + n_sep, ny, nx); the electrode is ``[:nz_electrode]``.
    nz_electrode : int
        Layers of the label volume.
    dz, dy, dx : ndarray / float
        Cell lengths in m: ``dz`` per layer (shape (nz + n_sep,)), ``dy`` and ``dx`` scalars.
    solid_index, electrolyte_index : ndarray of int32, shape ``shape``
        Unknown number of each cell's solid / electrolyte part, -1 where none.
    am_index : ndarray of int32, shape (n_solid,)
        For every solid unknown its active-material number, -1 for CBD and collector cells.
    n_solid, n_electrolyte, n_am : int
        Unknown counts.
    solid_sigma : ndarray, shape (n_solid,)
        Electronic conductivity, S/m.
    eps, beta : ndarray, shape (n_electrolyte,)
        Electrolyte volume fraction and transport factor of each electrolyte cell.
    cell_volume_e : ndarray, shape (n_electrolyte,)
        Cell volume (m^3) of each electrolyte cell (the electrolyte volume is ``eps`` times it).
    am_volume : ndarray, shape (n_am,)
        Volume of each active-material voxel, m^3.
    s_faces, e_faces : tuple (a, b, geometric conductance)
        Conduction faces: unknown numbers and ``A / (h_a/(2 p_a) + h_b/(2 p_b))`` (S for solid,
        m for electrolyte: multiply by kappa or D).
    r_solid, r_electrolyte, r_area : ndarray, shape (n_reaction,)
        Reaction faces: solid unknown (an AM voxel), electrolyte unknown, and true reaction area
        in m^2 (face area x eps of the electrolyte cell x ``area_factor``).
    r_half_solid, r_half_electrolyte : ndarray, shape (n_reaction,)
        Half-cell lengths / property on either side of a reaction face (m / (S/m) and m /
        transport factor): the series resistance from the cell centres to the face.
    r_z_m : ndarray, shape (n_reaction,)
        Height of each reaction face above the current collector, m.
    r_weight : ndarray, shape (n_reaction,)
        Reaction area / geometric face area (eps of the electrolyte cell x ``area_factor``).
    r_length_solid : ndarray, shape (n_reaction,)
        Length of the active-material voxel normal to the face, m.
    cc_solid, cc_conductance : ndarray
        Solid unknowns of layer 0 and their conductance to the collector, S.
    li_electrolyte, li_area, li_half : ndarray
        Electrolyte unknowns of the top layer, their area (m^2) and half-cell length / beta (m).
    area_factor : float
        True / counted active-material surface area.
    """

    shape: tuple
    nz_electrode: int
    dz: np.ndarray
    dy: float
    dx: float
    solid_index: np.ndarray
    electrolyte_index: np.ndarray
    am_index: np.ndarray
    n_solid: int
    n_electrolyte: int
    n_am: int
    solid_sigma: np.ndarray
    eps: np.ndarray
    beta: np.ndarray
    cell_volume_e: np.ndarray
    am_volume: np.ndarray
    am_mask: np.ndarray
    s_faces: tuple
    e_faces: tuple
    r_solid: np.ndarray
    r_electrolyte: np.ndarray
    r_area: np.ndarray
    r_half_solid: np.ndarray
    r_half_electrolyte: np.ndarray
    r_z_m: np.ndarray
    r_weight: np.ndarray
    r_length_solid: np.ndarray
    cc_solid: np.ndarray
    cc_conductance: np.ndarray
    li_electrolyte: np.ndarray
    li_area: np.ndarray
    li_half: np.ndarray
    area_factor: float
    z_centres_m: np.ndarray

    @property
    def area_m2(self) -> float:
        """Cross-section of the volume (the electrode area it represents), m^2."""
        return self.shape[1] * self.shape[2] * self.dy * self.dx


def _pairs(index: np.ndarray, axis: int):
    """Face-neighbour cells along ``axis`` that both carry an unknown: (a, b, lower coordinate)."""
    lo = [slice(None)] * 3
    hi = [slice(None)] * 3
    lo[axis], hi[axis] = slice(0, -1), slice(1, None)
    a, b = index[tuple(lo)], index[tuple(hi)]
    both = (a >= 0) & (b >= 0)
    return a[both], b[both], np.nonzero(both)


def _touches(mask: np.ndarray) -> np.ndarray:
    """Cells with a face neighbour in ``mask``."""
    out = np.zeros_like(mask)
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        out[tuple(lo)] |= mask[tuple(hi)]
        out[tuple(hi)] |= mask[tuple(lo)]
    return out


def _lengths(shape, dz, dy, dx, axis, where):
    """Cell lengths along ``axis`` (and the face area) for the lower cells at ``where``."""
    z = where[0]
    if axis == 0:
        return dz[z], dz[z + 1], np.full(z.size, dy * dx)
    h = dy if axis == 1 else dx
    other = dx if axis == 1 else dy
    return np.full(z.size, h), np.full(z.size, h), dz[z] * other


def build_mesh(labels: np.ndarray, legend: dict, spacing_m, params, *, clogging: str = "none",
               area_factor: float = 1.0, separator_layers: int | None = None) -> Mesh:
    """Cells and faces of the discharge model for a label volume.

    Parameters
    ----------
    labels : ndarray of uint8, shape (nz, ny, nx)
        Segmented electrode, z = 0 at the current collector, the separator above z = nz - 1.
    legend : dict of int to str
        Label id -> phase name (``pore``, ``am``, ``cbd``, ``crack``, ``separator``,
        ``collector``).
    spacing_m : tuple of 3 float
        Voxel size (dz, dy, dx), m.
    params : EchemParameters
        The parameter set (conductivities, CBD micro-porosity, separator).
    clogging : {"none", "cbd", "full"}
        The study's clogging scenarios (module :data:`CLOGGING`).
    area_factor : float
        True active-material surface area / counted voxel faces (> 0).
    separator_layers : int, optional
        Layers of the homogenised separator (default: its thickness in layers of about 5 um, at
        least 3).

    Returns
    -------
    Mesh
        The cells and faces.
    """
    if clogging not in CLOGGING:
        raise BadInput("clogging", f"is {clogging!r}", "use one of " + ", ".join(CLOGGING))
    labels = np.asarray(labels)
    if labels.ndim != 3:
        raise BadInput("labels", f"has {labels.ndim} dimensions, not 3", "give a [z, y, x] label volume")
    phase = {name: np.isin(labels, [k for k, v in legend.items() if v == name]) for name in
             ("pore", "am", "cbd", "crack", "separator", "collector")}
    if not phase["am"].any():
        raise BadInput("labels", "hold no active material ('am')", "check the legend, e.g. --legend 0=pore,1=cbd,2=am")
    dz0, dy, dx = (float(s) for s in spacing_m)
    nz, ny, nx = labels.shape
    sep = params.separator
    n_sep = separator_layers or max(3, int(round(sep.thickness_m / 5e-6)))
    shape = (nz + n_sep, ny, nx)
    dz = np.concatenate([np.full(nz, dz0), np.full(n_sep, sep.thickness_m / n_sep)])

    # electrolyte: volume fraction and transport factor per cell
    cbd_ionic = clogging == "none"
    pore_beta = 0.5 if clogging == "full" else 1.0
    eps = np.zeros(shape)
    beta = np.zeros(shape)
    el = eps[:nz]
    bl = beta[:nz]
    for name in ("pore", "crack"):
        el[phase[name]], bl[phase[name]] = 1.0, pore_beta
    el[phase["separator"]], bl[phase["separator"]] = sep.porosity, sep.transport_efficiency
    if cbd_ionic:
        el[phase["cbd"]] = params.cbd.porosity
        bl[phase["cbd"]] = params.cbd.porosity ** params.cbd.bruggeman
    eps[nz:], beta[nz:] = sep.porosity, sep.transport_efficiency
    wet = eps > 0
    # keep the electrolyte connected to the separator (6-neighbours)
    lab, _ = ndimage.label(wet)
    top = np.unique(lab[-1][lab[-1] > 0])
    wet &= np.isin(lab, top)
    eps[~wet] = 0.0
    beta[~wet] = 0.0

    sigma = np.zeros(shape)
    sigma[:nz][phase["am"]] = params.positive.conductivity_S_m
    sigma[:nz][phase["cbd"]] = params.cbd.conductivity_S_m
    sigma[:nz][phase["collector"]] = 3.77e7     # aluminium at 20 C, S/m (CRC Handbook)
    dry = sigma > 0
    am = np.zeros(shape, dtype=bool)
    am[:nz] = phase["am"]
    # solid clusters (6-neighbours) that neither touch the collector nor react carry no current and
    # have no defined potential (a CBD speck in a pore): they get no solid unknown
    reactive = am & _touches(wet)
    lab, _ = ndimage.label(dry)
    keep = np.unique(np.concatenate([lab[0][lab[0] > 0], lab[reactive]]))
    dry &= np.isin(lab, keep)

    # int32 unknown numbers (a grid of < 2^31 cells; the faces' index arrays inherit the type):
    # half the memory of the face lists, the model's largest arrays after the matrices
    itype = np.int32 if np.prod(shape) < 2**31 else np.int64
    solid_index = np.full(shape, -1, dtype=itype)
    solid_index[dry] = np.arange(int(dry.sum()))
    electrolyte_index = np.full(shape, -1, dtype=itype)
    electrolyte_index[wet] = np.arange(int(wet.sum()))
    am_number = np.full(shape, -1, dtype=itype)
    am_number[am] = np.arange(int(am.sum()))
    am_index = am_number[dry]
    am &= dry           # reaction faces need a solid potential; the other AM voxels only store lithium

    cell_vol = (dz * dy * dx)[:, None, None] * np.ones((1, ny, nx))
    s_faces, e_faces, rs, re, ra, rhs_, rhe, rz = ([], [], []), ([], [], []), [], [], [], [], [], []
    rw, rh = [], []
    zc = np.concatenate([[0.0], np.cumsum(dz)])
    z_centres = 0.5 * (zc[:-1] + zc[1:])
    for axis in range(3):
        for index, prop, out in ((solid_index, sigma, s_faces), (electrolyte_index, beta, e_faces)):
            a, b, where = _pairs(index, axis)
            ha, hb, area = _lengths(shape, dz, dy, dx, axis, where)
            upper = tuple(w + (1 if k == axis else 0) for k, w in enumerate(where))
            g = area / (ha / (2 * prop[where]) + hb / (2 * prop[upper]))
            for lst, v in zip(out, (a, b, g), strict=True):
                lst.append(v)
        # reaction faces: active material on one side, electrolyte on the other (either order);
        # p is the lower cell of the pair along `axis`, q the upper one
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        for solid_below in (True, False):
            m = (am[tuple(lo)] & wet[tuple(hi)]) if solid_below else (wet[tuple(lo)] & am[tuple(hi)])
            p = np.nonzero(m)
            q = tuple(w + (1 if k == axis else 0) for k, w in enumerate(p))
            s_pos, e_pos = (p, q) if solid_below else (q, p)
            ha, hb, area = _lengths(shape, dz, dy, dx, axis, p)
            h_s, h_e = (ha, hb) if solid_below else (hb, ha)
            rs.append(solid_index[s_pos])
            re.append(electrolyte_index[e_pos])
            ra.append(area * eps[e_pos] * area_factor)
            rw.append(eps[e_pos] * area_factor)
            rh.append(h_s)
            rhs_.append(h_s / (2 * sigma[s_pos]))
            rhe.append(h_e / (2 * beta[e_pos]))
            rz.append(zc[p[0] + 1] if axis == 0 else z_centres[p[0]])

    cat = np.concatenate
    cc = solid_index[0][solid_index[0] >= 0]
    cc_g = (dy * dx) / (dz[0] / 2 / sigma[0][solid_index[0] >= 0])
    li = electrolyte_index[-1][electrolyte_index[-1] >= 0]
    return Mesh(
        shape=shape, nz_electrode=nz, dz=dz, dy=dy, dx=dx,
        solid_index=solid_index, electrolyte_index=electrolyte_index, am_index=am_index,
        n_solid=int(dry.sum()), n_electrolyte=int(wet.sum()), n_am=int(phase["am"].sum()),
        solid_sigma=sigma[dry], eps=eps[wet], beta=beta[wet], cell_volume_e=cell_vol[wet],
        am_volume=cell_vol[:nz][phase["am"]], am_mask=phase["am"],
        s_faces=tuple(cat(v) for v in s_faces), e_faces=tuple(cat(v) for v in e_faces),
        r_solid=cat(rs), r_electrolyte=cat(re), r_area=cat(ra), r_half_solid=cat(rhs_),
        r_half_electrolyte=cat(rhe), r_z_m=cat(rz), r_weight=cat(rw), r_length_solid=cat(rh),
        cc_solid=cc, cc_conductance=cc_g,
        li_electrolyte=li, li_area=np.full(li.size, dy * dx), li_half=np.full(li.size, dz[-1] / 2 / beta[-1][
            electrolyte_index[-1] >= 0]),
        area_factor=float(area_factor), z_centres_m=z_centres,
    )
