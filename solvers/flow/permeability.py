"""Absolute permeability and flow tortuosity of a label volume by lattice Boltzmann (Stokes flow).

The study's recipe (Zhang, Chouchane et al., Joule 2023): resample the segmented volume to cubic
voxels (100 nm), solve Stokes flow through the pores, report the permeability and the flow
tortuosity ``sum |V| / sum V_i`` of the velocity field.

Set-up (lattice units inside, SI outside):

- fluid: the phases in ``fluid`` (default pore and crack); the CBD is solid, or a grey
  (Brinkman) medium of permeability ``cbd_permeability_m2``; fluid not connected through the
  sample along the flow axis carries no flow and is made solid (it is reported);
- drive: a uniform body force along the flow axis with periodic boundaries.  A real image is not
  periodic, so along the flow axis it is **mirrored** (the image and its reflection, twice the
  length): the outlet face then meets an identical inlet face, no pore is cut or opened at the
  joint, and no free-fluid buffer layer (whose own flow would depend on its thickness) is added.
  Laterally the faces wrap periodically by default (``lateral="walls"`` closes them instead, as
  in a sealed permeameter: it adds wall drag on small samples);
- permeability from Darcy's law with the superficial velocity (over all voxels):
  ``k = nu <u> / F dx^2``;
- stopping rule: the relative change of k over the last ``window_steps`` steps below ``tol``
  (1e-4) and the flow rates through all cross-sections equal within ``flux_tol`` (0.5 %); a run
  that reaches ``max_steps`` first says ``converged: false``.

Velocity and pressure come out in SI for a stated pressure gradient (Stokes flow is linear: they
scale with it; ``k`` does not depend on it).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.solvers.flow.lbm import MAGIC, DenseLattice, SparseLattice, plane_fluxes, relaxation_rates
from electrovox.solvers.run.solver import TimeSolver

DARCY_M2 = 9.869233e-13
AXES = ("x", "y", "z")
_ARRAY_AXIS = {"z": 0, "y": 1, "x": 2}


@dataclass(frozen=True)
class FlowConfig:
    """Parameters of a permeability run (SI units unless marked lattice).

    Attributes
    ----------
    axis : str
        Flow direction, "x", "y" or "z".
    voxel_m : float
        Cubic voxel size dx in m (the lattice spacing).
    tau : float
        Relaxation time (lattice): nu = (tau - 1/2) / 3.  With TRT the permeability does not
        depend on it; 1.0 is a well-conditioned default.
    collision : str
        "trt" (default; magic parameter ``magic``) or "bgk".
    magic : float
        TRT Lambda; 3/16 makes halfway bounce-back exact for plane Poiseuille flow (Ginzburg).
    force_lu : float
        Body force density (lattice).  Small enough for Stokes flow: the run stops if the largest
        velocity passes ``max_velocity_lu``.
    dtype : str
        Population storage, "float32" (default) or "float64".
    backend : str
        "numba" (sparse, fluid voxels only) or "numpy" (dense reference).
    tol : float
        Relative change of k over ``window_steps`` below which k is converged.
    window_steps : int
        Steps over which the change of k is measured.
    flux_tol : float
        Largest relative spread of the flow rate between cross-sections at convergence.
    observe_every : int
        Steps between observations (even: the AA pattern advances in pairs).
    max_steps : int
        Step cap; reaching it gives ``converged: false``.
    max_velocity_lu : float
        Largest lattice velocity accepted (Mach ~ 0.17 at 0.1): beyond it the run stops (divergence).
    viscosity_Pa_s : float
        Dynamic viscosity for the SI velocity and the time scale (3e-3 Pa s: a carbonate electrolyte,
        shared/reference/solver-references.md).
    density_kg_m3 : float
        Fluid density (1250 kg/m^3, idem): only the time scale uses it.
    pressure_gradient_Pa_m : float
        The pressure gradient the SI velocity and pressure are given for (1e5 Pa/m).
    cbd_permeability_m2 : float or None
        None: the CBD is solid; else a grey (Brinkman) medium of this permeability.
    lateral : str
        "periodic" (default) or "walls" on the faces parallel to the flow.
    boundary : str
        Along the flow: "mirror" (default: the image and its reflection, for real images) or
        "periodic" (the image is periodic already: a unit cell, a periodic phantom).
    """

    axis: str = "z"
    voxel_m: float = 1e-7
    tau: float = 1.0
    collision: str = "trt"
    magic: float = MAGIC
    force_lu: float = 1e-5
    dtype: str = "float32"
    backend: str = "numba"
    tol: float = 1e-4
    window_steps: int = 1000
    flux_tol: float = 5e-3
    observe_every: int = 100
    max_steps: int = 200_000
    max_velocity_lu: float = 0.1
    viscosity_Pa_s: float = 3e-3
    density_kg_m3: float = 1250.0
    pressure_gradient_Pa_m: float = 1e5
    cbd_permeability_m2: float | None = None
    lateral: str = "periodic"
    boundary: str = "mirror"

    def check(self) -> None:
        """Raise BadInput (naming the field) on values that cannot run."""
        if self.axis not in AXES:
            raise BadInput("axis", f"{self.axis!r} is not x, y or z", "give axis='x', 'y' or 'z'")
        if not self.tau > 0.5:
            raise BadInput("tau", f"{self.tau} <= 1/2 (negative viscosity)", "give tau > 0.5, e.g. 1.0")
        if self.collision not in ("trt", "bgk"):
            raise BadInput("collision", f"{self.collision!r} is not trt or bgk", "give 'trt' or 'bgk'")
        if self.dtype not in ("float32", "float64"):
            raise BadInput("dtype", f"{self.dtype!r}", "give 'float32' or 'float64'")
        if self.backend not in ("numba", "numpy"):
            raise BadInput("backend", f"{self.backend!r} is not available", "give 'numba' or 'numpy'")
        if self.observe_every % 2 or self.observe_every < 2:
            raise BadInput("observe_every", f"{self.observe_every} is not an even number of steps",
                           "give an even number (the AA pattern advances in pairs of steps)")
        if self.boundary not in ("mirror", "periodic"):
            raise BadInput("boundary", f"{self.boundary!r}", "give 'mirror' or 'periodic'")
        if self.lateral not in ("periodic", "walls"):
            raise BadInput("lateral", f"{self.lateral!r}", "give 'periodic' or 'walls'")
        if self.cbd_permeability_m2 is not None and not self.cbd_permeability_m2 > 0:
            raise BadInput("cbd_permeability_m2", f"{self.cbd_permeability_m2} is not positive",
                           "give a permeability in m^2, e.g. 1e-18, or none for solid CBD")

    @property
    def nu_lu(self) -> float:
        """Kinematic viscosity in lattice units."""
        return (self.tau - 0.5) / 3.0

    @property
    def dt_s(self) -> float:
        """Lattice time step in seconds (matching the viscosity: dt = nu_lu dx^2 / nu)."""
        return self.nu_lu * self.voxel_m ** 2 / (self.viscosity_Pa_s / self.density_kg_m3)


def percolating_fluid(fluid: np.ndarray, axis: str) -> np.ndarray:
    """The fluid voxels connected from one face to the opposite face along ``axis``.

    Connectivity is the lattice's (faces and edges, 18-connected), without lateral wrap.

    Parameters
    ----------
    fluid : ndarray of bool, shape (nz, ny, nx)
    axis : {"x", "y", "z"}

    Returns
    -------
    ndarray of bool, same shape
    """
    lab, n = ndimage.label(fluid, structure=ndimage.generate_binary_structure(3, 2))
    if n == 0:
        return np.zeros_like(fluid)
    a = _ARRAY_AXIS[axis]
    first = np.unique(np.take(lab, 0, axis=a))
    last = np.unique(np.take(lab, -1, axis=a))
    keep = np.intersect1d(first[first > 0], last[last > 0])
    return np.isin(lab, keep)


class FlowSolver(TimeSolver):
    """Stokes flow through a fluid mask by lattice Boltzmann (a :class:`TimeSolver`).

    Parameters
    ----------
    fluid : ndarray of bool, shape (nz, ny, nx)
        Fluid voxels of the sample (cubic voxels of ``config.voxel_m``).
    config : FlowConfig
    grey : ndarray of bool, optional
        Grey (Brinkman) voxels among the fluid ones (needs ``config.cbd_permeability_m2``).
    """

    name = "flow"

    def __init__(self, fluid, config: FlowConfig, grey=None):
        config.check()
        super().__init__(config)
        self.sample_shape = fluid.shape
        a = _ARRAY_AXIS[config.axis]
        dom, grey_dom = fluid, grey
        if config.boundary == "mirror":  # the image and its reflection along the flow
            dom = np.concatenate([fluid, np.flip(fluid, axis=a)], axis=a)
            grey_dom = None if grey is None else np.concatenate([grey, np.flip(grey, axis=a)], axis=a)
        if config.lateral == "walls":
            pads = [(1, 1)] * 3
            pads[a] = (0, 0)
            dom = np.pad(dom, pads)
            grey_dom = None if grey_dom is None else np.pad(grey_dom, pads)
        self.axis_index = a
        self.lateral_pad = 1 if config.lateral == "walls" else 0
        force = [0.0, 0.0, 0.0]
        force["xyz".index(config.axis)] = config.force_lu
        sigma = None
        if grey_dom is not None and grey_dom.any():
            k_lu = config.cbd_permeability_m2 / config.voxel_m ** 2
            sigma = np.where(grey_dom[dom], config.nu_lu / k_lu, 0.0)
        omegas = relaxation_rates(config.tau, config.collision, config.magic)
        lattice = SparseLattice if config.backend == "numba" else DenseLattice
        self.lattice = lattice(dom, force, omegas, sigma=sigma, dtype=np.dtype(config.dtype))
        self.n_total = int(np.prod(self.sample_shape))
        self.frame_spacing_um = (config.voxel_m * 1e6,) * 3
        self.frame_origin_um = (0.0, 0.0, 0.0)
        self._k_hist: list[tuple[int, float]] = []

    def _moments(self):
        """(rho, u) on the fluid voxels at the current step, computed once per step.

        observe, check and frame all need them; load_state clears the cache.
        """
        if getattr(self, "_moments_at", None) != self.step:
            self._moments_cache, self._moments_at = self.lattice.moments(), self.step
        return self._moments_cache

    # -- TimeSolver hooks --------------------------------------------------------------------
    def advance(self, n: int) -> None:  # noqa: D102
        with self.counting(2 * (n // 2) * self.lattice.n_fluid):
            self.lattice.step_pair(n // 2)
        self.step += 2 * (n // 2)
        self.time = self.step * self.config.dt_s

    def _sample_velocity_lu(self):
        """Lattice velocity on the sample grid [z, y, x, 3] (first half of the mirrored domain)."""
        rho, u = self._moments()
        full = self.lattice.scatter(u.astype(np.float64))
        p = self.lateral_pad
        sl = [slice(p, -p) if p else slice(None)] * 3
        sl[self.axis_index] = slice(0, self.sample_shape[self.axis_index])
        rho_full = self.lattice.scatter(rho, fill=1.0)
        return full[tuple(sl)], rho_full[tuple(sl)]

    def observe(self) -> dict:  # noqa: D102
        rho, u = self._moments()
        c = "xyz".index(self.config.axis)
        ua = self.lattice.scatter(u[:, c])
        # the exact lattice mass flux through every cross-section (steady: all equal)
        q = plane_fluxes(self.lattice, self.axis_index)
        mean_q = float(q.mean())
        spread = float((q.max() - q.min()) / abs(mean_q)) if mean_q != 0 else float("inf")
        u_sup = float(ua.sum()) / ua.size
        k_lu = self.config.nu_lu * u_sup / self.config.force_lu
        k = k_lu * self.config.voxel_m ** 2
        self._k_hist.append((self.step, k))
        return {"permeability_m2": k, "flux_spread": spread,
                "max_velocity_lu": float(np.sqrt((u * u).sum(axis=1)).max()) if u.size else 0.0,
                "mass_drift": float(rho.sum() - rho.size)}

    def check(self) -> str | None:  # noqa: D102
        rho, u = self._moments()
        if not (np.isfinite(rho).all() and np.isfinite(u).all()):
            return "non-finite density or velocity"
        vmax = float(np.sqrt((u * u).sum(axis=1)).max()) if u.size else 0.0
        if vmax > self.config.max_velocity_lu:
            return (f"lattice velocity {vmax:.3g} above {self.config.max_velocity_lu} (compressibility errors): "
                    "lower force_lu")
        return None

    def finished(self, history):  # noqa: D102
        cfg = self.config
        k_now = self._k_hist[-1][1]
        past = [k for s, k in self._k_hist if s <= self.step - cfg.window_steps]
        if past and k_now != 0:
            change = abs(k_now - past[-1]) / abs(k_now)
            if change < cfg.tol and history["flux_spread"][-1] < cfg.flux_tol:
                return True, f"converged: k changed {change:.1e} over {cfg.window_steps} steps", True
        if self.step >= cfg.max_steps:
            return True, f"step cap {cfg.max_steps} reached before convergence", False
        return None

    def frame(self) -> dict:  # noqa: D102
        cfg = self.config
        u_lu, rho = self._sample_velocity_lu()
        # Stokes flow is linear: u = u_lu nu_lu / F_lu (G dx^2 / mu), p' = (rho - 1)/3 G dx / F_lu
        scale_u = cfg.nu_lu / cfg.force_lu * cfg.pressure_gradient_Pa_m * cfg.voxel_m ** 2 / cfg.viscosity_Pa_s
        scale_p = cfg.pressure_gradient_Pa_m * cfg.voxel_m / cfg.force_lu
        speed = np.sqrt((u_lu * u_lu).sum(axis=-1)) * scale_u
        return {"velocity": (u_lu * scale_u).astype(np.float32), "speed": speed.astype(np.float32),
                "pressure": ((rho - 1.0) / 3.0 * scale_p).astype(np.float32)}

    def state(self) -> dict:  # noqa: D102
        return {"populations": self.lattice.populations().copy(),
                "k_steps": np.array([s for s, _ in self._k_hist], dtype=np.int64),
                "k_values": np.array([k for _, k in self._k_hist])}

    def load_state(self, state: dict) -> None:  # noqa: D102
        self._moments_at = None
        pops = np.asarray(state["populations"])
        if isinstance(self.lattice, SparseLattice):
            self.lattice.A[...] = pops.T
        else:
            self.lattice.f[:, self.lattice.fluid] = pops
        self._k_hist = list(zip(state["k_steps"].tolist(), state["k_values"].tolist(), strict=True))


def cubic_labels(labels, spacing, resample_um=None, method="majority"):
    """The labels on cubic voxels (resampled where needed).

    To ``resample_um`` when given, else to the largest voxel size when the voxels are
    anisotropic, else unchanged; ``method`` as in
    :func:`~electrovox.filters.image.resample.resample_labels` (``"linear"`` rounds off the
    staircase where the voxels are refined).

    Returns
    -------
    labels : ndarray, shape (nz, ny, nx)
    spacing : tuple of 3 float
        The (cubic) voxel size, um.
    """
    labels = np.asarray(labels)
    sp = tuple(float(s) for s in (spacing if np.ndim(spacing) else (spacing,) * 3))
    if resample_um is None and max(sp) - min(sp) > 1e-9 * max(sp):
        resample_um = max(sp)
    if resample_um is not None:
        from electrovox.filters.image.resample import resample_labels
        labels, sp, _ = resample_labels(labels, sp, float(resample_um), method=method)
    return labels, sp


def config_from(cls, what: str, **kw):
    """A config dataclass ``cls`` from keywords, unknown ones refused with their names.

    Parameters
    ----------
    cls : dataclass type
    what : str
        How errors name it ("a flow").
    **kw
        Its fields.
    """
    names = {f.name for f in dataclasses.fields(cls)}
    bad = sorted(set(kw) - names)
    if bad:
        raise BadInput(", ".join(bad), f"not {what} parameter", f"use some of {', '.join(sorted(names))}")
    return cls(**kw)


def flow_config_from(**kw) -> FlowConfig:
    """A :class:`FlowConfig` from keywords, unknown ones refused with their names."""
    return config_from(FlowConfig, "a flow", **kw)


def permeability(labels, legend: dict, spacing, axis: str = "z", *, fluid=("pore", "crack"),
                 resample_um: float | None = None, run_dir=None, progress=None, **config) -> dict:
    """Absolute permeability and flow tortuosity of a label volume along ``axis``.

    Parameters
    ----------
    labels : ndarray of uint8, shape (nz, ny, nx)
        Label volume.
    legend : dict of int to str
        Phase of each label id.
    spacing : tuple of 3 float
        Voxel size (dz, dy, dx) in um.  Anisotropic voxels (e.g. PFIB-SEM 0.0152 x 0.0152 x 0.1)
        are resampled to cubic ones first (majority of the covered labels).
    axis : {"x", "y", "z"}
        Flow direction.
    fluid : sequence of str
        Phases that carry flow (default pore and crack); every other phase is solid, except the
        CBD when ``cbd_permeability_m2`` is given (a grey medium).
    resample_um : float, optional
        Cubic voxel size to resample to (the study: 0.1 um); default the largest voxel size when
        the voxels are anisotropic, else none.
    run_dir : str or Path, optional
        Run folder (history, checkpoints, fields.pvd): written as the run goes, resumed when it
        holds an unfinished run with the same parameters.
    progress : callable, optional
        ``progress(fraction, message)``.
    **config
        Fields of :class:`FlowConfig` (``tau``, ``max_steps``, ``dtype``, ``backend``, ...).

    Returns
    -------
    dict
        ``permeability_m2``, ``permeability_darcy``, ``flow_tortuosity``, ``porosity`` (fluid
        fraction), ``percolating_fraction`` (of the fluid), ``steps``, ``converged``, ``reason``,
        ``mflups``, ``wall_s``, ``voxel_um``, ``history`` (step, k), and ``velocity`` (m/s,
        [z, y, x, 3]) and ``pressure`` (Pa) on the solved grid.

    Examples
    --------
    A straight square channel 4 voxels wide in a 6 x 6 cross-section, along z:

    >>> import numpy as np
    >>> lab = np.full((4, 6, 6), 2, np.uint8); lab[:, 1:5, 1:5] = 0
    >>> r = permeability(lab, {0: "pore", 2: "am"}, (1.0, 1.0, 1.0), "z", max_steps=4000)
    >>> round(r["flow_tortuosity"], 6), r["converged"]
    (1.0, True)
    """
    from electrovox.solvers.transport.flow_tortuosity import flow_tortuosity

    t0 = time.perf_counter()
    if axis not in AXES:
        raise BadInput("axis", f"{axis!r} is not x, y or z", "give axis='x', 'y' or 'z'")
    labels, sp = cubic_labels(labels, spacing, resample_um)
    names = {i: n for i, n in legend.items()}
    unknown = [f for f in fluid if f not in names.values()]
    if len(unknown) == len(tuple(fluid)):
        raise BadInput("fluid", f"none of {', '.join(fluid)} is in the legend {names}",
                       "give the phases that carry flow, e.g. fluid=('pore', 'crack')")
    ids = [i for i, n in names.items() if n in fluid]
    is_fluid = np.isin(labels, ids)
    grey = None
    if config.get("cbd_permeability_m2") is not None:
        cbd = [i for i, n in names.items() if n == "cbd"]
        grey = np.isin(labels, cbd)
        is_fluid = is_fluid | grey
    porosity = float(np.isin(labels, ids).mean())
    # a periodic image's clusters may connect through the wrap: all its fluid is kept
    flowing = is_fluid if config.get("boundary") == "periodic" else percolating_fluid(is_fluid, axis)
    perc_frac = float(flowing.sum() / max(1, is_fluid.sum()))
    config.setdefault("voxel_m", sp[0] * 1e-6)
    cfg = flow_config_from(axis=axis, **config)
    base = {"axis": axis, "porosity": porosity, "percolating_fraction": perc_frac, "voxel_um": sp[0],
            "fluid": list(fluid), "cbd_permeability_m2": cfg.cbd_permeability_m2}
    if not flowing.any():
        zero = np.zeros(labels.shape + (3,), np.float32)
        return {**base, "permeability_m2": 0.0, "permeability_darcy": 0.0, "flow_tortuosity": None,
                "steps": 0, "converged": True, "reason": f"no fluid path along {axis}: k = 0", "mflups": None,
                "wall_s": time.perf_counter() - t0, "history": {"step": [], "permeability_m2": []},
                "velocity": zero, "speed": zero[..., 0], "pressure": zero[..., 0]}
    solver = FlowSolver(flowing, cfg, grey=None if grey is None else grey & flowing)
    every = 10 * cfg.observe_every if run_dir else None  # checkpoints and 4D frames in a run folder
    res = solver.run(run_dir, max_steps=cfg.max_steps, observe_every=cfg.observe_every,
                     checkpoint_every=every, frame_every=every, progress=progress)
    k = float(res.history["permeability_m2"][-1]) if len(res.history["permeability_m2"]) else 0.0
    vel = res.fields["velocity"]
    try:
        tau = flow_tortuosity(vel, axis=axis, mask=flowing & np.any(vel != 0, axis=-1))["flow_tortuosity"]
    except BadInput:
        tau = None
    wall = time.perf_counter() - t0
    mflups = solver.mflups
    return {**base, "permeability_m2": k, "permeability_darcy": k / DARCY_M2, "flow_tortuosity": tau,
            "steps": int(res.steps), "converged": bool(res.converged), "reason": res.reason, "mflups": mflups,
            "wall_s": wall, "history": {"step": res.history["step"].tolist(),
                                        "permeability_m2": res.history["permeability_m2"].tolist()},
            "velocity": vel, "speed": res.fields["speed"], "pressure": res.fields["pressure"],
            "run_dir": str(run_dir) if run_dir else None}
