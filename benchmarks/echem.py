"""Discharge: wall time, memory and iteration counts of the 3D half-cell model on the sample.

What is timed: ``electrovox.solvers.echem.discharge.discharge`` (defaults: C/2 lithiation of NMC811
from the fully delithiated state to 3.5 V, 100 output rows, Landesfeind 2019 electrolyte, no CEI)
on a 33 x 33 x 70 um sub-volume of the real NREL sample (``../shared/data/real/
nmc-1-cal_generatedCBD_bridge.tif``, 0.398 um voxels, legend 0=pore,1=am,2=cbd; z = 0 taken as the
collector side), resampled (majority of the covered labels) to the voxel sizes asked for: the
issue's 0.5 um (about 0.6 M voxels) and 0.33 um (2.2 M voxels, the study's COMSOL mesh size), and
coarser ones for the scaling.  Each size runs in its own subprocess (peak memory = its
``ru_maxrss``); reported: voxels, unknowns (solid + electrolyte potentials), implicit steps,
Newton and linear iterations, wall time, capacity and mean overpotential.

The peer for this model is PyBaMM's DFN, a homogenised 1D model: its speed is not comparable
(``benchmarks/echem_pybamm.py`` compares the answers on lamellae).

    .venv/bin/python benchmarks/echem.py [VOXEL_UM ...]       # default: 1.0 0.75 0.5
    .venv/bin/python benchmarks/echem.py --intervals 6 0.33   # the first 6 output intervals only
    .venv/bin/python benchmarks/echem.py --log 0.5            # a line per implicit step on stderr

A partial run (``--intervals N``) measures the time per step and the peak memory of a size whose
whole discharge does not fit the session; it includes the start-up (mesh, first hierarchies).

Writes JSON lines to ``/tmp/evx-bench/echem/`` and prints a table.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "real" / "nmc-1-cal_generatedCBD_bridge.tif"
BOX_UM = (70.0, 33.0, 33.0)           # z, y, x: the study's sub-volume


def _one(voxel_um: float, intervals: int | None = None) -> dict:
    import numpy as np
    import tifffile

    from electrovox.filters.image.resample import resample_labels
    from electrovox.solvers.echem.discharge import discharge

    legend = {0: "pore", 1: "am", 2: "cbd"}
    full = tifffile.imread(SAMPLE)
    n = [int(round(b / 0.398)) for b in BOX_UM]
    crop = np.ascontiguousarray(full[:n[0], :n[1], :n[2]])
    lab, sp, _ = resample_labels(crop, (0.398,) * 3, voxel_um)
    t0 = time.perf_counter()
    r = discharge(lab, legend, sp, max_intervals=intervals)
    wall = time.perf_counter() - t0
    return {"voxel_um": voxel_um, "shape": list(lab.shape), "voxels": int(lab.size),
            "unknowns": r["unknowns"], "steps": r["steps"],
            "newton": r["newton_iterations"], "linear": r["linear_iterations"], "wall_s": wall,
            "capacity_mAh_g": r["capacity_mAh_g"], "mean_overpotential_mV": r["mean_overpotential_mV"],
            "cutoff_reached": r["cutoff_reached"], "reason": r["reason"], "intervals": intervals,
            "simulated_s": float(r["history"]["time_s"][-1]), "step_limits": r["step_limits"],
            "damped_voxels": r["damped_voxels"],
            "peak_rss_GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def main(argv) -> None:
    if "--log" in argv:
        # one line per implicit step on stderr (the --one subprocess inherits it)
        argv = [a for a in argv if a != "--log"]
        os.environ["EVX_ECHEM_LOG"] = "1"
    if os.environ.get("EVX_ECHEM_LOG"):
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        logging.getLogger("electrovox.echem").setLevel(logging.DEBUG)
    if argv and argv[0] == "--one":
        print(json.dumps(_one(float(argv[1]), int(argv[2]) if len(argv) > 2 else None)))
        return
    intervals = None
    if argv and argv[0] == "--intervals":
        intervals, argv = int(argv[1]), argv[2:]
    sizes = [float(v) for v in argv] or [1.0, 0.75, 0.5]
    out = Path("/tmp/evx-bench/echem")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for v in sizes:
        log = os.environ.get("EVX_ECHEM_LOG")
        proc = subprocess.run([sys.executable, __file__, "--one", str(v)] + ([str(intervals)] if intervals else []),
                              stdout=subprocess.PIPE, stderr=None if log else subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT.parent)})
        if proc.returncode:
            print((proc.stderr or "")[-2000:], file=sys.stderr)
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(row)
        with open(out / "results.jsonl", "a") as f:
            f.write(json.dumps({**row, "date": time.strftime("%Y-%m-%d %H:%M")}) + "\n")
        print(f"{v:5.3f} um {row['voxels']:>9,d} voxels {row['unknowns']:>9,d} unknowns: {row['wall_s']:8.1f} s, "
              f"{row['steps']} steps, {row['newton']} Newton, {row['linear']} linear, "
              f"{row['simulated_s']:.0f} s simulated, "
              f"{row['capacity_mAh_g']:.1f} mAh/g, {row['mean_overpotential_mV']:.1f} mV, "
              f"peak {row['peak_rss_GB']:.2f} GB; next step set by "
              + ", ".join(f"{k} {n}" for k, n in row.get("step_limits", {}).items()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
