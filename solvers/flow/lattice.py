"""The D3Q19 lattice and the fluid-only neighbour list (indirect addressing).

Directions ``C[q] = (cx, cy, cz)`` with weights ``W[q]`` (Qian, d'Humieres & Lallemand 1992);
``OPP[q]`` is the opposite direction.  Volumes are indexed ``[z, y, x]``; a direction's offset in
array order is ``(cz, cy, cx)``.

Only fluid voxels are stored: :func:`neighbour_list` numbers them in C order and gives, for each
fluid voxel ``n`` and direction ``q``, the index of the fluid voxel at ``x + c_q`` (periodic
wrap), or ``-1`` when that voxel is solid: the kernels turn ``-1`` into a halfway bounce-back, so
the wall sits midway between the fluid and the solid voxel centre.
"""

from __future__ import annotations

import numpy as np

#: D3Q19 velocities (cx, cy, cz): rest, 6 faces, 12 edges
C = np.array([(0, 0, 0),
              (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1),
              (1, 1, 0), (-1, -1, 0), (1, -1, 0), (-1, 1, 0),
              (1, 0, 1), (-1, 0, -1), (1, 0, -1), (-1, 0, 1),
              (0, 1, 1), (0, -1, -1), (0, 1, -1), (0, -1, 1)], dtype=np.int64)
#: weights: 1/3 rest, 1/18 faces, 1/36 edges
W = np.array([1 / 3] + [1 / 18] * 6 + [1 / 36] * 12)
#: opposite direction of each direction
OPP = np.array([int(np.flatnonzero((C == -c).all(axis=1))[0]) for c in C], dtype=np.int64)
Q = 19
#: lattice speed of sound squared
CS2 = 1.0 / 3.0


def fluid_index(fluid: np.ndarray) -> np.ndarray:
    """Index of every fluid voxel in C order (int32 ``[z, y, x]``, -1 on solid voxels).

    Parameters
    ----------
    fluid : ndarray of bool, shape (nz, ny, nx)

    Returns
    -------
    ndarray of int32, same shape
    """
    idx = np.full(fluid.shape, -1, dtype=np.int32)
    idx[fluid] = np.arange(int(fluid.sum()), dtype=np.int32)
    return idx


def neighbour_list(fluid: np.ndarray) -> np.ndarray:
    """Neighbour of each fluid voxel in each non-rest direction (periodic wrap on every axis).

    Parameters
    ----------
    fluid : ndarray of bool, shape (nz, ny, nx)
        True on fluid voxels.

    Returns
    -------
    ndarray of int32, shape (19, n_fluid)
        ``nb[q, n]`` is the fluid index of the voxel at ``x_n + c_q``, or -1 where it is solid
        (a bounce-back link).  Row 0 (rest) is ``n`` itself.

    Examples
    --------
    >>> fluid = np.ones((1, 1, 3), bool)
    >>> neighbour_list(fluid)[1].tolist()  # +x neighbours, periodic
    [1, 2, 0]
    """
    idx = fluid_index(fluid)
    zz, yy, xx = np.nonzero(fluid)
    n = zz.size
    nb = np.empty((Q, n), dtype=np.int32)
    nz, ny, nx = fluid.shape
    for q in range(Q):
        cx, cy, cz = C[q]
        nb[q] = idx[(zz + cz) % nz, (yy + cy) % ny, (xx + cx) % nx]
    return nb


def bytes_per_fluid_voxel(dtype=np.float32) -> int:
    """Memory the sparse solver holds per fluid voxel, in bytes.

    Memory the sparse solver holds per fluid voxel: one population array (AA pattern) and the
    19 neighbour indices (int32), in bytes.
    """
    return Q * np.dtype(dtype).itemsize + Q * 4


def link_table(fluid_or_nb: np.ndarray) -> np.ndarray:
    """Flat population addresses of the AA pattern's odd step, bounce-back folded in.

    For the array-of-structures populations ``A[n, q]`` (flat index ``n * 19 + q``):
    ``T[q, n] = m * 19 + q`` when the neighbour ``m`` along ``q`` is fluid, else
    ``n * 19 + OPP[q]`` (the wall sends it back).  The odd step then writes its outgoing
    population ``q`` to ``T[q, n]`` and reads its incoming population ``q`` from
    ``T[OPP[q], n]``: no branch per link (a porous medium's links are fluid or wall at random,
    which a branch would mispredict).

    Parameters
    ----------
    fluid_or_nb : ndarray
        The fluid mask (bool, (nz, ny, nx)): the table is built a direction at a time, without the
        neighbour list (less memory); or a neighbour list from :func:`neighbour_list`.

    Returns
    -------
    ndarray of int32 (int64 beyond 2**31 addresses), shape (19, n_fluid)
    """
    if fluid_or_nb.dtype == bool:
        fluid = fluid_or_nb
        idx = fluid_index(fluid)
        coords = [c.astype(np.int32) for c in np.nonzero(fluid)]
        n = coords[0].size
        rows = None
    else:
        rows = fluid_or_nb
        n = rows.shape[1]
    dtype = np.int32 if n * Q < 2 ** 31 else np.int64
    own = np.arange(n, dtype=dtype) * Q
    table = np.empty((Q, n), dtype=dtype)
    for q in range(Q):
        if rows is None:
            cx, cy, cz = C[q]
            nz, ny, nx = fluid.shape
            m = idx[(coords[0] + cz) % nz, (coords[1] + cy) % ny, (coords[2] + cx) % nx]
        else:
            m = rows[q]
        table[q] = np.where(m >= 0, m.astype(dtype) * Q + q, own + OPP[q])
    return table
