"""The galvanostatic discharge (lithiation) of the half cell on the voxel grid, as a run.

:class:`DischargeSolver` drives :class:`~electrovox.solvers.echem.cell.CellModel` through a
C-rate lithiation from the fully delithiated state to the voltage cut-off in the run framework
(:class:`~electrovox.solvers.run.TimeSolver`): one *run step* is one output interval (the output
times are fixed up front, ``output_interval_s`` apart), inside which the implicit time steps adapt
(the largest stoichiometry change of a voxel per step is held near ``dsto_target``, the voltage
change near 10 mV; a step that fails to converge is halved).  The last interval ends exactly at the
cut-off (bisection on the step to 0.2 mV).

:func:`discharge` is the entry point of the CLI, the VTK algorithm and the benchmarks: labels in,
discharge curve, profiles and fields out, written into a run folder when one is given
(``discharge.csv``, ``profiles.csv``, ``fields.pvd``, ``params.json`` as BPX, ``run.json``).

Capacity basis: the applied current is ``c_rate x capacity_basis_mAh_g`` (1C = 280 mAh/g, the
study's) times the active mass = active-material voxels x voxel volume x NMC density; the
specific capacity is the charge passed over that mass.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from electrovox.errors import BadInput
from electrovox.memory import release_freed_memory, require
from electrovox.phases import DEFAULT_LEGEND
from electrovox.solvers.echem.cell import DSTO_TAIL_SHARE, CellModel, StepFailed
from electrovox.solvers.echem.mesh import CLOGGING, build_mesh
from electrovox.solvers.echem.parameters import CEI_MODES, EchemParameters, default_parameters
from electrovox.solvers.run import TimeSolver

#: One debug line per implicit step (time, step, what limited the next one); benchmarks/echem.py
#: shows them with ``--log``.
LOG = logging.getLogger("electrovox.echem")

__all__ = ["DischargeConfig", "DischargeSolver", "discharge", "cei_thickness", "surface_area_factor",
           "output_schedule", "substep_length", "write_tables"]


@dataclass
class DischargeConfig:
    """Settings of a discharge run (SI units).

    Attributes
    ----------
    spacing_m : tuple of 3 float
        Voxel size (dz, dy, dx), m.
    clogging : str
        ``none``, ``cbd`` or ``full`` (:data:`~electrovox.solvers.echem.mesh.CLOGGING`).
    area_factor : float
        True active-material surface area / counted voxel faces.
    output_interval_s : float
        Time between history rows (fixed output times), s.
    frame_every : int
        Output intervals between 4D frames.
    dsto_target : float
        Largest stoichiometry change of a voxel per time step the step control aims at.
    dsto_tail_share : float
        The stoichiometry limit leaves out the fastest-filling voxels that hold this share of
        the step's lithium (specks of a voxel or two; 0: every voxel counts;
        :data:`~electrovox.solvers.echem.cell.DSTO_TAIL_SHARE`).
    predictor : bool
        Seed each step (after the first) by extrapolating the last step's rates instead of a
        first pass (:meth:`~electrovox.solvers.echem.cell.CellModel.step`).
    dv_target_V : float
        Largest voltage change per time step the step control aims at, V.
    coupling_target : float
        Share of the current moving between faces from the step's first pass to its second
        (:class:`~electrovox.solvers.echem.cell.StepInfo` ``coupling``; with the predictor, from
        the last step's currents to this step's) the control aims at.
        0.2: on the sample at 0.75 um (C/2 to 3.5 V) the discharge curve at 0.2 (115 steps) and at
        0.1 (144) both lie within 0.23 mV of the curve at 0.05 (264 steps; RMS 0.11 and 0.09 mV),
        the capacities within 0.04 % (benchmarks/RESULTS.md).
    dt_initial_s : float
        First time step, s.
    dt_min_s : float
        Smallest time step before the run is declared diverged, s.
    cutoff_tol_V : float
        The last step lands this close above/below the cut-off, V.
    seed : int
        Seed of the CEI thickness field.
    separator_layers : int
        Layers of the homogenised separator (0: about 5 um each).
    params : dict
        Every parameter (``"group.field": value``), as ``electrovox params show`` lists them.
    labels_sha256 : str
        Digest of the label volume (a resume must see the same labels).
    """

    spacing_m: tuple = (5e-7, 5e-7, 5e-7)
    clogging: str = "none"
    area_factor: float = 1.0
    output_interval_s: float = 72.0
    frame_every: int = 10
    dsto_target: float = 0.02
    dsto_tail_share: float = DSTO_TAIL_SHARE
    predictor: bool = True
    dv_target_V: float = 0.01
    coupling_target: float = 0.2
    dt_initial_s: float = 1.0
    dt_min_s: float = 1e-3
    cutoff_tol_V: float = 2e-4
    seed: int = 0
    separator_layers: int = 0
    params: dict = field(default_factory=dict)
    labels_sha256: str = ""


#: What set the length of the next time step (DischargeSolver.limits): the stoichiometry change,
#: the voltage change, the passes' coupling, a hard Newton step, the growth cap of x2 (none of
#: them), or the output interval (the step as long as an interval); "failed" counts the attempts
#: that did not converge and were halved.
STEP_LIMITS = ("stoichiometry", "voltage", "coupling", "newton", "growth", "interval", "failed")


def substep_length(rest_s: float, dt_s: float, stretch: float = 1.15) -> float:
    """The next time step inside an output interval, s: the rest of the interval in equal steps.

    Taking the controller's ``dt_s`` and then whatever is left leaves a sliver step (34 + 34 + 4 s
    of a 72 s interval), a full step's cost for little time.  The rest is split instead into the
    fewest equal steps no longer than ``stretch x dt_s``: the 15 % lets a controller whose 0.9
    safety factor proposes 65 s take a whole 72 s interval.

    Parameters
    ----------
    rest_s : float
        Time left to the next output time, s (> 0).
    dt_s : float
        The step the controller proposes, s (> 0).
    stretch : float
        How much longer than ``dt_s`` a step may be.

    Examples
    --------
    >>> substep_length(72.0, 34.0), substep_length(72.0, 65.0), substep_length(72.0, 100.0)
    (36.0, 72.0, 72.0)
    """
    return rest_s / max(1, math.ceil(rest_s / (stretch * dt_s) - 1e-9))


def cei_thickness(params: EchemParameters, z_m, electrode_thickness_m: float, seed: int = 0) -> np.ndarray:
    """CEI film thickness of every reaction face, m (the study's scenarios).

    Parameters
    ----------
    params : EchemParameters
        ``params.cei`` gives the mode and the values.
    z_m : ndarray
        Height of each face above the current collector, m.
    electrode_thickness_m : float
        Electrode thickness (the separator side), m.
    seed : int
        Seed of the Gaussian draws (mode ``gradient``).

    Returns
    -------
    ndarray
        Thickness per face: 0 (``none``); the mean of the collector and separator values
        (``uniform``); Gaussian about a mean rising linearly along z from the collector value to
        the separator value, standard deviation ``thickness_sigma_m``, clipped to
        [``thickness_min_m``, ``thickness_max_m``] (``gradient``); times ``thickness_scale``.

    Examples
    --------
    >>> p = default_parameters().with_values({"cei.thickness_mode": "uniform"})
    >>> float(cei_thickness(p, np.array([0.0]), 70e-6)[0] * 1e9)
    12.5
    """
    c = params.cei
    z = np.asarray(z_m, dtype=float)
    if c.thickness_mode == "none":
        return np.zeros(z.shape)
    if c.thickness_mode == "uniform":
        return np.full(z.shape, 0.5 * (c.thickness_collector_m + c.thickness_separator_m) * c.thickness_scale)
    mean = c.thickness_collector_m + (c.thickness_separator_m - c.thickness_collector_m) * np.clip(
        z / electrode_thickness_m, 0.0, 1.0)
    draw = np.random.default_rng(seed).standard_normal(z.shape)
    return np.clip(mean + c.thickness_sigma_m * draw, c.thickness_min_m, c.thickness_max_m) * c.thickness_scale


def surface_area_factor(am_mask: np.ndarray, spacing_um) -> float:
    """True / counted surface area of the active material.

    The true area is the project's surface estimator
    (:func:`electrovox.filters.quantify.surfaces.surface_area`, Crofton: within 2 % on spheres and
    planes at any orientation); counted voxel faces overestimate a smooth surface by about 1.5.
    Both leave out the image box's faces.

    Returns
    -------
    float
        The factor applied to every reaction face (1 when the mask has no surface).
    """
    from electrovox.filters.quantify.surfaces import face_count_area, surface_area
    faces = face_count_area(am_mask, spacing_um)
    return float(surface_area(am_mask, spacing_um) / faces) if faces > 0 else 1.0


class DischargeSolver(TimeSolver):
    """A C-rate lithiation to the cut-off (see the module docstring).

    Parameters
    ----------
    labels : ndarray of uint8, shape (nz, ny, nx)
        The electrode, z = 0 at the current collector.
    legend : dict of int to str
        Label id -> phase.
    config : DischargeConfig
        Run settings.
    params : EchemParameters
        The parameter set (``config.params`` is its flat copy for ``run.json``).
    """

    name = "discharge"
    params_file = "run.json"

    def __init__(self, labels, legend, config: DischargeConfig, params: EchemParameters):
        super().__init__(config)
        self.p = params
        self.mesh = mesh = build_mesh(labels, legend, config.spacing_m, params, clogging=config.clogging,
                                      area_factor=config.area_factor,
                                      separator_layers=config.separator_layers or None)
        vox = float(np.prod(config.spacing_m))
        self.mass_g = mesh.n_am * vox * params.positive.density_kg_m3 * 1e3
        self.current_A = params.cell.c_rate * params.positive.capacity_basis_mAh_g * 1e-3 * self.mass_g
        thick = cei_thickness(params, mesh.r_z_m, mesh.nz_electrode * config.spacing_m[0], config.seed)
        self.cei_m = thick
        self.model = CellModel(mesh, params, self.current_A, thick / params.cei.conductivity_S_m)
        self.model.dsto_tail_share = config.dsto_tail_share
        self.model.predictor = config.predictor
        self.model.check_input()
        self.frame_spacing_um = tuple(s * 1e6 for s in config.spacing_m)
        # the frames' phase array, ElectroVox's default ids whatever the input's legend (255: a label
        # the legend does not name): the 4D layout colours its slice by it without re-reading labels
        default_id = {name: i for i, name in DEFAULT_LEGEND.items()}
        self._phase = np.full(np.shape(labels), 255, np.uint8)
        for k, v in legend.items():
            self._phase[np.asarray(labels) == k] = default_id.get(v, 255)
        self.dt = config.dt_initial_s
        self.counters = np.zeros(4)        # substeps, newton, linear iterations, cut-off reached (0/1)
        # which limit set each next step (STEP_LIMITS order), and the failed attempts: the run's
        # step count explained (benchmarks/echem.py reports it)
        self.limits = np.zeros(len(STEP_LIMITS))
        # voxels the predictor damped, summed over the steps (CellModel._prepare_damping)
        self.damped = np.zeros(1)
        self.interval = {"charge": 0.0, "lithium": 0.0, "salt": 0.0}
        self.profiles: list = []
        nz = mesh.nz_electrode
        self._layer_am = np.bincount(np.nonzero(mesh.am_mask)[0], minlength=nz)
        ez = np.nonzero(mesh.electrolyte_index >= 0)[0].astype(np.int32)     # a copy: nonzero's z column only
        self._e_layer = ez
        self._e_weight = np.bincount(ez, weights=mesh.eps * mesh.cell_volume_e, minlength=mesh.shape[0])

    # -- run hooks ----------------------------------------------------------------------------------
    def advance(self, n: int) -> None:  # noqa: D102
        for k in range(n):
            if (self.step + k) % self.config.frame_every == 0:
                # the multigrid hierarchies are rebuilt from the first matrices after every
                # checkpoint (a checkpoint falls every frame_every intervals, with a run folder or
                # without), as a resumed run rebuilds them: the run resumes bit for bit
                self.model.reset_preconditioners()
            t_end = (self.step + k + 1) * self.config.output_interval_s
            self.interval = {"charge": 0.0, "lithium": 0.0, "salt": 0.0}
            while self.time < t_end * (1 - 1e-12) and not self.counters[3]:
                try:
                    self._substep(substep_length(t_end - self.time, self.dt))
                except StepFailed:
                    if self.counters[0] == 0:
                        raise
                    # no step of any length holds the current: the surfaces of the particles that
                    # still react are saturated (i0 -> 0 as x -> 1) and the voltage collapses;
                    # this is the end of the discharge, as the cut-off would be a moment later
                    self.counters[3] = 2.0

    def _attempt(self, dt):
        snap = {k: v.copy() for k, v in self.model.state().items()}
        try:
            return self.model.step(dt), snap
        except StepFailed as exc:
            LOG.debug("t %.1f s dt %.2f s failed: %s", self.time, dt, exc)
            self.model.load_state(snap)
            return None, snap

    def _substep(self, dt: float) -> None:
        cfg, model = self.config, self.model
        cutoff = self.p.cell.lower_cutoff_V
        v_old = model.voltage if self.counters[0] else math.inf
        while True:
            info, snap = self._attempt(dt)
            if info is None:
                self.limits[STEP_LIMITS.index("failed")] += 1
                dt *= 0.5
                if dt < cfg.dt_min_s:
                    raise StepFailed(f"the time step fell below {cfg.dt_min_s:g} s at t = {self.time:.1f} s")
                continue
            if info.voltage_V >= cutoff - cfg.cutoff_tol_V:
                break
            # crossed the cut-off: bisect the step until the voltage lands within tolerance
            lo, hi = 0.0, dt
            model.load_state(snap)
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                info, snap = self._attempt(mid)
                if info is None or info.voltage_V < cutoff - cfg.cutoff_tol_V:
                    hi = mid
                elif info.voltage_V > cutoff + cfg.cutoff_tol_V and hi - lo > 1e-3:
                    lo = mid
                else:
                    dt = mid
                    break
                model.load_state(snap)
            else:
                info, snap = self._attempt(lo) if lo > 0 else (None, snap)
                dt = lo
            self.counters[3] = 1.0
            break
        # the step's freed temporaries go back to the OS before the next step allocates its own
        release_freed_memory()
        if info is not None:
            self.time += dt
            self.counters[:3] += (1, info.newton, info.linear)
            self.damped += info.damped
            for key, v in (("charge", info.charge_residual), ("lithium", info.lithium_residual),
                           ("salt", info.salt_residual)):
                self.interval[key] = max(self.interval[key], v)
            if info.voltage_V <= cutoff + cfg.cutoff_tol_V and np.isfinite(v_old):
                self.counters[3] = 1.0
            dsto = info.bulk_dsto if np.isfinite(info.bulk_dsto) else info.max_dsto
            grows = (cfg.dsto_target / max(dsto, 1e-12),
                     cfg.dv_target_V / max(abs(info.voltage_V - v_old), 1e-12) if np.isfinite(v_old) else 2.0,
                     # the passes' disagreement is the splitting's error estimate: keep it near
                     # coupling_target
                     cfg.coupling_target / max(info.coupling, 1e-12),
                     0.7 if info.newton > 6 * info.passes else math.inf)   # hard steps: Newton struggles
            grow = min(grows)
            factor = min(2.0, max(0.5, 0.9 * grow))
            if dt * factor >= cfg.output_interval_s:
                limit = "interval"
            else:
                limit = STEP_LIMITS[int(np.argmin(grows))] if factor < 2.0 else "growth"
            self.limits[STEP_LIMITS.index(limit)] += 1
            if LOG.isEnabledFor(logging.DEBUG):
                LOG.debug("t %.1f s dt %.2f s V %.4f: dsto %.4f (max %.4f), coupling %.3f, newton %d in %d "
                          "passes, linear %d, damped %d; next x%.2f (%s)", self.time, dt, info.voltage_V, dsto,
                          info.max_dsto, info.coupling, info.newton, info.passes, info.linear, info.damped, factor,
                          limit)
            new = float(np.clip(dt * factor, cfg.dt_min_s, cfg.output_interval_s))
            if dt < self.dt * (1 - 1e-9) and factor >= 1:
                # a step shortened to fit the interval may raise the step size, not lower it
                new = max(new, self.dt)
            self.dt = new

    def capacity_mAh_g(self) -> float:
        """Specific capacity passed so far, mAh/g of NMC811."""
        return self.current_A * self.time / 3.6 / self.mass_g

    def observe(self) -> dict:  # noqa: D102
        m = self.model
        sto = m.mean_sto()
        ocv = float(self.p.positive.ocp(sto))
        v = m.voltage
        mesh = self.mesh
        nz = mesh.nz_electrode
        lith = np.bincount(np.nonzero(mesh.am_mask)[0], weights=m.cs / m.cmax, minlength=nz)
        ce = np.bincount(self._e_layer, weights=m.ce * mesh.eps * mesh.cell_volume_e, minlength=mesh.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            lith = np.where(self._layer_am > 0, lith / np.maximum(self._layer_am, 1), np.nan)
            ce = np.where(self._e_weight > 0, ce / np.where(self._e_weight > 0, self._e_weight, 1), np.nan)
        self.profiles.append(np.concatenate([[self.time], lith, ce[:nz]]))
        return {"voltage_V": v, "capacity_mAh_g": self.capacity_mAh_g(), "current_A": self.current_A,
                "mean_lithiation": sto, "ocv_V": ocv, "overpotential_mV": (ocv - v) * 1e3,
                "ce_min_mol_m3": float(m.ce.min()), "ce_max_mol_m3": float(m.ce.max()),
                "charge_residual": self.interval["charge"], "lithium_residual": self.interval["lithium"],
                "salt_residual": self.interval["salt"], "substeps": float(self.counters[0]),
                "newton_iterations": float(self.counters[1]), "linear_iterations": float(self.counters[2]),
                "dt_s": self.dt}

    def frame(self) -> dict:  # noqa: D102
        m, mesh = self.model, self.mesh
        nz = mesh.nz_electrode
        grid = (nz,) + tuple(mesh.shape[1:])
        lith = np.full(grid, np.nan, np.float32)
        lith[mesh.am_mask] = m.cs / m.cmax
        j = np.full(grid, np.nan, np.float32)
        j[mesh.am_mask] = m.reaction_current_density()
        ns = mesh.n_solid
        ei = mesh.electrolyte_index[:nz]
        si = mesh.solid_index[:nz]
        ce = np.where(ei >= 0, m.ce[np.maximum(ei, 0)], np.nan).astype(np.float32)
        phe = np.where(ei >= 0, m.phi[ns + np.maximum(ei, 0)], np.nan).astype(np.float32)
        phs = np.where(si >= 0, m.phi[np.maximum(si, 0)], np.nan).astype(np.float32)
        return {"lithiation": lith, "electrolyte_concentration": ce, "solid_potential": phs,
                "electrolyte_potential": phe, "reaction_current_density": j, "phase": self._phase[:nz]}

    def state(self) -> dict:  # noqa: D102
        st = dict(self.model.state())
        st["dt"] = np.array([self.dt])
        st["counters"] = self.counters
        st["step_limits"] = self.limits
        st["damped_voxels"] = self.damped
        st["profiles"] = np.array(self.profiles) if self.profiles else np.zeros((0, 1))
        return st

    def load_state(self, state: dict) -> None:  # noqa: D102
        self.model.load_state(state)
        self.dt = float(state["dt"][0])
        self.counters = np.array(state["counters"], dtype=float)
        # checkpoints written before the limits were counted resume with the count at zero
        self.limits = np.array(state.get("step_limits", np.zeros(len(STEP_LIMITS))), dtype=float)
        self.damped = np.array(state.get("damped_voxels", np.zeros(1)), dtype=float)
        prof = np.array(state["profiles"])
        self.profiles = [row for row in prof] if prof.shape[1] > 1 else []
        self.model.reset_preconditioners()

    def on_folder(self, folder) -> None:
        """Write the parameter set as BPX (``params.json``) beside ``run.json``."""
        from electrovox.solvers.echem.bpx import write_bpx
        write_bpx(folder.path / "params.json", self.p, force=True)

    def finished(self, history: dict) -> tuple | None:  # noqa: D102
        if self.counters[3] == 2:
            return True, ("the voltage collapsed at the cut-off's approach: the reacting surfaces are saturated "
                          f"(x -> 1) at {self.model.voltage:.4f} V"), True
        if self.counters[3]:
            return True, f"cut-off {self.p.cell.lower_cutoff_V:g} V reached", True
        return None

    def check(self) -> str | None:  # noqa: D102
        worst = max(self.interval.values())
        if worst > 1e-6:
            return f"conservation violated (relative residual {worst:.2e})"
        # the profiles hold NaN by design (layers without active material or electrolyte)
        for name, a in self.model.state().items():
            if not np.all(np.isfinite(a)):
                return f"NaN or inf in '{name}' at step {self.step}"
        return None


def output_schedule(c_rate: float, output_rows: int, frames: int) -> tuple[float, int, list[float]]:
    """The fixed output times of a run: (interval s, rows per frame, the frames' times in s).

    ``output_rows`` history rows span the nominal duration 1 / ``c_rate`` h; a frame every
    ``round(output_rows / frames)`` rows, from t = 0 (the run may end earlier, at the cut-off).

    Examples
    --------
    >>> output_schedule(0.5, 100, 10)[:2]
    (72.0, 10)
    """
    interval = 3600.0 / c_rate / output_rows
    every = max(1, int(round(output_rows / max(frames, 1))))
    return interval, every, [k * every * interval for k in range(output_rows // every + 1)]


def write_tables(run_dir, r: dict) -> None:
    """Write ``discharge.csv`` (the curve and per-interval diagnostics) and ``profiles.csv`` into ``run_dir``.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    r : dict
        What :func:`discharge` returned.
    """
    from pathlib import Path

    from electrovox.io.atomic import write_csv

    def write(path, header, rows):
        write_csv(path, header, ([repr(float(v)) for v in row] for row in rows))

    h, pr = r["history"], r["profiles"]
    write(Path(run_dir) / "discharge.csv", CURVE_COLUMNS, np.column_stack([h[c] for c in CURVE_COLUMNS]))
    rows = [(t, z, li, ce) for k, t in enumerate(pr["time_s"])
            for z, li, ce in zip(pr["z_um"], pr["lithiation"][k], pr["electrolyte_mol_m3"][k], strict=True)]
    write(Path(run_dir) / "profiles.csv", ("time_s", "z_um", "lithiation", "electrolyte_mol_m3"),
          np.array(rows, dtype=float).reshape(-1, 4))


#: discharge.csv: the CLI contract's three columns first, then the diagnostics
CURVE_COLUMNS = ("time_s", "voltage_V", "capacity_mAh_g", "mean_lithiation", "ocv_V", "overpotential_mV",
                 "ce_min_mol_m3", "ce_max_mol_m3", "charge_residual", "lithium_residual", "salt_residual",
                 "substeps", "newton_iterations", "linear_iterations")


def _flat(params: EchemParameters) -> dict:
    return {name: value for name, value, _ in params.fields()}


def discharge(labels, legend: dict, spacing_um, *, params: EchemParameters | None = None,
              c_rate: float | None = None, cutoff_v: float | None = None, cei: str | None = None,
              cei_scale: float | None = None, clogging: str = "none", resample_um: float | None = None,
              run_dir=None, progress=None, area_factor: float | None = None, output_rows: int = 100,
              frames: int = 10, max_intervals: int | None = None, **config) -> dict:
    """Lithiate the electrode at a C-rate to the cut-off and return the discharge curve and fields.

    Parameters
    ----------
    labels : ndarray of uint8, shape (nz, ny, nx)
        The electrode, z = 0 at the current collector, the separator above.
    legend : dict of int to str
        Label id -> phase (``pore``, ``am``, ``cbd``, ``crack``, ...).
    spacing_um : tuple of 3 float or float
        Voxel size (dz, dy, dx), um.
    params : EchemParameters, optional
        The parameter set (default :func:`default_parameters`).
    c_rate, cutoff_v : float, optional
        Override ``cell.c_rate`` (1/h) and ``cell.lower_cutoff_V`` (V).
    cei : {"none", "uniform", "gradient"}, optional
        Override ``cei.thickness_mode``.
    cei_scale : float, optional
        Override ``cei.thickness_scale`` (2: the study's thick CEI).
    clogging : {"none", "cbd", "full"}
        The study's clogging scenarios.
    resample_um : float, optional
        Resample the labels to cubic voxels of this size first (majority of the covered labels).
    run_dir : str or Path, optional
        Run folder: written as the run goes, resumed when it holds an unfinished run.
    progress : callable, optional
        ``progress(fraction, message)``.
    area_factor : float, optional
        True / counted surface area (default: measured, :func:`surface_area_factor`).
    output_rows : int
        History rows over the nominal duration 1 / c_rate hours (the output interval).
    frames : int
        4D frames over the nominal duration.
    max_intervals : int, optional
        Stop after this many output intervals (default: 1.5 x ``output_rows``, past any cut-off).
    **config
        Fields of :class:`DischargeConfig` (``dsto_target``, ``seed``, ...).

    Returns
    -------
    dict
        ``capacity_mAh_g`` (at the cut-off, or at the end), ``mean_overpotential_mV`` (time
        average of OCV(mean lithiation) - V), ``cutoff_reached``, ``steps`` (implicit time
        steps), ``newton_iterations``, ``linear_iterations``, ``step_limits`` (which limit set
        each next step), ``damped_voxels`` (voxel predictions the predictor damped, summed over
        the steps), ``wall_s``, ``current_A``,
        ``active_mass_g``, ``area_factor``, ``voxels``, ``history`` (columns of arrays),
        ``profiles`` (``time_s``, ``z_um``, ``lithiation`` [t, z], ``electrolyte_mol_m3`` [t, z]),
        ``fields`` (final frame), ``reason``, ``converged``, ``run_dir``.

    Examples
    --------
    Lamellae of NMC 3 um thick between 1 um pores, C/2 to 3.5 V:

    >>> lab = np.zeros((10, 2, 8), np.uint8); lab[:, :, :3] = 2; lab[:, :, 5:] = 2
    >>> r = discharge(lab, {0: "pore", 2: "am"}, 1.0, output_rows=20, frames=2)
    >>> r["cutoff_reached"], 150 < r["capacity_mAh_g"] < 190
    (True, True)
    """
    t0 = time.perf_counter()
    p = (params or default_parameters())
    changes = {}
    if c_rate is not None:
        changes["cell.c_rate"] = float(c_rate)
    if cutoff_v is not None:
        changes["cell.lower_cutoff_V"] = float(cutoff_v)
    if cei is not None:
        if cei not in CEI_MODES:
            raise BadInput("cei", f"is {cei!r}", "use one of " + ", ".join(CEI_MODES))
        changes["cei.thickness_mode"] = cei
    if cei_scale is not None:
        changes["cei.thickness_scale"] = float(cei_scale)
    p = p.with_values(changes).check() if changes else p.check()
    if clogging not in CLOGGING:
        raise BadInput("clogging", f"is {clogging!r}", "use one of " + ", ".join(CLOGGING))
    labels = np.asarray(labels)
    if labels.ndim != 3:
        raise BadInput("labels", f"have {labels.ndim} dimensions, not 3", "give a [z, y, x] label volume")
    sp = tuple(float(s) for s in (spacing_um if np.ndim(spacing_um) else (spacing_um,) * 3))
    if resample_um is not None:
        from electrovox.filters.image.resample import resample_labels
        labels, sp, _ = resample_labels(labels, sp, float(resample_um))
    # ~2 kB per voxel at the peak: matrices, multigrid hierarchy, CG vectors and the state
    require(2.0e3 * labels.size, "labels", f"a discharge model of {labels.shape} voxels",
            "crop the volume or use --resample-um with a larger voxel")
    am = np.isin(labels, [k for k, v in legend.items() if v == "am"])
    factor = surface_area_factor(am, sp) if area_factor is None else float(area_factor)
    interval, frame_every, _ = output_schedule(p.cell.c_rate, output_rows, frames)
    import hashlib
    digest = hashlib.sha256(np.ascontiguousarray(labels).tobytes()
                            + repr((labels.shape, sorted(legend.items()))).encode()).hexdigest()
    cfg = DischargeConfig(spacing_m=tuple(s * 1e-6 for s in sp), clogging=clogging, area_factor=factor,
                          output_interval_s=interval, frame_every=frame_every, params=_flat(p),
                          labels_sha256=digest, **config)
    solver = DischargeSolver(labels, legend, cfg, p)

    def on_progress(frac, msg):
        if progress is not None:
            done = solver.capacity_mAh_g() / max(p.positive.capacity_per_sto_mAh_g
                                                 * (p.positive.sto_max - p.positive.sto_min), 1e-9)
            progress(min(0.99, done), f"discharge: {solver.capacity_mAh_g():.1f} mAh/g, "
                                      f"{solver.model.voltage:.3f} V")

    steps = max_intervals or int(math.ceil(1.5 * output_rows))
    every = frame_every if run_dir else None
    res = solver.run(run_dir, max_steps=steps, observe_every=1, checkpoint_every=every, frame_every=every,
                     progress=on_progress)
    h = res.history
    t = np.asarray(h["time_s"], dtype=float)
    eta = np.asarray(h["overpotential_mV"], dtype=float)
    # time average by the trapezoidal rule (np.trapz is gone from numpy 2.4, trapezoid absent from 1.24)
    area = float(np.sum(0.5 * (eta[1:] + eta[:-1]) * np.diff(t)))
    mean_eta = area / (t[-1] - t[0]) if t.size > 1 and t[-1] > t[0] else float(eta[-1])
    prof = np.array(solver.profiles)
    nz = solver.mesh.nz_electrode
    out = {
        "capacity_mAh_g": float(h["capacity_mAh_g"][-1]), "mean_overpotential_mV": mean_eta,
        "cutoff_reached": bool(solver.counters[3]), "steps": int(solver.counters[0]),
        "newton_iterations": int(solver.counters[1]), "linear_iterations": int(solver.counters[2]),
        "step_limits": {k: int(v) for k, v in zip(STEP_LIMITS, solver.limits, strict=True)},
        "damped_voxels": int(solver.damped[0]),
        "wall_s": time.perf_counter() - t0, "current_A": solver.current_A, "active_mass_g": solver.mass_g,
        "area_factor": factor, "voxels": int(labels.size),
        "unknowns": int(solver.mesh.n_solid + solver.mesh.n_electrolyte), "voxel_um": list(sp), "clogging": clogging,
        "cei": p.cei.thickness_mode, "cei_scale": p.cei.thickness_scale, "c_rate": p.cell.c_rate,
        "cutoff_V": p.cell.lower_cutoff_V,
        "history": {k: np.asarray(v) for k, v in h.items()},
        "profiles": {"time_s": prof[:, 0] if prof.size else np.zeros(0),
                     "z_um": solver.mesh.z_centres_m[:nz] * 1e6,
                     "lithiation": prof[:, 1:1 + nz] if prof.size else np.zeros((0, nz)),
                     "electrolyte_mol_m3": prof[:, 1 + nz:] if prof.size else np.zeros((0, nz))},
        "fields": res.fields, "reason": res.reason, "converged": bool(res.converged),
        "run_dir": str(run_dir) if run_dir else None, "params": p,
    }
    if progress is not None:
        progress(1.0, "discharge: done")
    return out
