"""Impregnation cross-check: the air left by the lattice Boltzmann filling against PoreSpy's
quasi-static imbibition on the same images, and the lattice result's dependence on resolution.

The peer (PoreSpy >= 3, its own venv: ``pip install porespy``): ``porespy.simulations.imbibition``
(sphere insertion: the wetting phase fills the voxels whose local pore size admits it as the
capillary pressure falls), inlets = the top face (the separator side), outlets = the bottom face
(the air vent), ``min_size = 4`` (the docstring's advice against jagged one-voxel "traps"); its
final non-wetting saturation at the lowest pressure is the air trapped by a quasi-static
imbibition.  ElectroVox: :func:`electrovox.solvers.flow.impregnation.impregnate` with the same
faces (the vent open), contact angle 30 degrees on every solid, until the saturation is steady.

Images: a wide-throat blob space (smoothed noise, porosity 0.5, pores 5-10 voxels: both models
should fill nearly all of it), and one synthetic electrode (``generate_electrode``, 20 x 10 x 10 um)
at 0.5 um voxels and resampled to 1.0 um (the same structure at two resolutions).

    .venv/bin/python benchmarks/impregnation_porespy.py --porespy-python /tmp/lbmpy-venv/bin/python [--write-results]
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

PEER = r"""
import json, sys, time
import numpy as np
import porespy as ps
im = np.load(sys.argv[1])
inlets = np.zeros_like(im); inlets[-1] = True
outlets = np.zeros_like(im); outlets[0] = True
t0 = time.perf_counter()
r = ps.simulations.imbibition(im=im, inlets=inlets, outlets=outlets, min_size=4)
snwp = r.snwp if hasattr(r, "snwp") else None
air = float(np.asarray(snwp)[-1]) if snwp is not None else None
trapped = getattr(r, "im_trapped", None)
print(json.dumps({"air_fraction": air, "trapped_voxels": None if trapped is None else int(np.asarray(trapped).sum()),
                  "wall_s": time.perf_counter() - t0, "version": ps.__version__}))
"""


def media(with_blobs: bool = False) -> dict:
    from scipy import ndimage

    from electrovox.filters.image.resample import resample_labels
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.phantoms.electrode import generate_electrode
    f = ndimage.gaussian_filter(np.random.default_rng(3).random((48, 20, 20)), 2.5, mode="wrap")
    blobs = np.where(f > np.quantile(f, 0.5), 0, 2).astype(np.uint8)
    fine = generate_electrode((40, 20, 20), (0.5, 0.5, 0.5), seed=7, d50_um=5.0)["labels"]
    coarse, _, _ = resample_labels(fine, (0.5, 0.5, 0.5), 1.0)
    out = {"blobs 48x20x20 (1 um)": (blobs, {0: "pore", 2: "am"}, 1.0)} if with_blobs else {}
    return {**out, "electrode 20x10x10 um at 1.0 um": (coarse, DEFAULT_LEGEND, 1.0),
            "electrode 20x10x10 um at 0.5 um": (fine, DEFAULT_LEGEND, 0.5)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--porespy-python", default="/tmp/lbmpy-venv/bin/python")
    p.add_argument("--max-steps", type=int, default=150_000)
    p.add_argument("--write-results", action="store_true")
    p.add_argument("--blobs", action="store_true", help="add the wide-throat blob space (it fills slowly: "
                   "the lattice run goes to the step cap, ~40 min here)")
    a = p.parse_args()
    from electrovox.solvers.flow.impregnation import impregnate
    d = Path(tempfile.mkdtemp(prefix="evx-bench-imps-"))
    (d / "peer.py").write_text(PEER)
    rows = []
    for name, (lab, legend, vox) in media(a.blobs).items():
        pore = np.isin(lab, [i for i, n in legend.items() if n in ("pore", "crack")])
        np.save(d / "im.npy", pore)
        peer = None
        if a.porespy_python and Path(a.porespy_python).exists():
            out = subprocess.run([a.porespy_python, str(d / "peer.py"), str(d / "im.npy")], capture_output=True,
                                 text=True)
            peer = (json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0
                    else {"error": out.stderr[-400:]})
        t0 = time.perf_counter()
        angles = {"am": 30.0, "cbd": 30.0, "other": 30.0}
        r = impregnate(lab, legend, (vox,) * 3, contact_angle=angles, max_steps=a.max_steps)
        row = {"case": name, "porosity": float(pore.mean()), "evx_saturation": r["final_saturation"],
               "evx_air": r["entrapped_air_fraction"], "evx_steps": r["steps"], "evx_converged": r["converged"],
               "evx_reason": r["reason"], "evx_wall_s": time.perf_counter() - t0,
               "evx_trapped_air": sum(c["voxels"] for c in r["clusters"] if c["trapped"]) / max(1, int(pore.sum())),
               "peer": peer}
        rows.append(row)
        print(json.dumps(row), flush=True)
    report = render(rows, a)
    print(report)
    if a.write_results:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from impregnation import write_section
        write_section(report)


def render(rows, a) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    ver = next((r["peer"].get("version") for r in rows if r["peer"] and "version" in r["peer"]), "n/a")
    lines = ["## Impregnation: air left against PoreSpy's quasi-static imbibition", "",
             f"Run {now}, 2 cores (load average {os.getloadavg()[0]:.1f}); PoreSpy {ver} in its own venv.",
             "Command: `.venv/bin/python benchmarks/impregnation_porespy.py --porespy-python "
             "/tmp/lbmpy-venv/bin/python --write-results` (what is compared: the module docstring).", "",
             "| image | porosity | PoreSpy air left | EVX air left | EVX trapped pockets | EVX saturation | "
             "EVX steps | EVX stop | EVX wall s | PoreSpy wall s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pe = r["peer"] or {}
        pa = "-" if pe.get("air_fraction") is None else f"{pe['air_fraction']:.4f}"
        pw = "-" if pe.get("wall_s") is None else f"{pe['wall_s']:.1f}"
        lines.append(f"| {r['case']} | {r['porosity']:.3f} | {pa} | {r['evx_air']:.4f} | {r['evx_trapped_air']:.4f} | "
                     f"{r['evx_saturation']:.4f} | {r['evx_steps']} | {r['evx_reason']} | {r['evx_wall_s']:.0f} | "
                     f"{pw} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
