"""Segmentation: accuracy per SNR and throughput of the default chain (`segment_image`).

Accuracy: the project's electrode phantom (80 x 96 x 96 label voxels of 0.2 um, seeds 0 and 1)
imaged by the PFIB-SEM phantom at 0.2 x 0.1 x 0.1 um (z, y, x) with pore-back, curtaining and
drift on, at SNR 4, 6, 8, 12; per-phase IoU, worst volume-fraction error, crack fraction of
particles against the truth.  Side by side, the plain peer chain (3 x 3 median + Gaussian, then
multi-Otsu thresholds, no corrections: what scikit-image gives in three calls).

Throughput: the default chain on a 256^3 image (Mvoxel/s on this machine) and peak memory
(tracemalloc peak of numpy allocations in float32 volume copies, and ru_maxrss).

    .venv/bin/python benchmarks/segmentation.py [--n 256]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
from scipy import ndimage

from electrovox.filters.image.pipeline import segment_image
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.solvers.phantoms.imaging import simulate_fibsem

SP_L, SP_I = (0.2, 0.2, 0.2), (0.2, 0.1, 0.1)


def iou(a, b):
    return np.count_nonzero(a & b) / max(1, np.count_nonzero(a | b))


def scores(seg, truth):
    pc = lambda a: (a == 0) | (a == 3)  # noqa: E731
    cf = lambda a: np.count_nonzero(a == 3) / max(1, np.count_nonzero((a == 2) | (a == 3)))  # noqa: E731
    return (iou(seg == 2, truth == 2), iou(seg == 1, truth == 1), iou(pc(seg), pc(truth)),
            100 * max(abs(np.mean(seg == k) - np.mean(truth == k)) for k in range(4)),
            100 * (cf(seg) / cf(truth) - 1) if cf(truth) else float("nan"))


def peer(img):
    from skimage.filters import threshold_multiotsu
    d = ndimage.gaussian_filter(ndimage.median_filter(img.astype(np.float32), size=(1, 3, 3)), (0.5, 0.7, 0.7))
    return np.digitize(d, threshold_multiotsu(d, 3)).astype(np.uint8)


def _real_nrel():
    """A 40 x 48 x 48 crop of the real NREL volume (../shared/data/real), relabelled to the default
    legend (0 pore, 1 CBD, 2 am), or None when the shared data is not there."""
    import os
    from pathlib import Path
    path = Path(os.environ.get("EVX_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data" / "real" / \
        "nmc-1-cal_generatedCBD_bridge.tif"
    if not path.is_file():
        return None
    import tifffile
    v = tifffile.imread(path)[100:140, 100:148, 100:148]
    return np.choose(v, [0, 2, 1]).astype(np.uint8)        # file: 0 pore, 1 NMC, 2 CBD


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=256)
    args = ap.parse_args()
    print("### Default chain `segment_image`\n")
    print("Accuracy on electrode phantoms (80 x 96 x 96 label voxels of 0.2 um, image 0.2 x 0.1 x 0.1 um, "
          "pore-back + curtaining + drift on); ElectroVox vs the plain peer chain (median + Gaussian + "
          "multi-Otsu, no corrections).\n")
    print("| seed | SNR | IoU am | IoU CBD | IoU pore+crack | max fraction error (pp) | crack fraction error | "
          "peer IoU am / CBD / pore+crack | peer max fraction error (pp) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed in (0, 1):
        lab = generate_electrode((80, 96, 96), SP_L, seed=seed, d50_um=6.0)["labels"]
        for snr in (4, 6, 8, 12):
            r = simulate_fibsem(lab, SP_L, image_spacing=SP_I, snr=snr, seed=1000 + 10 * seed + snr)
            img, truth = r["image"], r["truth"]
            s = scores(segment_image(img, SP_I)["labels"], truth)
            p = scores(peer(img), truth)
            print(f"| {seed} | {snr} | {s[0]:.3f} | {s[1]:.3f} | {s[2]:.3f} | {s[3]:.2f} | {s[4]:+.1f} % | "
                  f"{p[0]:.3f} / {p[1]:.3f} / {p[2]:.3f} | {p[3]:.2f} |", flush=True)
    # other imaging conditions than the generator's defaults (the segmentation reads none of
    # them): grey levels, point spread, pore-back strength and depth, stronger artifacts
    variants = {
        "other grey levels (pore 0.1, CBD 0.5, am 0.9)": dict(grey_levels={"pore": 0.1, "cbd": 0.5, "am": 0.9,
                                                                           "crack": 0.1}),
        "CBD darker (0.35)": dict(grey_levels={"pore": 0.2, "cbd": 0.35, "am": 0.75, "crack": 0.2}),
        "PSF 0.1 / 0.07 / 0.07 um": dict(psf_sigma_um=(0.1, 0.07, 0.07)),
        "strong pore-back (0.5, 1 um deep)": dict(pore_back=0.5, pore_back_depth_um=1.0),
        "weak, short pore-back (0.15, 0.25 um)": dict(pore_back=0.15, pore_back_depth_um=0.25),
        "curtaining 0.15, drift 0.08": dict(curtaining=0.15, drift=0.08),
    }
    print("\nOther imaging conditions (seed 0 electrode, SNR 8) and other microstructures (SNR 8):\n")
    print("| condition | IoU am | IoU CBD | IoU pore+crack | max fraction error (pp) | crack fraction error |")
    print("|---|---|---|---|---|---|")
    lab = generate_electrode((80, 96, 96), SP_L, seed=0, d50_um=6.0)["labels"]
    for name, kw in variants.items():
        r = simulate_fibsem(lab, SP_L, image_spacing=SP_I, snr=8, seed=11, **kw)
        s = scores(segment_image(r["image"], SP_I)["labels"], r["truth"])
        print(f"| {name} | {s[0]:.3f} | {s[1]:.3f} | {s[2]:.3f} | {s[3]:.2f} | {s[4]:+.1f} % |", flush=True)
    # other microstructures: wide cracks (1.6 um, beyond the first closing width), and the real
    # NREL NMC geometry (particles from X-ray CT, MATBOX CBD bridges; no cracks) imaged the same way
    wide = generate_electrode((80, 96, 96), SP_L, seed=3, d50_um=8.0, crack_min_width_vox=8, cracks=0.06)["labels"]
    others = {"wide cracks (1.6 um), d50 8 um": (wide, SP_L)}
    real = _real_nrel()
    if real is not None:
        others["real NMC geometry (NREL nmc-1-cal, 40^3 x 0.398 um crop)"] = (real, (0.398,) * 3)
    # the study's PFIB voxels, 15.2 x 15.2 nm pixels under 100 nm slices (6.6 : 1), on a phantom at
    # 0.1 um (8 x 4 x 4 um, d50 3 um; an 80 x 263 x 263 image)
    pfib = generate_electrode((80, 40, 40), (0.1,) * 3, seed=2, d50_um=3.0)["labels"]
    others["PFIB voxels 0.1 x 0.0152 x 0.0152 um, d50 3 um"] = (pfib, (0.1,) * 3, (0.1, 0.0152, 0.0152))
    for name, spec in others.items():
        lab_o, sp_o = spec[:2]
        sp_img = spec[2] if len(spec) > 2 else SP_I
        r = simulate_fibsem(lab_o, sp_o, image_spacing=sp_img, snr=8, seed=12)
        s = scores(segment_image(r["image"], sp_img)["labels"], r["truth"])
        crack = f"{s[4]:+.1f} %" if np.isfinite(s[4]) else "no cracks"
        print(f"| {name} | {s[0]:.3f} | {s[1]:.3f} | {s[2]:.3f} | {s[3]:.2f} | {crack} |", flush=True)
    n = args.n
    # labels at 0.2 um, image at 0.2 x 0.1 x 0.1 um (z, y, x): (n, n/2, n/2) labels -> an n^3 image
    lab = generate_electrode((n, n // 2, n // 2), SP_L, seed=5, d50_um=8.0)["labels"]
    r = simulate_fibsem(lab, SP_L, image_spacing=(0.2, 0.1, 0.1), snr=8, seed=7)
    img = r["image"][:n, :n, :n]
    del r, lab
    nvox = img.size
    tracemalloc.start()
    t0 = time.perf_counter()
    res = segment_image(img, SP_I)
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    copies = peak / (4 * nvox)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    peer(img)
    wall_peer = time.perf_counter() - t0
    print(f"\nThroughput, image {img.shape} ({nvox / 1e6:.1f} Mvoxel, uint16): default chain {wall:.1f} s = "
          f"{nvox / 1e6 / wall:.2f} Mvoxel/s (steps, s: {res['report']['timings_s']}); peak numpy memory "
          f"{peak / 2**20:.0f} MB = {copies:.1f} float32 copies of the volume (tracemalloc), process peak RSS "
          f"{rss:.0f} MB. Peer chain (no corrections) {wall_peer:.1f} s (time ratio {wall / wall_peer:.1f}).")


if __name__ == "__main__":
    main()
