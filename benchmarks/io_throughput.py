"""Read/write throughput (MB/s) and peak memory of ElectroVox I/O on a ~1 GB volume.

Each case runs in its own child process so that its peak resident memory (ru_maxrss) is its
own.  Peers run side by side in the same run: tifffile and netCDF4 called directly with the
same layout and compression, so the ratio shows what the ElectroVox layer costs on top.

    .venv/bin/python benchmarks/io_throughput.py [--size-mb 1024] [--dir DIR]

Prints a markdown table (MB/s = volume bytes / wall time; peak RSS in MB and as a multiple of
the volume size).  A read is timed until every voxel has been summed once, so a memory-mapped
read pays for its page faults like an eager one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def make_volume(nbytes: int) -> np.ndarray:
    """uint8 greyscale volume [z, y, x] of about nbytes, with the texture of a tomogram
    (smooth grains + noise) so that compression behaves as on real data, not on zeros."""
    n = 1024 if nbytes >= 1024**3 else int(round((nbytes) ** (1 / 3)))
    nz = max(1, nbytes // (n * n))
    rng = np.random.default_rng(0)
    from scipy import ndimage
    block = ndimage.gaussian_filter(rng.random((64, n, n), dtype=np.float32), 3)
    block = ((block - block.min()) / (np.ptp(block) + 1e-9) * 200).astype(np.uint8)
    vol = np.empty((nz, n, n), np.uint8)
    for z0 in range(0, nz, 64):
        z1 = min(nz, z0 + 64)
        vol[z0:z1] = block[: z1 - z0]
        vol[z0:z1] += rng.integers(0, 40, size=(z1 - z0, n, n), dtype=np.uint8)
    return vol


def child(case: str, path: str, nbytes: int) -> dict:
    """Run one case in this process; return timing and peak memory."""
    sys.path.insert(0, str(ROOT))
    from electrovox import Volume
    from electrovox.io import read_volume, write_volume
    spacing = (0.1, 0.0152, 0.0152)
    if case.startswith("write"):
        vol = make_volume(nbytes)
        t0 = time.perf_counter()
        if case == "write-tiff-evx":
            write_volume(path, Volume(vol, spacing, name="image"), force=True)
        elif case == "write-tiff-peer":
            import tifffile
            tifffile.imwrite(path, vol, imagej=True, resolution=(1 / 0.0152, 1 / 0.0152),
                             metadata={"spacing": 0.1, "unit": "um", "axes": "ZYX"})
        elif case == "write-slices-peer":
            import tifffile
            os.makedirs(path, exist_ok=True)
            for i, sl in enumerate(vol):
                tifffile.imwrite(os.path.join(path, f"slice_{i:05d}.tif"), sl)
        elif case == "write-nc-evx":
            write_volume(path, Volume(vol, spacing, name="image"), force=True)
        elif case == "write-nc-peer":
            import netCDF4
            with netCDF4.Dataset(path, "w") as ds:
                for d, n in zip("zyx", vol.shape, strict=True):
                    ds.createDimension(d, n)
                from electrovox.io.netcdf import _chunks  # the same chunk layout as ElectroVox
                v = ds.createVariable("image", "u1", ("z", "y", "x"), zlib=True, complevel=4, shuffle=True,
                                      chunksizes=_chunks(vol.shape, 1))
                v[:] = vol
        dt = time.perf_counter() - t0
        size = vol.nbytes
    else:
        t0 = time.perf_counter()
        if case in ("read-tiff-evx", "read-nc-evx", "read-slices-evx"):
            v = read_volume(path, labels=False, spacing=spacing)
            arr = np.asarray(v.array)
            checksum = int(arr.sum(dtype=np.uint64))
        elif case == "read-tiff-peer":
            import tifffile
            arr = tifffile.imread(path)
            checksum = int(arr.sum(dtype=np.uint64))
        elif case == "read-slices-peer":
            import tifffile
            files = sorted(Path(path).glob("*.tif"))
            arr = tifffile.imread(files)
            checksum = int(arr.sum(dtype=np.uint64))
        elif case == "read-nc-peer":
            import netCDF4
            with netCDF4.Dataset(path) as ds:
                arr = ds["image"][:].data
            checksum = int(arr.sum(dtype=np.uint64))
        dt = time.perf_counter() - t0
        size = arr.nbytes
        _ = checksum
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": case, "seconds": dt, "MB": size / 1e6, "MB_s": size / 1e6 / dt, "peak_rss_MB": rss_mb}


CASES = [  # (case, file) in run order: writers first, then readers of what they wrote
    ("write-tiff-evx", "evx.tif"), ("write-tiff-peer", "peer.tif"), ("write-slices-peer", "slices"),
    ("write-nc-evx", "evx.nc"), ("write-nc-peer", "peer.nc"),
    ("read-tiff-evx", "evx.tif"), ("read-tiff-peer", "evx.tif"),
    ("read-slices-evx", "slices"), ("read-slices-peer", "slices"),
    ("read-nc-evx", "evx.nc"), ("read-nc-peer", "evx.nc"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=1024)
    ap.add_argument("--dir", default=None, help="scratch folder (default: a temporary one, removed after)")
    ap.add_argument("--repeats", type=int, default=2,
                    help="runs of every case; the fastest counts (page cache and disk write-back vary)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    nbytes = int(args.size_mb * 2**20)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], nbytes)))
        return
    work = Path(args.dir or tempfile.mkdtemp(prefix="evx-bench-io-"))
    work.mkdir(parents=True, exist_ok=True)
    by = {}
    try:
        for _ in range(max(1, args.repeats)):
            for case, name in CASES:
                r = subprocess.run([sys.executable, __file__, "--size-mb", str(args.size_mb), "--child", case,
                                    str(work / name)], stdout=subprocess.PIPE, text=True, check=True)
                row = json.loads(r.stdout.strip().splitlines()[-1])
                print(f"  {case}: {row['MB_s']:.0f} MB/s", file=sys.stderr)
                if case not in by or row["seconds"] < by[case]["seconds"]:
                    by[case] = row
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    rows = [by[c] for c, _ in CASES]
    vol_mb = rows[0]["MB"]
    print(f"Best of {max(1, args.repeats)} runs per case. "
          f"Volume: {vol_mb:.0f} MB uint8 greyscale, [z, y, x]; netCDF zlib level 4 + shuffle, "
          "~4 MiB chunks of whole slices")
    print()
    print("| case | MB/s | seconds | peak RSS MB | peak RSS / volume | peer MB/s | ElectroVox / peer |")
    print("|---|---|---|---|---|---|---|")
    for case, _ in CASES:
        if not case.endswith("-evx"):
            continue
        r = by[case]
        p = by.get(case.replace("-evx", "-peer"))
        peer = f"{p['MB_s']:.0f} | {r['MB_s'] / p['MB_s']:.2f}" if p else "- | -"
        print(f"| {case} | {r['MB_s']:.0f} | {r['seconds']:.2f} | {r['peak_rss_MB']:.0f} | "
              f"{r['peak_rss_MB'] / vol_mb:.2f} | {peer} |")
    print()
    print("Peers: write-tiff-peer = tifffile.imwrite (ImageJ), read-tiff-peer = tifffile.imread, "
          "read-slices-peer = tifffile.imread(list of files), nc peers = netCDF4 directly with the same "
          "chunking/compression.")
    for case in ("write-tiff-peer", "write-slices-peer", "write-nc-peer"):
        r = by[case]
        print(f"- {case}: {r['MB_s']:.0f} MB/s, peak RSS {r['peak_rss_MB']:.0f} MB")


if __name__ == "__main__":
    main()
