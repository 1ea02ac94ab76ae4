"""Impregnation: is the saturation curve S(t*) invariant when the Ohnesorge and capillary numbers change?

In the viscous-capillary regime (inertia and gravity negligible, as at an electrode's pore scale:
Reynolds ~1e-3, Bond ~1e-7) a layer of thickness L with pores of hydraulic radius r_h fills on the
single time scale T = mu_e L^2 / (sigma r_h) (``docs/impregnation.md``): S against t* = t / T
should not depend on anything else.  Two families of runs test that on one pore space (smoothed
random blobs, porosity 0.5, periodic in every direction so that it tiles without a seam; contact
angle 30 degrees; viscosity ratio 20; vent open; no overpressure), each to t* = 2:

1. **Ohnesorge number** Oh = nu_e / sqrt(sigma r_h) (lattice units): the same 48 x 20 x 20 space
   with the lattice tension (perturbation amplitude A, sigma = 2 A / 9) and the electrolyte's
   lattice viscosity nu_e (the air's nu_e / 20) varied, Oh over a 4.3x range.  The lattice
   steps per capillary time grow as nu_e / A, so these are the same physical filling run with
   other lattice parameters.
2. **Capillary number** of the front, Ca = mu_e u / sigma: the space stacked two and three
   times along z (the same pores, the layer 2x and 3x thicker).  Washburn's law (front ~ sqrt(t))
   makes the front half as fast at the same saturation (a third for 3x), so Ca falls as 1 / L,
   and S(t*) must still be the same curve since T grows as L^2.  (In spontaneous filling of one
   geometry Ca ~ S r_h / (t* L) is fixed by the geometry, so the lattice set-up alone cannot
   change it: the thickness can.)

Reported per run: A, nu_e, the lattice steps per capillary time T, Oh, Ca (the front's mean speed
until half the final saturation, as ``electrovox impregnate`` states it), S at t* = 0.25, 0.5, 1,
1.5, 2, the saturation gained from t* = 0.3 to 1.5, steps and wall time; and the largest
difference of S over t* in [0.3, 2] between runs that differ in Oh alone (the same steps per T)
and between a stacked layer and one.

3. **The front** (``--front``, a separate section): the depth of the electrolyte front below the
   inlet against time, fitted to Washburn's law with the air's resistance (``washburn_fit``), for
   the default set-up at one to four layers, one layer at other steps per T, the same blobs imaged
   twice as finely, and one and two layers at M = 100.  If the filling were Washburn's in t*, the
   fitted coefficient k would not change with the thickness.

    .venv/bin/python benchmarks/impregnation_scaling.py [--write-results]           # ~33 min on 2 cores
    .venv/bin/python benchmarks/impregnation_scaling.py --front [--write-results]   # ~30 min
    .venv/bin/python benchmarks/impregnation_scaling.py --films [--write-results]   # ~8 min: the electrolyte
                                                  # ahead of the front, at the solid and away from it
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from impregnation import blobs, fill_curve, run_stamp, write_section  # noqa: E402

#: (amplitude A, electrolyte lattice viscosity nu_e, layers stacked along z); the first is the
#: reference (the solver's defaults at M = 20).  Set-ups with equal nu_e / A take equal lattice steps
#: per capillary time at other Ohnesorge numbers; the last three stack the layer two and three times.
SETUPS = ((0.01, 0.1, 1), (0.03, 0.3, 1), (0.02, 0.1, 1), (0.005, 0.1, 1), (0.01, 0.2, 1), (0.015, 0.3, 1),
          (0.01, 0.3, 1), (0.005, 0.2, 1), (0.0025, 0.1, 1), (0.01, 0.1, 2), (0.005, 0.2, 2), (0.01, 0.1, 3))
T_END = 2.0
GRID = np.array([0.25, 0.5, 1.0, 1.5, 2.0])


def pore_space(layers: int, zoom: int = 1) -> np.ndarray:
    """Labels (0 pore, 2 active material) of the blob space, stacked ``layers`` times along z (with
    ``zoom``, imaged at 1 / zoom of the voxel size)."""
    lab = np.where(blobs((48, 20, 20), porosity=0.5, sigma=2.5, seed=3, zoom=zoom), 0, 2).astype(np.uint8)
    return np.concatenate([lab] * layers, axis=0)


def run(amp: float, nu_e: float, layers: int, t_end: float = T_END, front: bool = False, zoom: int = 1,
        ratio: float = 20.0, theta: float = 30.0) -> dict:
    """Fill the space to t* = ``t_end`` with one lattice set-up; the curve (with ``front``, also the
    slice profiles and the front's depth, voxels, at each sample, and the electrolyte fraction of
    every electrode voxel at the end) and the dimensionless numbers."""
    from electrovox.solvers.flow.impregnation import ImpregnationConfig, ImpregnationSolver
    cfg = ImpregnationConfig(amplitude=amp, nu_electrolyte_lu=nu_e, viscosity_ratio=ratio,
                             contact_angles_deg={"am": theta})
    s = ImpregnationSolver(pore_space(layers, zoom), {0: "pore", 2: "am"}, cfg)
    c = fill_curve(s, max(50, int(0.02 * s.capillary_time_s / s.dt_s)), t_end, front=front)
    t, sat, steps = c["t"], c["S"], c["steps"]
    # the front's mean speed until half the final saturation (as impregnate() states Ca)
    half = int(np.argmax(sat >= sat[-1] / 2))
    u_front = s.sample_shape[0] * sat[half] / max(1, steps[half])
    sig, r_h = s.sigma_lu, s.hydraulic_radius_m / s.config.voxel_m
    return {"A": amp, "nu_e": s.nu[0], "nu_a": s.nu[1], "layers": layers, "Oh": s.nu[0] / math.sqrt(sig * r_h),
            "steps_per_T": s.capillary_time_s / s.dt_s,
            "Ca": s.nu[0] * u_front / sig, "t": t, "S": sat, "S_at": np.interp(GRID, t, sat),
            "gained": float(np.interp(1.5, t, sat) - np.interp(0.3, t, sat)), "steps": s.step,
            "wall_s": c["wall_s"], "drift": s.observe()["density_drift"], "L": s.sample_shape[0],
            "M": s.config.viscosity_ratio, "zoom": zoom, "front": c.get("front"), "profile": c.get("profile"),
            "step_at": steps,
            "electrolyte": ((s.model.phase_field()[s.core] + 1.0) / 2.0).clip(0.0, 1.0) if front else None}


def largest_difference(a: dict, b: dict) -> float:
    """max |S_a - S_b| over t* in [0.3, T_END] (both curves interpolated on one grid)."""
    grid = np.linspace(0.3, T_END, 171)
    return float(np.abs(np.interp(grid, a["t"], a["S"]) - np.interp(grid, b["t"], b["S"])).max())


def render(rows: list[dict], a) -> str:
    lines = ["## Impregnation: the saturation curve against the Ohnesorge and capillary numbers", "",
             f"{run_stamp()}. Command: `.venv/bin/python benchmarks/impregnation_scaling.py"
             f"{' --write-results' if a.write_results else ''}` (the module docstring says what is compared). "
             "Blob space 48 x 20 x 20 (porosity 0.5, periodic), contact angle 30 degrees, viscosity ratio 20, "
             "vent open, to t* = 2. Steps per T: lattice steps per capillary time (nu_e / A x the geometry). "
             "max |dS| = the largest difference over t* in [0.3, 2] from the first row of the same layers "
             "and steps per T (Oh alone changed), or, for two layers, from one layer with the same set-up.", "",
             "| A | nu_e | layers | steps per T | Oh | Ca | S(t* 0.25) | S(0.5) | S(1) | S(1.5) | S(2) | "
             "gained 0.3-1.5 | max \\|dS\\| | steps | wall s | density drift |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def partner(r):
        """The run that r differs from in Oh alone (the first earlier one layer at its steps per T),
        or, for a stack, one layer with the same set-up; None if there is none."""
        if r["layers"] > 1:
            same = [o for o in rows if o["layers"] == 1 and (o["A"], o["nu_e"]) == (r["A"], r["nu_e"])]
        else:
            same = [o for o in rows[:rows.index(r)]
                    if o["layers"] == 1 and abs(o["steps_per_T"] / r["steps_per_T"] - 1) < 1e-6]
        return same[0] if same else None

    for r in rows:
        s = " | ".join(f"{v:.3f}" for v in r["S_at"])
        p = partner(r)
        d = "-" if p is None else f"{largest_difference(r, p):.3f}"
        lines.append(f"| {r['A']:g} | {r['nu_e']:g} | {r['layers']} | {r['steps_per_T']:.0f} | {r['Oh']:.2f} | "
                     f"{r['Ca']:.4f} | {s} | {r['gained']:.3f} | {d} | {r['steps']} | {r['wall_s']:.0f} | "
                     f"{r['drift']:.1e} |")
    lines.append("")
    for r in rows:
        p = partner(r)
        if p is not None and r["layers"] == 1:
            lines.append(f"- Oh {p['Oh']:.2f} -> {r['Oh']:.2f} ({r['Oh'] / p['Oh']:.2f}x) at {r['steps_per_T']:.0f} "
                         f"steps per T: max |dS| {largest_difference(r, p):.3f}.")
        elif p is not None:
            lines.append(f"- {r['layers']} layers against 1 (A {r['A']:g}, nu_e {r['nu_e']:g}): Ca {p['Ca']:.4f} -> "
                         f"{r['Ca']:.4f} ({r['Ca'] / p['Ca']:.2f}x); max |dS| {largest_difference(r, p):.3f}; "
                         f"S(1) {p['S_at'][2]:.3f} -> {r['S_at'][2]:.3f}.")
    return "\n".join(lines) + "\n"


#: the front study (``--front``): (A, nu_e, layers, t* to run to, zoom, viscosity ratio M): the default
#: set-up at one to four layers; one layer at 0.5x, 2x and 4x its steps per capillary time; one layer
#: imaged twice as finely (the same blobs; L and r_h x 2 in voxels, so 2x the steps per T: compare
#: with the 2x row); one and two layers with the air 5x less viscous (M = 100, nu_e / A as the default);
#: one layer at 12x the default's steps per T (the lattice front as slow as the four layers' or slower).
FRONT_SETUPS = ((0.01, 0.1, 1, 2.0, 1, 20), (0.01, 0.1, 2, 2.0, 1, 20), (0.01, 0.1, 3, 1.5, 1, 20),
                (0.01, 0.1, 4, 1.0, 1, 20), (0.02, 0.1, 1, 2.0, 1, 20), (0.005, 0.1, 1, 2.0, 1, 20),
                (0.005, 0.2, 1, 2.0, 1, 20), (0.01, 0.1, 1, 1.5, 2, 20), (0.03, 0.3, 1, 1.5, 1, 100),
                (0.03, 0.3, 2, 1.5, 1, 100), (0.0025, 0.3, 1, 1.2, 1, 20))
FIT = (0.25, 1.0)


def washburn_fit(r: dict) -> dict:
    """Fit the front's depth X (voxels) over t* in ``FIT`` to Washburn's law for electrolyte (viscosity
    mu) displacing air (mu / M) through a layer of thickness L: (X + (L - X) / M) dX/dt = K, or

        g(X) = (1 - 1/M) X^2 / 2 + (L / M) X = K t + c     (t in lattice steps).

    K (voxel^2 per step) is the Washburn coefficient; the intercept c (voxel^2) is a head start
    (c > 0: the front behaves as if it had started ``offset`` voxels deep) or a delay (c < 0), and
    ``delay_T`` = -c / K in units of this run's capillary time.  In t* the law reads
    G(x) = k t* + c / L^2 with x = X / L, G = g / L^2 and k = K (steps per T) / L^2: a k that does not
    change with L is Washburn's invariance, and c / L^2 is what separates thin from thick layers."""
    t, x_vox, st, big_l, m = r["t"], r["front"], r["step_at"], r["L"], r["M"]
    sel = (t >= FIT[0]) & (t <= FIT[1]) & (x_vox < 0.9 * big_l)
    a2, b = (1 - 1 / m) / 2, big_l / m
    coef, icpt = np.polyfit(st[sel], a2 * x_vox[sel] ** 2 + b * x_vox[sel], 1)

    def depth(g):   # the root X >= 0 of a2 X^2 + b X = g (g >= 0)
        return (-b + np.sqrt(b * b + 4 * a2 * g)) / (2 * a2)
    fitted = depth(np.maximum(coef * st[sel] + icpt, 0.0))
    return {"K": coef, "c": icpt, "offset": math.copysign(float(depth(abs(icpt))), icpt),
            "delay_T": -icpt / coef / r["steps_per_T"], "k": coef * r["steps_per_T"] / big_l ** 2,
            "rms": float(np.sqrt(np.mean((fitted - x_vox[sel]) ** 2))),
            "exponent": float(np.polyfit(np.log(t[sel]), np.log(x_vox[sel]), 1)[0]),
            "x_at": np.interp([0.25, 0.5, 1.0], t, x_vox / big_l), "n": int(sel.sum()),
            "behind": behind(r, 1.0)}


def behind(r: dict, t_star: float) -> float:
    """Mean saturation of the slices behind the front (inlet to the front's slice) at the first sample
    at or after ``t_star``: 1 minus the air trapped behind the front."""
    i = min(int(np.searchsorted(r["t"], t_star)), len(r["t"]) - 1)
    k = max(1, int(r["front"][i]))
    return float(r["profile"][i][:k].mean())


def render_front(rows: list[dict]) -> str:
    lines = ["## Impregnation: the front's depth against the layer's thickness", "",
             f"{run_stamp()}. Command: `.venv/bin/python benchmarks/impregnation_scaling.py --front"
             "` (`washburn_fit` says what is fitted). The blob space of the section above (48 x 20 x 20, "
             "stacked 1-4 times along z), theta 30 degrees, vent open. X = the front's depth below the "
             "inlet (the leading edge of the half-filled slices); fitted over t* 0.25-1 to (X + (L - X)/M) dX/dt = K: "
             "g(X) = K t + c. k = K x steps per T / L^2 (the law in t*); offset: the depth at which a "
             "front obeying the law all along would have started (c > 0); delay: -c / K in T.", "",
             "| M | A | nu_e | layers | zoom | L | steps per T | X/L at t* 0.25 | 0.5 | 1 | exponent | K (voxel^2 per "
             "1000 steps) | c (voxel^2) | offset (voxels) | delay (T) | k | rms of fit (voxels) | S(1) | "
             "S behind the front at t* 1 | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f = r["fit"]
        x = " | ".join(f"{v:.3f}" for v in f["x_at"])
        lines.append(f"| {r['M']:g} | {r['A']:g} | {r['nu_e']:g} | {r['layers']} | {r['zoom']} | {r['L']} | "
                     f"{r['steps_per_T']:.0f} | {x} | "
                     f"{f['exponent']:.3f} | {f['K'] * 1e3:.4f} | {f['c']:.1f} | {f['offset']:.2f} | "
                     f"{f['delay_T']:.4f} | {f['k']:.4f} | {f['rms']:.2f} | {np.interp(1.0, r['t'], r['S']):.3f} | "
                     f"{f['behind']:.3f} | "
                     f"{r['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


#: the film check (``--films``): one layer at 19 k, 76 k and 229 k steps per capillary time, to t* = 1,
#: at contact angles of 30 and 60 degrees.
FILM_SETUPS = ((0.01, 0.1), (0.005, 0.2), (0.0025, 0.3))
FILM_ANGLES = (30.0, 60.0)


def films() -> str:
    """Where the electrolyte ahead of the front sits: in the slices 2 to 14 voxels deeper than the
    front at t* = 1, the mean electrolyte fraction of the pore voxels touching the solid (26
    neighbours) against the others, and by the distance to the solid (1, 2, 3, >= 4 voxels); a film
    creeping ahead along the solid fills the first far more than the rest."""
    from scipy import ndimage
    lab = pore_space(1)
    pore = lab == 0
    touching = pore & ndimage.binary_dilation(~pore, structure=np.ones((3, 3, 3)))
    dist = np.floor(ndimage.distance_transform_edt(pore))
    nz = lab.shape[0]
    lines = ["## Impregnation: where the electrolyte ahead of the front sits", "",
             f"{run_stamp()}. Command: `.venv/bin/python benchmarks/impregnation_scaling.py --films` (`films` says "
             "what is measured). One layer of the blob space above, M = 20, to t* = 1; the zone: "
             "the slices 2-14 voxels deeper than the front.", "",
             "| theta | A | nu_e | steps per T | front (voxels) | S | zone's electrolyte | touching the solid | "
             "not touching | "
             "at distance 1 / 2 / 3 / >= 4 | wall s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for theta, (amp, nu) in ((th, su) for th in FILM_ANGLES for su in FILM_SETUPS):
        r = run(amp, nu, 1, 1.0, front=True, theta=theta)
        e, x = r["electrolyte"], float(r["front"][-1])
        zone = np.zeros_like(pore)
        zone[max(0, nz - int(x) - 14):nz - int(x) - 2] = True        # z counts up from the vent; the inlet is on top
        zp = zone & pore
        shells = [zp & (dist == k) for k in (1, 2, 3)] + [zp & (dist >= 4)]
        by_d = " / ".join(f"{e[m].mean():.2f}" for m in shells)
        lines.append(f"| {theta:g} | {amp:g} | {nu:g} | {r['steps_per_T']:.0f} | {x:.1f} | {r['S'][-1]:.3f} | "
                     f"{e[zp].mean():.3f} | {e[zp & touching].mean():.3f} | {e[zp & ~touching].mean():.3f} | {by_d} | "
                     f"{r['wall_s']:.0f} |")
        print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write-results", action="store_true")
    p.add_argument("--front", action="store_true", help="the front study (FRONT_SETUPS, ~30 min) instead")
    p.add_argument("--films", action="store_true", help="the film check (FILM_SETUPS x FILM_ANGLES, ~8 min) instead")
    a = p.parse_args()
    if a.films:
        report = films()
        print(report)
        if a.write_results:
            write_section(report)
        return
    if a.front:
        rows = []
        for amp, nu, layers, t_end, zoom, ratio in FRONT_SETUPS:
            r = run(amp, nu, layers, t_end, front=True, zoom=zoom, ratio=ratio)
            r["fit"] = washburn_fit(r)
            rows.append(r)
            print({k: (v.round(4).tolist() if isinstance(v, np.ndarray) else v) for k, v in r["fit"].items()},
                  r["layers"], r["A"], r["nu_e"], round(r["wall_s"]), flush=True)
            i = min(int(np.searchsorted(r["t"], 1.0)), len(r["t"]) - 1)
            print(f"slice saturation at t* {r['t'][i]:.2f}, inlet first:", r["profile"][i].round(2).tolist(),
                  flush=True)
        report = render_front(rows)
        print(report)
        if a.write_results:
            write_section(report)
        return
    rows = []
    for amp, nu, layers in SETUPS:
        rows.append(run(amp, nu, layers))
        r = rows[-1]
        print({k: (v.round(4).tolist() if k == "S_at" else v) for k, v in r.items() if k not in ("t", "S")},
              flush=True)
    report = render(rows, a)
    print(report)
    if a.write_results:
        write_section(report)


if __name__ == "__main__":
    main()
