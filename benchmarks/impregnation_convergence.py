"""Impregnation: does the final saturation converge when the same geometry is imaged finer?

One packing of spheres (``generate_electrode``'s packing, no CBD, no cracks, spherical particles,
d50 5 um, 20 x 10 x 10 um) is voxelised at several voxel sizes from its centres and radii, so
every resolution sees the same particles (refining a label image by majority keeps its staircase).
Each volume is impregnated (contact angle 30 degrees on every solid, the vent open, no
overpressure) until the saturation is steady or the step cap (three times the Darcy estimate);
optionally PoreSpy's quasi-static imbibition (``porespy.simulations.imbibition``, inlets the top
face, outlets the bottom face) runs on the same pore image in its own venv.  Reported per voxel
size: porosity, hydraulic radius in voxels, final saturation, air left, steps, stop reason, wall
time.  ``--refine 1.0:0.5`` adds the 1.0 um image refined to 0.5 um by majority and by linear label
interpolation (``resample_labels``), against the pack imaged at 0.5 um.

    .venv/bin/python benchmarks/impregnation_convergence.py [--voxels 1.0,0.5,0.333,0.25]
        [--refine 1.0:0.5] [--seed 7] [--porespy-python /tmp/porespy-venv/bin/python] [--write-results]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZE_UM = (20.0, 10.0, 10.0)


def packing(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Sphere centres (N, 3) and radii (N,) in um, in a frame whose origin is the box corner."""
    from electrovox.solvers.phantoms.electrode import generate_electrode
    ref = 0.25
    r = generate_electrode(size_um=SIZE_UM, spacing=(ref,) * 3, seed=seed, d50_um=5.0, cbd=0.0, cracks=0.0,
                           aspect_range=(1.0, 1.0))
    # generate_electrode puts voxel k's centre at k * ref: the box starts half a voxel below 0.
    return np.asarray(r["centres_um"], float) + ref / 2, np.asarray(r["radii_um"], float)


def voxelise(centres: np.ndarray, radii: np.ndarray, dx: float) -> np.ndarray:
    """Labels (0 pore, 2 active material) of the spheres on a grid of cubic voxels dx um."""
    shape = tuple(int(round(s / dx)) for s in SIZE_UM)
    grids = [(np.arange(n) + 0.5) * dx for n in shape]
    solid = np.zeros(shape, bool)
    for c, r in zip(centres, radii, strict=True):
        lo = [max(0, int(np.floor((c[a] - r) / dx))) for a in range(3)]
        hi = [min(shape[a], int(np.ceil((c[a] + r) / dx)) + 1) for a in range(3)]
        if any(h <= lo_ for lo_, h in zip(lo, hi, strict=True)):
            continue
        z, y, x = np.meshgrid(*[grids[a][lo[a]:hi[a]] - c[a] for a in range(3)], indexing="ij")
        solid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] |= z * z + y * y + x * x < r * r
    return np.where(solid, 2, 0).astype(np.uint8)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--voxels", default="1.0,0.5,0.333,0.25", help="voxel sizes in um, comma separated")
    p.add_argument("--steps-per-um", type=float, default=0.0,
                   help="step cap = this / voxel size (the steps to fill grow as 1 / dx); 0: impregnate's "
                   "default, three times the Darcy estimate")
    p.add_argument("--refine", default="", metavar="FROM:TO",
                   help="also the FROM um image refined to TO um, by majority and by linear label interpolation")
    p.add_argument("--seed", type=int, default=7, help="the packing's seed (7: the geometry of RESULTS.md)")
    p.add_argument("--porespy-python", default="/tmp/porespy-venv/bin/python")
    p.add_argument("--write-results", action="store_true")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from impregnation_porespy import PEER  # the same PoreSpy call as the cross-check

    from electrovox.solvers.flow.impregnation import impregnate
    centres, radii = packing(a.seed)
    d = Path(tempfile.mkdtemp(prefix="evx-bench-impconv-"))
    (d / "peer.py").write_text(PEER)
    cases = [(f"imaged at {float(v):g} um", voxelise(centres, radii, float(v)), float(v))
             for v in a.voxels.split(",") if v]
    if a.refine:
        from electrovox.filters.image.resample import resample_labels
        src, dst = (float(v) for v in a.refine.split(":"))
        coarse = voxelise(centres, radii, src)
        cases += [(f"{src:g} um refined to {dst:g} um ({m})", resample_labels(coarse, src, dst, method=m)[0], dst)
                  for m in ("majority", "linear")]
    rows = []
    for name, lab, dx in cases:
        pore = lab == 0
        peer = None
        if a.porespy_python and Path(a.porespy_python).exists():
            np.save(d / "im.npy", pore)
            out = subprocess.run([a.porespy_python, str(d / "peer.py"), str(d / "im.npy")], capture_output=True,
                                 text=True)
            peer = (json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0
                    else {"error": out.stderr[-400:]})
        t0 = time.perf_counter()
        cap = int(round(a.steps_per_um / dx / 1000.0)) * 1000 if a.steps_per_um > 0 else None
        r = impregnate(lab, {0: "pore", 2: "am"}, (dx,) * 3, contact_angle={"am": 30.0, "other": 30.0},
                       max_steps=cap)
        row = {"image": name, "voxel_um": dx, "shape": list(lab.shape), "porosity": float(pore.mean()),
               "hydraulic_radius_vox": r["hydraulic_radius_um"] / dx, "saturation": r["final_saturation"],
               "air": r["entrapped_air_fraction"], "steps": r["steps"], "reason": r["reason"],
               "wall_s": time.perf_counter() - t0, "time_to_97pct_s": r["time_to_97pct_s"],
               "washburn_estimate_s": r["washburn_estimate_s"],
               "sat_at": {f"{f:g}": _sat_at(r["history"], f * r["washburn_estimate_s"]) for f in (0.5, 1, 2)},
               "peer": peer}
        rows.append(row)
        print(json.dumps(row), flush=True)
    report = render(rows, len(radii), a.voxels, a.seed)
    print(report)
    if a.write_results:
        from impregnation import write_section
        write_section(report)


def _sat_at(history: dict, t_s: float):
    """Saturation at time t_s (s) from the run's history, None past its end."""
    t = np.asarray(history["time_s"], float)
    s = np.asarray(history["saturation"], float)
    return None if t_s > t[-1] else float(np.interp(t_s, t, s))


def render(rows: list, n_particles: int, voxels: str, seed: int = 7) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["## Impregnation: final saturation against the voxel size (one geometry)", "",
             f"Run {now}, 2 cores (load average {os.getloadavg()[0]:.1f}). Command: "
             f"`.venv/bin/python benchmarks/impregnation_convergence.py --voxels {voxels} --seed {seed} "
             "--write-results` (the "
             "module docstring "
             f"says what is compared). {n_particles} spheres, d50 5 um, {SIZE_UM[0]:g} x {SIZE_UM[1]:g} x "
             f"{SIZE_UM[2]:g} um, theta 30 degrees, vent open, no overpressure.", "",
             "| image | grid | porosity | hydraulic radius (voxels) | S at 0.5 / 1 / 2 x Darcy estimate | "
             "final S | air left | PoreSpy air left | steps | stop | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pe = r["peer"] or {}
        pa = "-" if pe.get("air_fraction") is None else f"{pe['air_fraction']:.3f}"
        sa = " / ".join("-" if v is None else f"{v:.3f}" for v in r["sat_at"].values())
        lines.append(f"| {r['image']} | {'x'.join(map(str, r['shape']))} | {r['porosity']:.3f} | "
                     f"{r['hydraulic_radius_vox']:.2f} | {sa} | {r['saturation']:.3f} | {r['air']:.3f} | {pa} | "
                     f"{r['steps']} | {r['reason']} | {r['wall_s']:.0f} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
