"""Electrolyte impregnation of an electrode's pores over time (two-phase lattice Boltzmann).

The set-up (lattice units inside, SI outside):

- **domain**: the label volume (z = 0 at the current collector) with the pores and cracks as
  fluid and every other phase solid (the CBD's sub-voxel micro-pores are not resolved).  Above
  the electrode (z = top, the separator side) ``inlet_layers`` free layers of electrolyte, the
  last held as the reservoir that feeds it.  Below, with ``outlet="open"`` (the default)
  ``outlet_layers`` free layers of air, the last held as the outlet where the air leaves; with
  ``outlet="closed"`` one solid layer (the current collector foil, its own contact angle), so the
  air can only leave counter-current through the separator face or stays trapped.  The lateral
  faces are closed by one solid layer of neutral wetting (90 degrees): a sub-volume cut from a
  larger electrode neither sucks nor repels at its cut faces, and nothing wraps around.
- **physics**: :class:`~electrovox.solvers.flow.twophase.ColourGradient`, matched densities
  (Bond ~ 4e-7, Reynolds ~ 2e-3 at the pore scale: ``shared/reference/solver-references.md``),
  the electrolyte ``viscosity_ratio`` times more viscous than the air, a contact angle per solid
  phase, filling by capillarity alone (both reservoirs at the same pressure).
- **time**: the run is in the viscous-capillary regime, where the only time scale of a pore
  network of thickness ``L`` and hydraulic radius ``r_h`` (twice pore volume over pore surface)
  is ``T = mu_e L^2 / (sigma r_h)`` (Washburn: a tube of radius r fills a length L in
  ``2 T / cos(theta)``).  The dimensionless time is ``t* = t / T``; the same ``t*`` in the lattice
  (``T_lu = nu_e L^2 / (sigma_lu r_h)``, lengths in nodes) and in SI gives one lattice step
  ``dt = (sigma_lu / nu_e,lu) (mu_e / sigma) dx`` seconds, with the lattice tension
  ``sigma_lu = 2 A / 9`` (:func:`lattice_tension`: checked by Laplace's law and by the Washburn
  filling of a slit in seconds).
- **Darcy estimate**: a porous layer of thickness L, porosity eps, permeability k filled by the
  capillary pressure ``Pc = 2 sigma cos(theta) / r_h``: ``t = mu_e eps L^2 / (2 k Pc)``
  (Washburn's law in Darcy form).  ``k`` comes from the project's single-phase solver on the same
  grid (:func:`~electrovox.solvers.flow.permeability.permeability`), ``cos(theta)`` is the mean
  over the pore surface of each solid phase's cosine (weighted by its share of the interface).
- **stopping**: the saturation reaches ``full_saturation`` (0.999), or it changes less than
  ``steady_tol`` over the last quarter of the run (at least ``5 observe_every`` steps): the air
  left is trapped.

The electrolyte's and air's properties default to a carbonate electrolyte (mu 3 mPa s, sigma
35 mN/m) and air (1.8e-5 Pa s) (``shared/reference/solver-references.md``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.solvers.flow.permeability import config_from, cubic_labels
from electrovox.solvers.flow.twophase import ColourGradient
from electrovox.solvers.run.solver import TimeSolver

__all__ = ["ImpregnationConfig", "ImpregnationSolver", "impregnate", "lattice_tension", "lattice_viscosities",
           "air_clusters", "parse_contact_angles", "frame_times",
           "OUTLETS"]

OUTLETS = ("open", "closed")
#: the air's lattice viscosity up to a viscosity ratio of 60 (relaxation time 0.515)
NU_MIN = 0.005
#: the electrolyte's lattice viscosity at low ratios (relaxation time 0.65)
NU_E_MIN = 0.05
#: the electrolyte's largest lattice viscosity (relaxation time 1.4)
NU_E_MAX = 0.3
#: below this hydraulic radius in voxels the final saturation depends on the voxel size: one sphere
#: pack imaged at 2.6 / 4.4 / 6.3 / 8.2 voxels filled to 0.584 / 0.734 / 0.806 / 0.810, the change
#: per refinement 0.15, 0.07, 0.004 (``benchmarks/impregnation_convergence.py``, RESULTS.md
#: 2026-12-07); a second pack (seed 11) at 2.3 / 4.0 / 5.8 / 7.6 voxels: 0.535 / 0.640 / 0.709 /
#: 0.715.  Both hold to 0.006 from ~6 voxels and moved by >= 0.07 per step below; 8 keeps a margin
RESOLVED_RH_VOXELS = 8.0


@dataclass(frozen=True)
class ImpregnationConfig:
    """Parameters of an impregnation run (SI units unless marked lattice).

    Attributes
    ----------
    voxel_m : float
        Cubic voxel size dx in m.
    contact_angles_deg : dict of str to float
        Contact angle of each solid phase through the electrolyte, degrees: ``am`` (active
        material), ``cbd`` (carbon-binder), ``collector`` (the foil, with ``outlet="closed"``),
        ``other`` (any other solid phase).  Defaults 30 / 20 / 45 / 90: assumed values for a
        carbonate electrolyte that wets the oxide and the carbon (no measured source in the study).
    viscosity_ratio : float
        Electrolyte over air dynamic viscosity M (the real pair is ~170; the saturation curve
        converges in M, see ``docs/impregnation.md``).
    electrolyte_viscosity_Pa_s : float
        Electrolyte dynamic viscosity (3e-3 Pa s).
    surface_tension_N_m : float
        Electrolyte-air surface tension (0.035 N/m).
    amplitude : float
        Perturbation amplitude (lattice; 0.01): sets the lattice tension.
    outlet : str
        ``"open"``: the air leaves through the collector face (default: the study's set-up, and
        vacuum filling, where the gas offers no resistance); ``"closed"``: the foil is solid.
    overpressure_Pa : float
        The electrolyte reservoir's pressure above the air's, Pa (default 0: spontaneous
        imbibition, the capillary pressure alone; ~1e5 when one atmosphere pushes the electrolyte
        into an evacuated cell).  In the lattice it scales as the tension does, sigma / dx.
    inlet_layers, outlet_layers : int
        Free fluid layers above and below the electrode (the last one held as the reservoir).
    observe_every : int
        Steps between history rows.
    max_steps : int
        Step cap (a run that reaches it says ``converged: false``).
    lateral : str
        ``"walls"`` (default: one neutral solid layer around the faces parallel to z) or
        ``"periodic"`` (the image wraps: unit cells, periodic phantoms).
    nu_electrolyte_lu : float or None
        The electrolyte's lattice viscosity; None: :func:`lattice_viscosities` (the air's is this
        over ``viscosity_ratio``).  Results in dimensionless time do not depend on it (tested).
    full_saturation : float
        Saturation at which the pores count as filled (stop, converged).
    steady_tol : float
        Saturation change over the last quarter of the run below which the run stops (the air
        left is trapped).
    """

    voxel_m: float = 1e-6
    contact_angles_deg: dict = dataclasses.field(default_factory=lambda: {"am": 30.0, "cbd": 20.0,
                                                                          "collector": 45.0, "other": 90.0})
    viscosity_ratio: float = 20.0
    electrolyte_viscosity_Pa_s: float = 3e-3
    surface_tension_N_m: float = 0.035
    amplitude: float = 0.01
    outlet: str = "open"
    overpressure_Pa: float = 0.0
    inlet_layers: int = 3
    outlet_layers: int = 1
    observe_every: int = 200
    max_steps: int = 200_000
    lateral: str = "walls"
    nu_electrolyte_lu: float | None = None
    full_saturation: float = 0.999
    steady_tol: float = 1e-3

    def check(self) -> None:
        """Raise BadInput (naming the field) on values that cannot run."""
        if not self.voxel_m > 0:
            raise BadInput("voxel_m", f"{self.voxel_m} is not positive", "give the voxel size in m")
        for name, a in self.contact_angles_deg.items():
            if not 0.0 < float(a) < 180.0:
                raise BadInput("contact_angle", f"{name}={a} is not between 0 and 180 degrees",
                               "give angles through the electrolyte, e.g. am=30,cbd=20")
        if not 1.0 <= self.viscosity_ratio <= 200.0:
            raise BadInput("viscosity_ratio", f"{self.viscosity_ratio} is outside 1..200 (the air's relaxation "
                           "time would come too close to 1/2)",
                           "give the electrolyte / air viscosity ratio, e.g. 20 or 100")
        if self.outlet not in OUTLETS:
            raise BadInput("outlet", f"{self.outlet!r}", "give 'open' (--air-outlet) or 'closed' (--closed)")
        if self.lateral not in ("walls", "periodic"):
            raise BadInput("lateral", f"{self.lateral!r}", "give 'walls' or 'periodic'")
        if self.nu_electrolyte_lu is not None and not (self.nu_electrolyte_lu / self.viscosity_ratio >= 0.002
                                                       and self.nu_electrolyte_lu <= 2.0):
            raise BadInput("nu_electrolyte_lu", f"{self.nu_electrolyte_lu} gives an air relaxation time below "
                           "0.512 or an electrolyte one above 6.5 (unstable)", "leave it unset")
        if self.observe_every < 1 or self.max_steps < 1:
            raise BadInput("max_steps", "steps must be positive", "give --max-steps N with N >= 1")
        if not 0.0 < self.amplitude <= 0.05:
            raise BadInput("amplitude", f"{self.amplitude} is outside (0, 0.05]",
                           "give a perturbation amplitude such as 0.01")
        if not 0.0 <= self.overpressure_Pa <= 1e7:
            raise BadInput("overpressure_Pa", f"{self.overpressure_Pa / 1e3:g} kPa is outside 0..10 000 kPa",
                           "give the electrolyte's pressure above the air's in kPa, e.g. 100 (one atmosphere)")
        if self.electrolyte_viscosity_Pa_s <= 0 or self.surface_tension_N_m <= 0:
            raise BadInput("electrolyte", "viscosity and surface tension must be positive",
                           "give positive SI values")


def lattice_viscosities(viscosity_ratio: float) -> tuple[float, float]:
    """Lattice kinematic viscosities (electrolyte, air) for a viscosity ratio M.

    The electrolyte gets ``NU_MIN M`` between NU_E_MIN and NU_E_MAX, the air that over M: the
    lattice steps per physical second grow with the electrolyte's lattice viscosity, so it is kept
    as small as the air's stability allows (relaxation time 0.515 up to M = 60); above 0.3 (tau
    1.4) the halfway bounce-back's error grows again even with TRT (the Washburn slit read 22 %
    fast at tau = 2), so beyond M = 60 the air's relaxation time goes down instead (0.509 at
    M = 100, 0.505 at M = 170).

    Returns
    -------
    tuple of float
        ``(nu_e, nu_a)``, lattice units.
    """
    nu_e = min(NU_E_MAX, max(NU_E_MIN, NU_MIN * float(viscosity_ratio)))
    return nu_e, nu_e / float(viscosity_ratio)


def lattice_tension(amplitude: float) -> float:
    """The lattice surface tension of the colour-gradient model, ``2 A / 9``.

    The perturbation operator's tension by Chapman-Enskog with the amplitude divided by the local
    relaxation time.  Checked three ways: Laplace's law at equal viscosities (within 4 %,
    ``tests/test_flow_twophase.py``) and the Washburn filling of a slit in seconds at viscosity
    ratios 20, 50 and 100 (within 10 %, ``tests/test_flow_impregnation.py``).  A static Laplace
    drop at unequal viscosities reads up to 23 % lower (a pressure artefact of the air's
    relaxation time near 1/2), so the run does not measure it that way.

    Returns
    -------
    float
        sigma in lattice units.
    """
    return 2.0 * float(amplitude) / 9.0


def air_clusters(air: np.ndarray, spacing_um: float, outlet_face: bool) -> list[dict]:
    """The connected air pockets of the electrode's pores (18-connected, the lattice's links).

    Parameters
    ----------
    air : ndarray of bool, shape (nz, ny, nx)
        Pore voxels holding air (phase field < 0), z = 0 at the collector.
    spacing_um : float
        Voxel size, um.
    outlet_face : bool
        Whether air at z = 0 can still leave (open outlet).

    Returns
    -------
    list of dict
        One per pocket, largest first: ``volume_um3``, ``voxels``, ``z_um`` (centroid height above
        the collector), ``z_min_um``, ``z_max_um``, ``trapped`` (touches neither the separator face
        nor an open outlet face).
    """
    lab, n = ndimage.label(air, structure=ndimage.generate_binary_structure(3, 2))
    if n == 0:
        return []
    idx = np.arange(1, n + 1)
    size = ndimage.sum_labels(air, lab, idx)
    zc = ndimage.mean(np.broadcast_to(np.arange(air.shape[0])[:, None, None], air.shape), lab, idx)
    objs = ndimage.find_objects(lab)
    top = set(np.unique(lab[-1]).tolist())
    bottom = set(np.unique(lab[0]).tolist()) if outlet_face else set()
    out = []
    for i in np.argsort(-size, kind="stable"):
        sl = objs[i]
        out.append({"volume_um3": float(size[i]) * spacing_um ** 3, "voxels": int(size[i]),
                    "z_um": (float(zc[i]) + 0.5) * spacing_um, "z_min_um": sl[0].start * spacing_um,
                    "z_max_um": sl[0].stop * spacing_um, "trapped": bool(i + 1 not in top and i + 1 not in bottom)})
    return out


class ImpregnationSolver(TimeSolver):
    """Electrolyte displacing air in the pores of a label volume (a :class:`TimeSolver`).

    Parameters
    ----------
    labels : ndarray of int, shape (nz, ny, nx)
        Label volume, cubic voxels of ``config.voxel_m``, z = 0 at the current collector.
    legend : dict of int to str
        Phase of each label id (pore and crack are the fluid).
    config : ImpregnationConfig
    """

    name = "impregnation"

    def __init__(self, labels, legend: dict, config: ImpregnationConfig):
        config.check()
        super().__init__(config)
        labels = np.asarray(labels)
        self.sample_shape = labels.shape
        fluid_ids = [i for i, n in legend.items() if n in ("pore", "crack")]
        pore = np.isin(labels, fluid_ids)
        if not pore.any():
            raise BadInput("labels", "hold no pore or crack voxels", "give a label volume with pores")
        self.pore = pore
        ang = config.contact_angles_deg
        theta = np.full(labels.shape, float(ang.get("other", 90.0)))
        for i, n in legend.items():
            if n in ang:
                theta[labels == i] = float(ang[n])
        nzs, ny, nx = labels.shape
        ni, no = config.inlet_layers, config.outlet_layers
        closed = config.outlet == "closed"
        nbelow = 1 if closed else no
        # padded domain: [below | electrode | inlet] along z, one wall layer around laterally
        w = 1 if config.lateral == "walls" else 0
        nz = nbelow + nzs + ni
        fluid = np.zeros((nz, ny + 2 * w, nx + 2 * w), bool)
        ang_dom = np.full(fluid.shape, 90.0)
        inner = slice(w, w + ny), slice(w, w + nx)
        core = (slice(nbelow, nbelow + nzs), *inner)
        fluid[core] = pore
        ang_dom[core] = theta
        fluid[(slice(nbelow + nzs, None), *inner)] = True
        if closed:
            ang_dom[0] = float(ang.get("collector", 45.0))
        else:
            fluid[(slice(0, nbelow), *inner)] = True
        self.core = core
        self.nbelow = nbelow
        phi0 = np.full(fluid.shape, -1.0)
        phi0[nbelow + nzs:] = 1.0
        self.nu = (lattice_viscosities(config.viscosity_ratio) if config.nu_electrolyte_lu is None else
                   (config.nu_electrolyte_lu, config.nu_electrolyte_lu / config.viscosity_ratio))
        self.sigma_lu = lattice_tension(config.amplitude)
        # pressure scales as sigma / dx (the time scaling below keeps sigma, mu and dx)
        self.overpressure_lu = config.overpressure_Pa * (self.sigma_lu / config.surface_tension_N_m) * config.voxel_m
        if 3.0 * self.overpressure_lu > 0.05:
            raise BadInput("overpressure_Pa", f"{config.overpressure_Pa / 1e3:g} kPa is a lattice density step of "
                           f"{3 * self.overpressure_lu:.3g} at {config.voxel_m * 1e6:g} um voxels (the lattice is "
                           "weakly compressible: at most 0.05)", "give a lower overpressure or a finer --resample-um")
        self.model = ColourGradient(fluid, phi0, contact_deg=ang_dom, nu_electrolyte=self.nu[0],
                                    nu_air=self.nu[1], amplitude=config.amplitude, reservoirs=True,
                                    inlet_overpressure=self.overpressure_lu)
        # the electrode's pore nodes among the model's fluid nodes
        core_mask = np.zeros(fluid.shape, bool)
        core_mask[core] = pore
        self.core_nodes = core_mask[fluid]
        self.n_pore = int(pore.sum())
        # time scales (module docstring): hydraulic radius from the pores' true surface area
        from electrovox.filters.quantify.surfaces import surface_area
        dx_um = config.voxel_m * 1e6
        area = surface_area(pore, (dx_um,) * 3)
        self.hydraulic_radius_m = 2.0 * self.n_pore * dx_um ** 3 / area * 1e-6 if area > 0 else config.voxel_m
        self.thickness_m = nzs * config.voxel_m
        self.dt_s = (self.sigma_lu / self.nu[0]) * (config.electrolyte_viscosity_Pa_s / config.surface_tension_N_m) \
            * config.voxel_m
        self.capillary_time_s = (config.electrolyte_viscosity_Pa_s * self.thickness_m ** 2
                                 / (config.surface_tension_N_m * self.hydraulic_radius_m))
        self.mean_cos = _mean_cos(labels, legend, pore, ang)
        self.frame_spacing_um = (dx_um,) * 3
        self._mass0 = float(self.model.rho.sum())

    # -- TimeSolver hooks --------------------------------------------------------------------
    def advance(self, n: int) -> None:  # noqa: D102
        with self.counting(n * self.model.n):
            self.model.step(n)
        self.time = (self.step + n) * self.dt_s

    def saturation(self) -> float:
        """Electrolyte share of the electrode's pore volume, (1 + phi) / 2 averaged."""
        return float(((self.model.phi[self.core_nodes] + 1.0) / 2.0).clip(0.0, 1.0).mean())

    def observe(self) -> dict:  # noqa: D102
        m = self.model
        u = m.velocity()
        return {"time_dimensionless": self.time / self.capillary_time_s, "saturation": self.saturation(),
                "max_velocity_lu": float(np.sqrt((u * u).sum(axis=1)).max()),
                "density_drift": float(m.rho.sum() / self._mass0 - 1.0)}

    def check(self) -> str | None:  # noqa: D102
        m = self.model
        if not np.isfinite(m.phi).all():
            return f"NaN in the phase field at step {self.step}"
        drift = abs(float(m.rho.sum()) / self._mass0 - 1.0)
        # the overpressure raises the mean density by up to its own density step
        if drift > 0.01 + 3.0 * self.overpressure_lu:
            # the lattice is weakly compressible: a 1 % density change means the capillary
            # pressure is no longer small against c_s^2 (lower the amplitude)
            return f"total density drifted {drift:.3g} (compressibility): lower the amplitude"
        return None

    def finished(self, history):  # noqa: D102
        cfg = self.config
        s = history["saturation"]
        if s[-1] >= cfg.full_saturation:
            return True, f"filled: saturation {s[-1]:.4f} >= {cfg.full_saturation}", True
        steps = history["step"]
        back = max(5 * cfg.observe_every, self.step // 4)
        past = [v for st, v in zip(steps, s, strict=True) if st <= self.step - back]
        if past and self.step >= 20 * cfg.observe_every and abs(s[-1] - past[-1]) < cfg.steady_tol:
            return True, (f"steady: saturation {s[-1]:.4f} changed {abs(s[-1] - past[-1]):.1e} over the last "
                          f"{back} steps (the air left is trapped)"), True
        return None

    def frame(self) -> dict:  # noqa: D102
        phi = self.model.phase_field()[self.core]
        e = np.where(self.pore, (phi + 1.0) / 2.0, np.nan).clip(0.0, 1.0)
        p = self.model.pressure()[self.core]
        # pressure relative to the reservoirs (rho = 1), to SI: p scales as sigma / dx
        p_si = (p - 1.0 / 3.0) * (self.config.surface_tension_N_m / self.sigma_lu) / self.config.voxel_m
        return {"electrolyte_fraction": e.astype(np.float32),
                "pressure_Pa": np.where(self.pore, p_si, np.nan).astype(np.float32)}

    def state(self) -> dict:  # noqa: D102
        return {"r": self.model.r, "b": self.model.b}

    def load_state(self, state: dict) -> None:  # noqa: D102
        self.model.set_populations(state["r"], state["b"])
        self.model.update_phase()

    def air(self) -> np.ndarray:
        """Pore voxels of the electrode holding air (phase field < 0), ``[z, y, x]`` bool."""
        return self.pore & (self.model.phase_field()[self.core] < 0)


def _mean_cos(labels, legend, pore, angles) -> float:
    """cos(theta) averaged over the pore surface, each solid phase by its share of the faces."""
    total, acc = 0, 0.0
    for i, n in legend.items():
        if n in ("pore", "crack"):
            continue
        s = labels == i
        faces = 0
        for a in range(3):
            faces += int((np.take(pore, range(1, pore.shape[a]), axis=a) & np.take(s, range(pore.shape[a] - 1), axis=a)
                          ).sum())
            faces += int((np.take(s, range(1, pore.shape[a]), axis=a) & np.take(pore, range(pore.shape[a] - 1), axis=a)
                          ).sum())
        total += faces
        acc += faces * math.cos(math.radians(float(angles.get(n, angles.get("other", 90.0)))))
    return acc / total if total else 1.0


def _frame_every(max_steps: int, frames: int, observe_every: int) -> int:
    """Steps between frames: ``max_steps / frames`` rounded down to ``observe_every`` (at least one)."""
    return max(observe_every, (max_steps // max(1, frames)) // observe_every * observe_every)


def frame_times(spacing_um, *, max_steps: int, frames: int = 20, resample_um: float | None = None,
                viscosity_ratio: float = 20.0, electrolyte_viscosity_Pa_s: float = 3e-3,
                surface_tension_N_m: float = 0.035, **_ignored) -> list[float]:
    """The output frames' times (s) of a run with a given step cap, known before it runs.

    A run that fills (or stops changing) earlier ends before the last of them.

    Parameters
    ----------
    spacing_um : tuple of 3 float
        The labels' voxel size (z, y, x), um.
    max_steps, frames, resample_um, viscosity_ratio, electrolyte_viscosity_Pa_s, surface_tension_N_m
        As :func:`impregnate` takes them.

    Returns
    -------
    list of float
    """
    cfg = ImpregnationConfig()
    dx = float(resample_um) if resample_um else max(float(v) for v in spacing_um)
    nu_e = lattice_viscosities(viscosity_ratio)[0]
    dt = lattice_tension(cfg.amplitude) / nu_e * electrolyte_viscosity_Pa_s / surface_tension_N_m * dx * 1e-6
    ob = cfg.observe_every
    max_steps = -(-int(max_steps) // ob) * ob
    every = _frame_every(max_steps, frames, ob)
    steps = list(range(0, max_steps + 1, every))
    if steps[-1] != max_steps:
        steps.append(max_steps)
    return [k * dt for k in steps]


def impregnation_config_from(**kw) -> ImpregnationConfig:
    """An :class:`ImpregnationConfig` from keywords, unknown ones refused with their names."""
    return config_from(ImpregnationConfig, "an impregnation", **kw)


def parse_contact_angles(text) -> dict:
    """``"am=30,cbd=20"`` (or a dict) -> the full angle table, defaults for the phases not given.

    Raises
    ------
    BadInput
        An unknown phase, a missing ``=`` or an angle outside (0, 180).
    """
    angles = dict(ImpregnationConfig().contact_angles_deg)
    if text is None or text == "":
        return angles
    items = text.items() if isinstance(text, dict) else [kv.split("=", 1) if "=" in kv else (kv, None)
                                                          for kv in str(text).replace(" ", "").split(",") if kv]
    for k, v in items:
        if k not in angles:
            raise BadInput("contact_angle", f"unknown phase {k!r}",
                           "give phase=degrees pairs for am, cbd, collector, other, e.g. am=30,cbd=20")
        try:
            a = float(v)
        except (TypeError, ValueError):
            raise BadInput("contact_angle", f"{k}={v} is not a number of degrees",
                           "give phase=degrees pairs, e.g. am=30,cbd=20") from None
        if not 0.0 < a < 180.0:
            raise BadInput("contact_angle", f"{k}={a} is not between 0 and 180 degrees",
                           "give angles through the electrolyte, e.g. am=30,cbd=20")
        angles[k] = a
    return angles


def impregnate(labels, legend: dict, spacing_um, *, resample_um: float | None = None, contact_angle=None,
               run_dir=None, progress=None, frames: int = 20, darcy_estimate: bool = True, **config) -> dict:
    """Fill the pores of a label volume with electrolyte from the separator face, over time.

    Parameters
    ----------
    labels : ndarray of uint8, shape (nz, ny, nx)
        Label volume, z = 0 at the current collector.
    legend : dict of int to str
        Phase of each label id.
    spacing_um : tuple of 3 float
        Voxel size (dz, dy, dx) in um; anisotropic voxels are resampled to cubic ones first.
    resample_um : float, optional
        Cubic voxel size to resample to first (coarser runs are faster: the steps to fill grow
        as the number of voxels along z squared over the pores' size in voxels).  Refined axes
        interpolate the labels (``resample_labels(method="linear")``), which rounds off the
        staircase that pins the front; coarsened ones take the majority.
    contact_angle : str or dict, optional
        Angles (degrees) for some solid phases, ``"am=30,cbd=20"`` or a dict (``am``, ``cbd``,
        ``collector``, ``other``); the rest keep the defaults.
    run_dir : str or Path, optional
        Run folder (history, checkpoints, fields.pvd): resumed when unfinished.
    progress : callable, optional
        ``progress(fraction, message)``.
    frames : int
        3D frames over ``max_steps`` (plus the first and the last).
    darcy_estimate : bool
        Compute the Darcy/Washburn filling time (one single-phase permeability run).
    **config
        Fields of :class:`ImpregnationConfig`; ``max_steps`` None: three times the Darcy
        estimate in lattice steps (at least 20 000), rounded to ``observe_every``.

    Returns
    -------
    dict
        ``final_saturation``, ``time_to_97pct_s`` / ``_dimensionless`` (None if never reached),
        ``washburn_estimate_s``, ``entrapped_air_fraction`` (air left in the pores, share of the
        pore volume), ``clusters`` (:func:`air_clusters`), ``history`` (columns), ``steps``,
        ``converged``, ``reason``, ``wall_s``, ``mflups``, the viscosities, tension, angles,
        ``dt_s``, ``capillary_time_s``, ``hydraulic_radius_um`` and ``_voxels``,
        ``resolution_note`` (:func:`resolution_note`: None or why the final saturation reads
        low), dimensionless numbers
        (``capillary_number``, ``ohnesorge_number`` of the lattice run), ``electrolyte_fraction``
        (final frame).  The capillary number is the front's: ``mu_e U / sigma`` with U the mean
        speed of the filled depth until half the final saturation.
    """
    t0 = time.perf_counter()
    # refined voxels interpolate the labels' indicators: a refined staircase keeps pinning the
    # front (docs/impregnation.md, "Status")
    labels, sp = cubic_labels(labels, spacing_um, resample_um, method="linear")
    from electrovox.memory import require
    n_pore = int(np.isin(labels, [i for i, n in legend.items() if n in ("pore", "crack")]).sum())
    # the populations (both colours, float64, one array: the AA pattern, 304 B), the push
    # addresses (int32, 76 B), phase field, density and wall data (~50 B), the checkpoint's copy of
    # the populations (304 B) and the frames: 1.19 kB per fluid node measured at the peak
    # (2026-12-07, 627k fluid nodes, porosity 0.4, labels-sized arrays included)
    require(1200.0 * n_pore + 40.0 * labels.size, "labels",
            f"a two-phase lattice of {n_pore:,} fluid voxels ({labels.shape[2]} x {labels.shape[1]} x "
            f"{labels.shape[0]} at {sp[0]:g} um)", "give a coarser --resample-um or a smaller sub-volume")
    angles = parse_contact_angles(contact_angle)
    max_steps = config.pop("max_steps", None)
    config.setdefault("voxel_m", sp[0] * 1e-6)
    cfg = impregnation_config_from(contact_angles_deg=angles, **config)
    cfg.check()
    probe = ImpregnationSolver(labels, legend, cfg)
    washburn = None
    if darcy_estimate:
        from electrovox.solvers.flow.permeability import permeability
        perm = permeability(labels, legend, (sp[0],) * 3, "z", max_steps=20_000, tol=1e-3)
        k = perm["permeability_m2"]
        # the driving pressure: the capillary pressure plus the overpressure
        drive = 2 * cfg.surface_tension_N_m * probe.mean_cos / probe.hydraulic_radius_m + cfg.overpressure_Pa
        if k > 0 and drive > 0:
            washburn = cfg.electrolyte_viscosity_Pa_s * perm["porosity"] * probe.thickness_m ** 2 / (2 * k * drive)
    if max_steps is None:
        guess = 3 * washburn / probe.dt_s if washburn else 100_000
        max_steps = int(min(5_000_000, max(20_000, guess)))
    ob = cfg.observe_every
    max_steps = -(-int(max_steps) // ob) * ob
    cfg = dataclasses.replace(cfg, max_steps=max_steps)
    # only the step cap changed, which the lattice does not use: keep the one already built
    probe.config = cfg
    solver = probe
    frame_every = _frame_every(max_steps, frames, ob) if run_dir else None
    setup_s = time.perf_counter() - t0
    res = solver.run(run_dir, max_steps=max_steps, observe_every=ob, checkpoint_every=frame_every,
                     frame_every=frame_every, progress=progress)
    h = res.history
    s = np.asarray(h["saturation"])
    hit = np.nonzero(s >= 0.97)[0]
    t97 = float(h["time_s"][hit[0]]) if hit.size else None
    air = solver.air()
    clusters = air_clusters(air, sp[0], cfg.outlet == "open")
    nu_e, nu_a = solver.nu
    # the capillary number of the front: its mean speed until half the final saturation
    half = int(np.argmax(s >= s[-1] / 2)) if len(s) else 0
    u_front = solver.sample_shape[0] * float(s[half]) / max(1, int(h["step"][half])) if len(s) else 0.0
    sig = solver.sigma_lu
    r_h_lu = solver.hydraulic_radius_m / cfg.voxel_m
    mu_a = cfg.electrolyte_viscosity_Pa_s / cfg.viscosity_ratio
    return {"final_saturation": float(s[-1]) if len(s) else 0.0, "time_to_97pct_s": t97,
            "time_to_97pct_dimensionless": None if t97 is None else t97 / solver.capillary_time_s,
            "washburn_estimate_s": washburn, "entrapped_air_fraction": float(air.sum() / solver.n_pore),
            "clusters": clusters, "history": {k: v.tolist() for k, v in h.items()},
            "steps": int(res.steps), "converged": bool(res.converged), "reason": res.reason,
            "wall_s": res.wall_s + (setup_s if res.wall_s > 0 else 0.0),
            "mflups": solver.mflups,
            "electrolyte_viscosity_Pa_s": cfg.electrolyte_viscosity_Pa_s, "air_viscosity_Pa_s": mu_a,
            "surface_tension_N_m": cfg.surface_tension_N_m, "contact_angles_deg": dict(angles),
            "viscosity_ratio": cfg.viscosity_ratio, "outlet": cfg.outlet, "voxel_um": sp[0],
            "overpressure_Pa": cfg.overpressure_Pa,
            "porosity": float(solver.pore.mean()), "dt_s": solver.dt_s,
            "capillary_time_s": solver.capillary_time_s, "hydraulic_radius_um": solver.hydraulic_radius_m * 1e6,
            "hydraulic_radius_voxels": r_h_lu, "resolution_note": resolution_note(r_h_lu),
            "lattice": {"nu_electrolyte": nu_e, "nu_air": nu_a, "sigma": sig, "amplitude": cfg.amplitude,
                        "overpressure": solver.overpressure_lu},
            "capillary_number": nu_e * u_front / sig, "ohnesorge_number": nu_e / math.sqrt(sig * r_h_lu),
            "electrolyte_fraction": res.fields["electrolyte_fraction"], "shape": list(labels.shape),
            "pore_voxels": solver.n_pore,
            "run_dir": str(run_dir) if run_dir else None}


def resolution_note(rh_voxels: float) -> str | None:
    """Why the final saturation reads low on a coarse image, or None where the pores are resolved.

    Parameters
    ----------
    rh_voxels : float
        Hydraulic radius of the pores (twice pore volume over pore surface) in voxels.

    Returns
    -------
    str or None
        A warning when ``rh_voxels`` is below :data:`RESOLVED_RH_VOXELS`.
    """
    if rh_voxels >= RESOLVED_RH_VOXELS:
        return None
    return (f"the pores' hydraulic radius is {rh_voxels:.1f} voxels (below {RESOLVED_RH_VOXELS:g}): the final "
            "saturation depends on the voxel size and reads low, the air left high (the front pins at voxel "
            "steps and one- or two-voxel necks; two sphere packs filled to 0.58 / 0.73 / 0.81 / 0.81 at 2.6 / 4.4 / "
            "6.3 / 8.2 voxels and to 0.54 / 0.64 / 0.71 / 0.72 at 2.3 / 4.0 / 5.8 / 7.6, docs/impregnation.md); "
            "read them as bounds, and image finer or give a finer --resample-um (the labels are then interpolated, "
            "which recovered the gain of imaging finer on the first pack)")


#: saturation.csv: the CLI contract's three columns first, then the diagnostics
SATURATION_COLUMNS = ("time_s", "time_dimensionless", "saturation", "step", "max_velocity_lu", "density_drift")
CLUSTER_COLUMNS = ("volume_um3", "voxels", "z_um", "z_min_um", "z_max_um", "trapped")


def write_tables(run_dir, r: dict) -> None:
    """Write ``saturation.csv`` and ``air_clusters.csv`` into the run folder, atomically.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    r : dict
        What :func:`impregnate` returned.
    """
    from pathlib import Path

    from electrovox.io.atomic import write_csv as write

    h = r["history"]
    write(Path(run_dir) / "saturation.csv", SATURATION_COLUMNS,
          zip(*[[repr(float(v)) if c != "step" else int(v) for v in h[c]] for c in SATURATION_COLUMNS], strict=True))
    write(Path(run_dir) / "air_clusters.csv", CLUSTER_COLUMNS,
          ([c[k] for k in CLUSTER_COLUMNS] for c in r["clusters"]))
