"""Phantom generation: time and peak memory of the electrode generator and the imaging phantom.

For 256^3 and 512^3 label volumes (0.25 um voxels: 64 and 128 um boxes, D50 = 10 um, the study's
fractions) and their PFIB-SEM-like image on the same grid size.  Side by side in the same run, the
peer PoreSpy (``porespy.generators.polydisperse_spheres``, a benchmark-only dependency) makes a
polydisperse sphere packing of the same size, solid fraction (0.62 = active + cracks) and
log-normal size distribution: the ratio compares ElectroVox's particle packing with it (PoreSpy
places overlapping spheres without an overlap limit, so it is the simpler task).

    .venv/bin/python benchmarks/phantom_generation.py [--sizes 256 512]

Each case runs in its own child process (peak RSS = ru_maxrss of that process).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VOXEL = 0.25  # um
D50 = 10.0  # um
SIGMA = 0.38  # log-normal sigma of ElectroVox's default PSD


def child(case: str, n: int) -> dict:
    sys.path.insert(0, str(ROOT))
    shape = (n, n, n)
    spacing = (VOXEL,) * 3
    t0 = time.perf_counter()
    extra = {}
    if case == "pack-evx":
        from electrovox.solvers.phantoms.packing import pack_particles
        out = pack_particles(shape, spacing, 0.62, seed=1, d50_um=D50)
        extra = {"solid_fraction": float((out["particles"] > 0).mean()), "particles": int(len(out["radii_um"]))}
    elif case == "pack-porespy":
        import porespy as ps
        import scipy.stats as st
        dist = st.lognorm(s=SIGMA, scale=D50 / 2 / VOXEL)  # radii in voxels
        im = ps.generators.polydisperse_spheres(shape=list(shape), porosity=0.38, dist=dist, nbins=10,
                                                r_min=3, seed=1)
        extra = {"solid_fraction": float((~im.astype(bool)).mean())}
    elif case == "electrode-evx":
        from electrovox.solvers.phantoms.electrode import generate_electrode
        out = generate_electrode(shape, spacing, seed=1)
        extra = {"fractions": out["report"]["fractions"]}
    elif case == "image-evx":
        from electrovox.solvers.phantoms.electrode import generate_electrode
        from electrovox.solvers.phantoms.imaging import simulate_fibsem
        labels = generate_electrode(shape, spacing, seed=1)["labels"]
        t0 = time.perf_counter()  # the image only
        out = simulate_fibsem(labels, spacing, image_spacing=spacing, snr=8, seed=1)
        extra = {"image_shape": list(out["image"].shape), "dtype": str(out["image"].dtype)}
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": case, "n": n, "seconds": dt, "peak_rss_MB": rss, **extra}


CASES = ["pack-evx", "pack-porespy", "electrode-evx", "image-evx"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[256, 512])
    ap.add_argument("--timeout", type=int, default=1200, help="seconds a case may run (default 1200)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    rows = []
    for n in args.sizes:
        for case in CASES:
            try:
                r = subprocess.run([sys.executable, __file__, "--child", case, str(n)], stdout=subprocess.PIPE,
                                   text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                rows.append({"case": case, "n": n, "seconds": float("nan"), "peak_rss_MB": float("nan"),
                             "error": f"stopped after {args.timeout} s"})
                print(f"  {case} {n}^3: stopped after {args.timeout} s", file=sys.stderr)
                continue
            if r.returncode != 0:
                rows.append({"case": case, "n": n, "seconds": float("nan"), "peak_rss_MB": float("nan"),
                             "error": f"exit {r.returncode}"})
            else:
                rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(f"  {case} {n}^3: {rows[-1]['seconds']:.1f} s", file=sys.stderr)
    print(f"Voxel {VOXEL} um (boxes {', '.join(f'{n * VOXEL:g} um' for n in args.sizes)}), D50 {D50} um, "
          "fractions 58 % am / 9 % cbd / 4 % cracks / 29 % pores; image on the same grid, SNR 8, all artifacts on.")
    print()
    print("| case | size | seconds | peak RSS MB | peak RSS / uint8 volume | notes |")
    print("|---|---|---|---|---|---|")
    by = {(r["case"], r["n"]): r for r in rows}
    for r in rows:
        vol_mb = r["n"] ** 3 / 2**20
        note = ""
        if "solid_fraction" in r:
            note = f"solid fraction {r['solid_fraction']:.4f}"
            if "particles" in r:
                note += f", {r['particles']} particles"
        if "fractions" in r:
            note = ", ".join(f"{k} {v:.4f}" for k, v in r["fractions"].items())
        if "error" in r:
            note = r["error"]
        print(f"| {r['case']} | {r['n']}^3 | {r['seconds']:.1f} | {r['peak_rss_MB']:.0f} | "
              f"{r['peak_rss_MB'] / vol_mb:.1f} | {note} |")
    print()
    for n in args.sizes:
        a, b = by.get(("pack-evx", n)), by.get(("pack-porespy", n))
        if a and b and np.isfinite(a["seconds"]) and np.isfinite(b["seconds"]):
            print(f"- {n}^3 particle packing: ElectroVox {a['seconds']:.1f} s vs PoreSpy {b['seconds']:.1f} s "
                  f"(time ratio ElectroVox / PoreSpy = {a['seconds'] / b['seconds']:.2f}; peak memory ratio "
                  f"{a['peak_rss_MB'] / b['peak_rss_MB']:.2f})")


if __name__ == "__main__":
    main()
