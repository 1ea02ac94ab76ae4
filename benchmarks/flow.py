"""Flow: lattice Boltzmann throughput (D3Q19 TRT, float32), ElectroVox's sparse lattice against lbmpy (CPU).

What is timed: time steps of a body-force-driven flow through a porous medium, every axis periodic,
halfway bounce-back on the solid voxels, started from rest, tau = 1 (TRT, magic parameter 3/16).

- ElectroVox: ``electrovox.solvers.flow.lbm.SparseLattice(fluid, force=(0, 0, F), omegas=
  relaxation_rates(1.0), dtype=np.float32)``, ``.step_pair(n)`` (2 n steps over the fluid voxels
  only: AA pattern in place, array-of-structures populations ``A[n_fluid, 19]``, int32 link table
  ``[19, n_fluid]`` with the bounce-back folded in, numba ``prange``).  Rate: million fluid-lattice
  updates per second (MFLUPS) = n_fluid * steps / wall.  Its first ``step_pair`` compiles the numba
  kernels, or loads them from the compile cache where the solver keeps one: the run points numba's
  and the solver's caches at fresh folders, and times a small lattice's first pair (minus a warm
  pair) with them empty (the compile) and filled (the load).  Run with ``NUMBA_NUM_THREADS`` = 2
  and 1.  A plane channel (exact Poiseuille profile) checks both solvers solve the same problem.
- lbmpy (the peer, in its own environment: ``pip install lbmpy porespy cython``):
  ``LatticeBoltzmannStep`` over the whole periodic box, D3Q19 TRT with ``relaxation_rate = 1``
  (lbmpy derives the second rate from the magic number 3/16), Guo force along z, float32, OpenMP on
  the same number of threads, ``NoSlip`` on every solid voxel (an index list of boundary links).
  Its code generation + C compile and its boundary set-up are timed apart.  It updates every cell
  of the box: MLUPS over all cells, and the fluid-equivalent rate = MLUPS x fluid fraction, what it
  delivers per fluid voxel (the figure compared with ElectroVox).  Optionally (first size) the same
  box without walls, as in the reference figures.
- Memory bandwidth, measured in the same run (numba, ``prange``): STREAM triad ``a = b + s c``
  (float64, 256 MB arrays, best of 5; counted 3 x 256 MB per pass, the STREAM convention, and
  4 x with the write-allocate read of ``a``), an in-place update ``a += s b`` (read 2, write 1 to
  a line just read: no write-allocate), and the LBM's own memory pattern with the arithmetic left
  out ("move-only": the same blocks, gathers and scatters through the same link table as
  ElectroVox's kernels, on the same lattice): its rate is the most this access pattern can deliver;
  and "same-bytes": contiguous passes over the lattice's own arrays that move exactly the model's
  bytes (populations in place; again with the link rows read), the model's roofline on those arrays.
- Bytes per fluid update (float32): even step reads and writes the 19 populations of the voxel
  (2 x 76 = 152 B); odd step the same at neighbour addresses (152 B) plus 18 rows of the link table
  (72 B: the rest population needs no link; 76 B if counted) -> (152 + 224) / 2 = 188 B on average
  (190 B with the 19th row).  Roofline = bandwidth / 188 B.

Each measurement runs in its own fresh subprocess that loads the medium from a .npy file.  Peak
memory = the subprocess's ``ru_maxrss`` (interpreter, imports and volume included); bytes per
fluid voxel = growth of the resident set (``VmRSS``) from just before building the lattice to just
after, divided by n_fluid; the set-up's transient peak (``VmHWM`` growth) is given too.

Media: (a) PoreSpy ``blobs(shape, porosity, blobiness=1.5, seed)`` (made with the peer's
interpreter; where PoreSpy is missing, the Gaussian-filtered noise of ``tortuosity.blobs``, and
the table says so); (b) the NREL NMC volume (``--real``, labels 0 = pore, 1 = am, 2 = cbd; fluid =
label 0).

    .venv/bin/python benchmarks/flow.py [--sizes 128 256] [--steps 40] --lbmpy-python /tmp/lbmpy-venv/bin/python
    .venv/bin/python benchmarks/run.py flow -- --lbmpy-python /tmp/lbmpy-venv/bin/python
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARK = "@@RESULT "
REAL = Path("/work/shared/data/real/nmc-1-cal_generatedCBD_bridge.tif")
FORCE = 1e-6            # body force density along z, lattice units (small: Stokes flow)
TAU = 1.0
Q = 19
#: bytes moved per fluid update, float32 populations, int32 link table (see the module docstring)
BYTES_EVEN = 2 * Q * 4                   # 152
BYTES_ODD = 2 * Q * 4 + (Q - 1) * 4      # 224
BYTES_PER_UPDATE = (BYTES_EVEN + BYTES_ODD) / 2   # 188
THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: the study's volume: 33 x 33 x 70 um at 100 nm, porosity ~0.33
STUDY_SHAPE, STUDY_POROSITY = (700, 330, 330), 0.33


def _status_kb(key: str) -> float:
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return float("nan")


def rss_mb() -> float:
    """Current resident set (VmRSS), MB."""
    return _status_kb("VmRSS") / 1024.0


def hwm_mb() -> float:
    """Peak resident set so far (VmHWM = ru_maxrss), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ----------------------------------------------------------------------------------------- media

def media_porespy(n: int, porosity: float, seed: int, out: str) -> dict:
    """PoreSpy blobs (True = pore) saved as uint8, 1 = fluid (runs in the peer's interpreter)."""
    import porespy

    t0 = time.perf_counter()
    im = porespy.generators.blobs([n, n, n], porosity=porosity, blobiness=1.5, seed=seed)
    np.save(out, np.ascontiguousarray(im, dtype=np.uint8))
    return {"kind": "media", "generator": f"porespy {porespy.__version__} generators.blobs", "wall_s":
            time.perf_counter() - t0, "porosity": float(im.mean()), "peak_mb": hwm_mb()}


# -------------------------------------------------------------------------------- bandwidth (numba)

def _stream_kernels():
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def triad(a, b, c, s):
        for i in prange(a.size):
            a[i] = b[i] + s * c[i]

    @njit(parallel=True, cache=False)
    def update(a, b, s):
        for i in prange(a.size):
            a[i] = a[i] + s * b[i]

    return triad, update


def child_stream(mb: int, repeats: int) -> dict:
    """Best-of-``repeats`` STREAM triad and in-place update, float64 arrays of ``mb`` MB each."""
    import numba

    triad, update = _stream_kernels()
    n = mb * 2**20 // 8
    a, b, c = np.zeros(n), np.full(n, 1.0), np.full(n, 2.0)   # touched: pages mapped before timing
    triad(a[:16], b[:16], c[:16], 3.0)                       # compile
    update(a[:16], b[:16], 3.0)
    tt, tu = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        triad(a, b, c, 3.0)
        tt.append(time.perf_counter() - t0)
    for _ in range(repeats):
        t0 = time.perf_counter()
        update(a, b, 1e-9)
        tu.append(time.perf_counter() - t0)
    nbytes = 8 * n
    return {"kind": "stream", "threads": numba.get_num_threads(), "array_mb": nbytes / 1e6,
            "triad_3_gbs": 3 * nbytes / min(tt) / 1e9, "triad_4_gbs": 4 * nbytes / min(tt) / 1e9,
            "update_3_gbs": 3 * nbytes / min(tu) / 1e9,
            "triad_3_median_gbs": 3 * nbytes / float(np.median(tt)) / 1e9, "wall_s": sum(tt) + sum(tu),
            "peak_mb": hwm_mb()}


def _move_kernels(block: int):
    """The AA pattern's memory traffic with no collision: the ElectroVox kernels' loads and stores."""
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def even(A, opp):
        n = A.shape[0]
        for blk in prange((n + block - 1) // block):
            n0 = blk * block
            nn = min(block, n - n0)
            g = np.empty((Q, block), dtype=A.dtype)
            for q in range(Q):
                for b in range(nn):
                    g[q, b] = A[n0 + b, q]
            for q in range(Q):
                o = opp[q]
                for b in range(nn):
                    A[n0 + b, o] = g[q, b]

    @njit(parallel=True, cache=False)
    def odd(A, nb, opp):
        n = A.shape[0]
        Af = A.reshape(-1)
        for blk in prange((n + block - 1) // block):
            n0 = blk * block
            nn = min(block, n - n0)
            g = np.empty((Q, block), dtype=A.dtype)
            for b in range(nn):
                g[0, b] = A[n0 + b, 0]
            for q in range(1, Q):
                o = opp[q]
                for b in range(nn):
                    g[q, b] = Af[nb[o, n0 + b]]
            for b in range(nn):
                A[n0 + b, 0] = g[0, b]
            for q in range(1, Q):
                for b in range(nn):
                    Af[nb[q, n0 + b]] = g[q, b]

    return even, odd


def _same_bytes_kernels():
    """Contiguous passes over the lattice's own arrays moving the model's bytes: the roofline on them."""
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def even(Af, s):                    # 19 populations read and written in place: 152 B per voxel
        for i in prange(Af.size):
            Af[i] = Af[i] * s

    @njit(parallel=True, cache=False)
    def odd(Af, links, s):              # the same + 18 link rows read: 224 B per voxel
        for i in prange(Af.size):
            Af[i] = Af[i] * s
        acc = 0
        for i in prange(links.size):
            acc += links[i]
        return acc

    return even, odd


# ------------------------------------------------------------------------------------- ElectroVox

def channel() -> np.ndarray:
    """Plane channel, uint8 [z, y, x] = [4, 4, 12], 1 = fluid: solid layer at x = 0, periodic."""
    f = np.ones((4, 4, 12), np.uint8)
    f[:, :, 0] = 0
    return f


def channel_error(uz_x: np.ndarray) -> dict:
    """Mean u_z per x layer against the exact halfway-bounce-back Poiseuille profile (TRT, 3/16)."""
    x = np.arange(1, 12)
    nu = (TAU - 0.5) / 3.0
    exact = FORCE / (2 * nu) * (x - 0.5) * (11.5 - x)
    got = np.asarray(uz_x, dtype=np.float64)[1:]
    return {"max_rel_err": float(np.abs(got - exact).max() / exact.max()),
            "offset_in_F": float((got - exact).mean() / FORCE)}


def _evx_lattice(fluid):
    sys.path.insert(0, str(ROOT))
    from electrovox.solvers.flow.lbm import SparseLattice, relaxation_rates
    return SparseLattice(fluid, force=(0.0, 0.0, FORCE), omegas=relaxation_rates(TAU), dtype=np.float32)


def child_evx_jit(pairs: int = 1500) -> dict:
    """Kernel compile (or cache load) on a small lattice, then the plane-channel check."""
    import numba

    t0 = time.perf_counter()
    lat = _evx_lattice(channel().astype(bool))          # imports electrovox
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lat.step_pair(1)                                    # numba: compile, or load from its cache
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    lat.step_pair(1)
    warm = time.perf_counter() - t0
    lat.step_pair(pairs - 2)
    _rho, u = lat.moments()
    uz = lat.scatter(u[:, 2])                           # [z, y, x]
    return {"kind": "evx-jit", "threads": numba.get_num_threads(), "import_s": import_s, "first_pair_s": first,
            "warm_pair_s": warm, "compile_s": first - warm, "steps": 2 * pairs,
            **channel_error(uz.mean(axis=(0, 1))), "wall_s": first, "peak_mb": hwm_mb()}


def _reset_hwm() -> bool:
    """Reset the process's peak resident set (VmHWM) to the current one (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child_electrovox(path: str, steps: int, repeats: int, warm_pairs: int) -> dict:
    import numba

    sys.path.insert(0, str(ROOT))
    from electrovox.solvers.flow import kernels as evx_kernels
    from electrovox.solvers.flow.lattice import OPP, bytes_per_fluid_voxel

    # kernels first, on a tiny lattice (compiled, or loaded from the cache), so that the memory
    # measured below is the lattice's alone
    t0 = time.perf_counter()
    _evx_lattice(channel().astype(bool)).step_pair(1)
    kernels_s = time.perf_counter() - t0
    vol = np.load(path)
    fluid = vol.astype(bool)
    del vol
    reset = _reset_hwm()
    base_rss = rss_mb()
    t0 = time.perf_counter()
    lat = _evx_lattice(fluid)
    build_s = time.perf_counter() - t0
    nf = int(lat.n_fluid)
    t0 = time.perf_counter()
    lat.step_pair(1)                                    # the first pair touches every page
    first_pair_s = time.perf_counter() - t0
    held_rss, setup_hwm = rss_mb(), _status_kb("VmHWM") / 1024.0
    lat.step_pair(1 + warm_pairs)
    n_steps = 2 * (steps // 2)

    def window(fn):
        t0 = time.perf_counter()
        fn()
        return nf * n_steps / (time.perf_counter() - t0) / 1e6

    rates = [window(lambda: lat.step_pair(steps // 2)) for _ in range(repeats)]
    total_steps = 4 + 2 * warm_pairs + repeats * n_steps
    run_hwm = hwm_mb()
    _rho, u = lat.moments()                             # (j + F/2) / rho, float64
    uz_mean = float(u[:, 2].mean())
    del _rho, u
    finite = bool(np.isfinite(lat.A).all())
    # the same loads and stores without the collision, on the same lattice; windows alternate with
    # the solver's own, so that both see the same load on a shared machine (the flow state is no
    # longer meaningful from here: it is not checked again)
    even, odd = _move_kernels(evx_kernels.BLOCK)
    opp = np.asarray(OPP, dtype=np.int64)
    even(lat.A, opp)
    odd(lat.A, lat.nb, opp)                             # compile

    def move():
        for _ in range(steps // 2):
            even(lat.A, opp)
            odd(lat.A, lat.nb, opp)

    same_even, same_odd = _same_bytes_kernels()
    Af, links, one = lat.A.reshape(-1), lat.nb[1:].reshape(-1), np.float32(1.0000001)
    same_even(Af[:64], one)
    same_odd(Af[:64], links[:64], one)                  # compile

    def same():
        for _ in range(steps // 2):
            same_even(Af, one)
            same_odd(Af, links, one)

    paired, moves, sames = [], [], []
    for _ in range(repeats):
        paired.append(window(lambda: lat.step_pair(steps // 2)))
        moves.append(window(move))
        sames.append(window(same))
    return {"kind": "electrovox", "threads": numba.get_num_threads(), "numba": numba.__version__,
            "n_fluid": nf, "cells": int(fluid.size), "steps": n_steps, "mflups": rates + paired,
            "paired_mflups": paired, "move_mflups": moves, "same_mflups": sames, "kernels_s": kernels_s,
            "build_s": build_s, "first_pair_s": first_pair_s,
            "base_mb": base_rss, "held_mb": held_rss, "bytes_per_fluid": (held_rss - base_rss) * 2**20 / nf,
            "setup_peak_bytes_per_fluid": (setup_hwm - base_rss) * 2**20 / nf if reset else float("nan"),
            "nominal_bytes_per_fluid": bytes_per_fluid_voxel(np.float32),
            "peak_mb": run_hwm, "uz_mean": uz_mean, "total_steps": total_steps,
            "finite": finite, "link_dtype": str(lat.nb.dtype)}


# ------------------------------------------------------------------------------------------ lbmpy

def _lbmpy_step(solid, threads: int, walls: bool):
    """LatticeBoltzmannStep over the periodic box ``solid`` [x, y, z]; returns (step, codegen s, boundary s)."""
    import pystencils as ps
    from lbmpy import ForceModel, LBMConfig, LBStencil, Method, Stencil
    from lbmpy.boundaries import NoSlip
    from lbmpy.lbstep import LatticeBoltzmannStep

    shape = solid.shape
    t0 = time.perf_counter()
    cfg = ps.CreateKernelConfig(target=ps.Target.CPU, default_dtype="float32")
    cfg.cpu.openmp.enable = True
    cfg.cpu.openmp.num_threads = threads
    lbc = LBMConfig(stencil=LBStencil(Stencil.D3Q19), method=Method.TRT, relaxation_rate=1.0 / TAU,
                    force_model=ForceModel.GUO, force=(0.0, 0.0, FORCE), compressible=True)
    step = LatticeBoltzmannStep(domain_size=shape, periodicity=True, lbm_config=lbc, config=cfg, name="lb")
    codegen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    if walls:
        # midpoints of every cell, ghost layers included (-0.5 .. n + 0.5): the ghost layers hold the
        # periodic copies of the solid, else the links across the periodic seam are not bounced back
        def mask(x, y, z):
            return solid[np.floor(x).astype(np.int64) % shape[0], np.floor(y).astype(np.int64) % shape[1],
                         np.floor(z).astype(np.int64) % shape[2]]
        step.boundary_handling.set_boundary(NoSlip(), mask_callback=mask, ghost_layers=True)
        step.boundary_handling.prepare()
    return step, codegen_s, time.perf_counter() - t0


def child_lbmpy_channel(threads: int, steps: int = 3000) -> dict:
    solid = np.ascontiguousarray(~channel().astype(bool).transpose(2, 1, 0))
    step, codegen_s, _ = _lbmpy_step(solid, threads, True)
    step.run(steps)
    u = step.data_handling.gather_array(step.velocity_data_name)     # [x, y, z, 3]
    return {"kind": "lbmpy-channel", "codegen_s": codegen_s, "steps": steps,
            **channel_error(np.asarray(u[..., 2], np.float64).mean(axis=(1, 2))), "wall_s": 0.0,
            "peak_mb": hwm_mb()}


def child_lbmpy(path: str, steps: int, repeats: int, warm_pairs: int, threads: int, walls: bool) -> dict:
    import lbmpy
    import pystencils as ps

    vol = np.load(path)
    fluid_zyx = vol.astype(bool)
    del vol
    nf = int(fluid_zyx.sum())
    solid = np.ascontiguousarray(~fluid_zyx.transpose(2, 1, 0))     # lbmpy indexes (x, y, z)
    del fluid_zyx
    base_rss = rss_mb()
    step, codegen_s, boundary_s = _lbmpy_step(solid, threads, walls)
    t0 = time.perf_counter()
    step.run(2)                                         # first call: boundary kernel compile, caches
    first_s = time.perf_counter() - t0
    setup_rss = rss_mb()                                # every array touched by now
    step.run(2 * warm_pairs + 2)
    step.pre_run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step.time_step()
        times.append(time.perf_counter() - t0)
    step.post_run()
    run_hwm = hwm_mb()
    u = step.data_handling.gather_array(step.velocity_data_name)     # (x, y, z, 3), no ghost layers
    uz_mean = float(np.asarray(u[..., 2], dtype=np.float64)[~solid].mean()) if walls else float("nan")
    cells = int(solid.size)
    rates = [cells * steps / t / 1e6 for t in times]
    return {"kind": "lbmpy", "lbmpy": lbmpy.__version__, "pystencils": ps.__version__, "threads": threads,
            "walls": walls, "cells": cells, "n_fluid": nf, "steps": steps, "times": times, "mlups": rates,
            "fluid_mlups": [r * nf / cells for r in rates], "codegen_s": codegen_s, "boundary_s": boundary_s,
            "first_run_s": first_s, "omegas": [float(w) for w in step.lbm_config.relaxation_rates],
            "bytes_per_cell": (setup_rss - base_rss) * 2**20 / cells, "peak_mb": run_hwm, "uz_mean": uz_mean,
            "total_steps": 2 + 2 * warm_pairs + 2 + repeats * steps,
            "finite": bool(np.isfinite(np.asarray(u)).all())}


# ----------------------------------------------------------------------------------------- driver

def run_child(python: str, args: list, env: dict | None = None, label: str = "") -> dict:
    cmd = [python, str(Path(__file__).resolve()), *args]
    print(f"  {label} (load {os.getloadavg()[0]:.2f}) ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stdout.splitlines()[-5:])
        raise RuntimeError(f"{label} child failed (exit {proc.returncode}): {tail}")
    res = json.loads(lines[-1][len(MARK):])
    short = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items() if not isinstance(v, list)}
    print(f"  {label}: {json.dumps(short)[:400]}", file=sys.stderr, flush=True)
    return res


def threads_env(n: int, extra: dict | None = None) -> dict:
    return {**{v: str(n) for v in THREAD_VARS}, **(extra or {})}


def peer_python(arg: str | None, module: str) -> str | None:
    """An interpreter that imports ``module`` (this one first), or None."""
    if importlib.util.find_spec(module) is not None:
        return sys.executable
    for py in (arg, os.environ.get("LBMPY_PYTHON")):
        if py and subprocess.run([py, "-c", f"import {module}"], capture_output=True).returncode == 0:
            return py
    return None


def med(xs) -> float:
    return float(np.median(xs))


def top(xs) -> float:
    return float(max(xs))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256], help="blob media n^3")
    p.add_argument("--porosity", type=float, default=0.35)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--steps", type=int, default=40, help="time steps per timed window (even)")
    p.add_argument("--repeats", type=int, default=3, help="timed windows per run (the median is reported)")
    p.add_argument("--warm-pairs", type=int, default=2, help="step pairs after the first two, untimed")
    p.add_argument("--threads", type=int, nargs="+", default=[2, 1],
                   help="thread counts (numba for ElectroVox, OpenMP for lbmpy); the first is the headline")
    p.add_argument("--lbmpy-threads", type=int, nargs="+", default=None, help="lbmpy's (default: --threads)")
    p.add_argument("--real", default=str(REAL), help="NREL label volume (0 = pore); '' to skip")
    p.add_argument("--lbmpy-python", default=None, help="interpreter with lbmpy (and porespy, cython) "
                   "installed (or LBMPY_PYTHON)")
    p.add_argument("--no-lbmpy", action="store_true")
    p.add_argument("--no-walls-case", action="store_true", help="skip lbmpy without walls (first size)")
    p.add_argument("--stream-mb", type=int, default=256)
    p.add_argument("--write-results", action="store_true",
                   help="also write the section '## Flow (lattice Boltzmann)' of benchmarks/RESULTS.md")
    p.add_argument("--child", choices=["media", "stream", "evx-jit", "electrovox", "lbmpy", "lbmpy-nowalls",
                                       "lbmpy-channel"], help=argparse.SUPPRESS)
    p.add_argument("--volume", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.steps % 2:
        p.error("--steps must be even (ElectroVox advances in pairs)")
    if a.child:
        th = (a.lbmpy_threads or a.threads)[0]
        res = {"media": lambda: media_porespy(a.n, a.porosity, a.seed, a.volume),
               "stream": lambda: child_stream(a.stream_mb, 5),
               "evx-jit": child_evx_jit,
               "electrovox": lambda: child_electrovox(a.volume, a.steps, a.repeats, a.warm_pairs),
               "lbmpy": lambda: child_lbmpy(a.volume, a.steps, a.repeats, a.warm_pairs, th, True),
               "lbmpy-nowalls": lambda: child_lbmpy(a.volume, a.steps, a.repeats, a.warm_pairs, th, False),
               "lbmpy-channel": lambda: child_lbmpy_channel(th)}[a.child]()
        print(MARK + json.dumps(res), flush=True)
        return

    a.lbmpy_threads = a.lbmpy_threads or a.threads
    peer = None if a.no_lbmpy else peer_python(a.lbmpy_python, "lbmpy")
    spy = peer_python(a.lbmpy_python, "porespy")
    me = sys.executable
    common = ["--steps", str(a.steps), "--repeats", str(a.repeats), "--warm-pairs", str(a.warm_pairs)]
    loads = [("start", os.getloadavg()[0])]
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    all_threads = sorted(set(a.threads) | set(a.lbmpy_threads), reverse=True)
    cases = []
    with tempfile.TemporaryDirectory(prefix="evx-flow-") as tmp:
        # private compile caches: the first JIT run compiles everything (cold), the later ones load
        cache = {"NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache"), "EVX_KERNEL_CACHE": str(Path(tmp) / "evx-cache")}

        def lbmpy_cache() -> dict:
            """A fresh, empty cache for each lbmpy run (pystencils keeps compiled kernels in the user's cache)."""
            d = tempfile.mkdtemp(dir=tmp, prefix="lbmpy-cache-")
            return {"XDG_CACHE_HOME": d, "PYSTENCILS_CACHE_DIR": d}

        streams = [run_child(me, ["--child", "stream", "--stream-mb", str(a.stream_mb)], threads_env(t),
                             f"STREAM {t} thread(s)") for t in all_threads]
        jit = [run_child(me, ["--child", "evx-jit"], threads_env(a.threads[0], cache), f"ElectroVox JIT {w}")
               for w in ("empty cache", "cache filled")]
        lb_chan = run_child(peer, ["--child", "lbmpy-channel", "--lbmpy-threads", "1"], threads_env(1, lbmpy_cache()),
                            "lbmpy channel check") if peer else None
        media = []
        for n in a.sizes:
            path = Path(tmp) / f"blobs_{n}.npy"
            if spy:
                info = run_child(spy, ["--child", "media", "--n", str(n), "--porosity", str(a.porosity),
                                       "--seed", str(a.seed), "--volume", str(path)], label=f"porespy blobs {n}^3")
                gen = f"PoreSpy blobs (porosity {a.porosity:g}, blobiness 1.5, seed {a.seed}; {info['generator']})"
            else:
                sys.path.insert(0, str(HERE))
                from tortuosity import blobs
                np.save(path, blobs(n, a.porosity, a.seed))
                gen = (f"PoreSpy NOT available: Gaussian-filtered noise at the {a.porosity:g} quantile "
                       f"(tortuosity.blobs, seed {a.seed})")
            media.append((f"blobs {n}^3", path, gen))
        if a.real:
            import tifffile
            lab = tifffile.imread(a.real)
            path = Path(tmp) / "real.npy"
            np.save(path, (lab == 0).astype(np.uint8))
            media.append((f"NREL NMC {'x'.join(map(str, lab.shape))}", path,
                          f"{Path(a.real).name}, fluid = label 0 (pore), CBD and AM solid"))
            del lab
        for i, (name, path, gen) in enumerate(media):
            print(f"== {name}", file=sys.stderr, flush=True)
            loads.append((name, os.getloadavg()[0]))
            evx = {t: run_child(me, ["--child", "electrovox", "--volume", str(path), *common],
                                threads_env(t, cache), f"ElectroVox {name}, {t} thread(s)") for t in a.threads}
            lb, lbnw = {}, None
            if peer:
                for t in a.lbmpy_threads:
                    lb[t] = run_child(peer, ["--child", "lbmpy", "--volume", str(path), "--lbmpy-threads", str(t),
                                             *common], threads_env(t, lbmpy_cache()), f"lbmpy {name}, {t} thread(s)")
                if i == 0 and not a.no_walls_case:
                    t = a.lbmpy_threads[0]
                    lbnw = run_child(peer, ["--child", "lbmpy-nowalls", "--volume", str(path), "--lbmpy-threads",
                                            str(t), *common], threads_env(t, lbmpy_cache()), f"lbmpy {name}, no walls")
            cases.append((name, gen, evx, lb, lbnw))
        loads.append(("end", os.getloadavg()[0]))
        streams_end = [run_child(me, ["--child", "stream", "--stream-mb", str(a.stream_mb)], threads_env(t),
                                 f"STREAM {t} thread(s), end") for t in all_threads]

    out = report(a, cases, streams, streams_end, jit, lb_chan, peer, loads)
    print(out)
    if a.write_results:
        sys.path.insert(0, str(HERE))
        import run as runner
        args = " ".join(argv if argv is not None else sys.argv[1:])
        runner.update_section("Flow (lattice Boltzmann)", f"Run {started} on {runner.machine()}.\n"
                              f"Command: `.venv/bin/python benchmarks/flow.py {args}`\n\n{out}")


def report(a, cases, streams, streams_end, jit, lb_chan, peer, loads) -> str:
    L = []
    t1 = a.threads[0]
    lt1 = a.lbmpy_threads[0]
    start = {s["threads"]: s for s in streams}
    end = {s["threads"]: s for s in streams_end}
    # bandwidth for the roofline: the largest actual-traffic figure (the triad with its write-allocate
    # read, or the in-place update, which has none), at the start or the end of the run
    bw_roof = max(max(s["triad_4_gbs"], s["update_3_gbs"]) for s in (start[t1], end[t1]))
    roof = bw_roof * 1e9 / BYTES_PER_UPDATE / 1e6
    ts, lts = a.threads, a.lbmpy_threads
    L.append("### Throughput: D3Q19 TRT float32, body force along z, periodic box, bounce-back on solid voxels\n")
    L.append(f"{a.steps} time steps per timed window after {4 + 2 * a.warm_pairs} warm-up steps; ElectroVox "
             f"{2 * a.repeats} windows per run ({a.repeats} of them alternating with the move-only and same-bytes "
             f"kernels'), lbmpy "
             f"{a.repeats}; the best window reported (the machine is shared: medians in the notes), as for the "
             f"bandwidth; each run in its own subprocess.  ElectroVox: `SparseLattice"
             f"(...).step_pair({a.steps // 2})`, MFLUPS = n_fluid x steps / wall.  lbmpy: `LatticeBoltzmannStep."
             f"time_step()` x {a.steps}, every cell of the box updated: MLUPS over all cells, and x fluid fraction "
             f"= the fluid-equivalent rate.  EVX / lbmpy = ElectroVox MFLUPS / lbmpy fluid-equivalent, same "
             f"thread count.  Roofline = {bw_roof:.1f} GB/s / {BYTES_PER_UPDATE:.0f} B = {roof:.0f} M fluid "
             f"updates/s ({t1} threads; bandwidth below).  B / fluid voxel: resident-set growth across "
             f"`SparseLattice(...)` / n_fluid (nominal {cases[0][2][t1]['nominal_bytes_per_fluid']}); lbmpy: "
             f"growth across its set-up / all cells.\n")
    if peer is None:
        L.append("lbmpy " + ("skipped (--no-lbmpy)" if a.no_lbmpy else
                              "not available: install `lbmpy porespy cython` in a separate venv and pass "
                              "`--lbmpy-python`") + "; ElectroVox's figures only.\n")
    head = (["case", "porosity", "n_fluid"] + [f"EVX MFLUPS {t} thr" for t in ts]
            + [f"EVX move-only {t1} thr", f"same-bytes {t1} thr"]
            + [f"lbmpy MLUPS all cells {t} thr" for t in lts] + [f"lbmpy fluid-equiv. {t} thr" for t in lts]
            + [f"EVX / lbmpy {t} thr" for t in ts if t in lts]
            + [f"roofline fraction {t1} thr", "EVX B / fluid voxel", "lbmpy B / cell"])
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * len(head))
    for name, _gen, evx, lb, _ in cases:
        e = evx[t1]
        cells = [name, f"{e['n_fluid'] / e['cells']:.4f}", f"{e['n_fluid']:,}"]
        cells += [f"{top(evx[t]['mflups']):.1f}" for t in ts] + [f"{top(e['move_mflups']):.1f}",
                                                                 f"{top(e['same_mflups']):.1f}"]
        cells += [f"{top(lb[t]['mlups']):.1f}" if t in lb else "-" for t in lts]
        cells += [f"{top(lb[t]['fluid_mlups']):.1f}" if t in lb else "-" for t in lts]
        cells += [f"{top(evx[t]['mflups']) / top(lb[t]['fluid_mlups']):.2f}" if t in lb else "-"
                  for t in ts if t in lts]
        cells += [f"{top(e['mflups']) / roof:.2f}", f"{e['bytes_per_fluid']:.0f}",
                  f"{lb[lt1]['bytes_per_cell']:.0f}" if lt1 in lb else "-"]
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    L.append("Compile and set-up times (s):\n")
    L.append("| case | EVX build (neighbour list, link table) | EVX kernels (from the cache, tiny lattice) | "
             "EVX first pair | lbmpy code generation + C compile (empty cache) | lbmpy NoSlip set-up | "
             "lbmpy first run(2) |")
    L.append("|---|---|---|---|---|---|---|")
    for name, _gen, evx, lb, _ in cases:
        e = evx[t1]
        cells = [name, f"{e['build_s']:.2f}", f"{e['kernels_s']:.2f}", f"{e['first_pair_s']:.3f}"]
        cells += ([f"{lb[lt1]['codegen_s']:.1f}", f"{lb[lt1]['boundary_s']:.1f}", f"{lb[lt1]['first_run_s']:.2f}"]
                  if lt1 in lb else ["-"] * 3)
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    cold, warm = jit
    L.append(f"ElectroVox kernel compile (first `step_pair` in a fresh process, private caches; minus a warm "
             f"pair): {cold['compile_s']:.1f} s with empty caches, {warm['compile_s']:.1f} s with them filled "
             f"(import {cold['import_s']:.1f} s apart).  Plane-channel check (4 x 4 x 12, one solid layer, "
             f"tau {TAU:g}, {cold['steps']} steps; exact halfway-bounce-back Poiseuille profile): ElectroVox max "
             f"error {cold['max_rel_err']:.1e} of the peak, mean offset {cold['offset_in_F']:+.3f} F"
             + (f"; lbmpy max error {lb_chan['max_rel_err']:.1e}, offset {lb_chan['offset_in_F']:+.3f} F "
                f"(its Guo forcing with TRT shifts the whole profile: a wall slip)" if lb_chan else "") + ".\n")
    L.append("Notes per case:")
    for name, gen, evx, lb, lbnw in cases:
        e = evx[t1]
        s = (f"- {name}: {gen}.  ElectroVox windows (MFLUPS) " + "; ".join(
            f"{t} thr " + ", ".join(f"{x:.1f}" for x in evx[t]["mflups"]) + f" (median {med(evx[t]['mflups']):.1f})"
            for t in ts) + "; ElectroVox / move-only / same-bytes alternating: " + ", ".join(
                f"{x:.1f} / {y:.1f} / {z:.1f}"
                for x, y, z in zip(e["paired_mflups"], e["move_mflups"], e["same_mflups"], strict=True))
            + "; set-up transient peak "
            f"{e['setup_peak_bytes_per_fluid']:.0f} B / fluid voxel above the baseline; peak RSS {e['peak_mb']:.0f} MB"
            f"; mean u_z after {e['total_steps']} steps {e['uz_mean']:.4e}")
        if lb:
            r = lb[lt1]
            s += (f".  lbmpy {r['lbmpy']} (pystencils {r['pystencils']}, omegas "
                  f"{', '.join(f'{w:.4f}' for w in r['omegas'])}): windows (MLUPS) " + "; ".join(
                      f"{t} thr " + ", ".join(f"{x:.1f}" for x in lb[t]["mlups"])
                      + f" (median {med(lb[t]['mlups']):.1f})" for t in lts if t in lb)
                  + f"; peak RSS {r['peak_mb']:.0f} MB; mean u_z after {r['total_steps']} steps {r['uz_mean']:.4e}")
        if lbnw:
            s += (f".  lbmpy without walls (all fluid, {lt1} thr): {top(lbnw['mlups']):.1f} MLUPS "
                  f"(windows {', '.join(f'{x:.1f}' for x in lbnw['mlups'])})")
        L.append(s + ".")
    L.append("")
    L.append(f"### Memory bandwidth (numba `prange`, float64 arrays of {streams[0]['array_mb']:.0f} MB, best of 5)\n")
    L.append("| threads | when | triad GB/s (3 arrays counted) | triad GB/s (4: + write-allocate) | "
             "in-place a += s b GB/s (3) | triad median GB/s (3) |")
    L.append("|---|---|---|---|---|---|")
    for when, ss in (("start", streams), ("end", streams_end)):
        for st in ss:
            L.append(f"| {st['threads']} | {when} | {st['triad_3_gbs']:.1f} | {st['triad_4_gbs']:.1f} | "
                     f"{st['update_3_gbs']:.1f} | {st['triad_3_median_gbs']:.1f} |")
    L.append("")
    L.append(f"Bytes per fluid update: even step {BYTES_EVEN} B (19 float32 populations read and written in place), "
             f"odd step {BYTES_ODD} B (the same at neighbour addresses + 18 int32 links; the rest population has "
             f"none), average {BYTES_PER_UPDATE:.0f} B (190 B counting a 19th link).  The roofline takes "
             f"{bw_roof:.1f} GB/s, the largest actual-traffic figure at {t1} threads (start or end); with the "
             f"STREAM-convention triad ({start[t1]['triad_3_gbs']:.1f} GB/s) it would be "
             f"{start[t1]['triad_3_gbs'] * 1e9 / BYTES_PER_UPDATE / 1e6:.0f} M/s.  Same-bytes = contiguous passes "
             f"over the lattice's own arrays moving exactly those bytes (populations in place, then again with the "
             f"18 link rows read): the model's roofline measured on the real arrays (" + ", ".join(
                 f"{name}: {top(evx[t1]['same_mflups']):.0f} M/s = "
                 f"{top(evx[t1]['same_mflups']) * BYTES_PER_UPDATE / 1e3:.1f} GB/s"
                 for name, _g, evx, _l, _n in cases) + ").  Move-only = ElectroVox's own loads and stores (the "
             "same blocks, gathers into the block buffer, scatters through the link table) without the collision "
             "arithmetic: where it runs no faster than the solver, the kernel is bound by that access pattern "
             "(scalar strided and indirect loads and stores), not by the arithmetic nor by DRAM bandwidth (" +
             ", ".join(f"{name}: {top(evx[t1]['move_mflups']) * BYTES_PER_UPDATE / 1e3:.1f} GB/s effective"
                       for name, _g, evx, _l, _n in cases) + ").\n")
    L.append("### Against the goals\n")
    rows = [(name, top(evx[t1]["mflups"]) / top(lb[lt1]["fluid_mlups"]) if lt1 in lb else None,
             top(evx[t1]["mflups"]) / roof, evx[t1]) for name, _g, evx, lb, _ in cases]
    ratios = [r for _, r, _, _ in rows if r is not None]
    L.append(f"- ElectroVox / lbmpy fluid rate >= 4 ({t1} threads): " + (
        "not measured (no lbmpy)" if not ratios else
        f"{'met' if min(ratios) >= 4 else 'NOT met'} (" + ", ".join(
            f"{n}: {r:.2f}" for n, r, _, _ in rows if r is not None) + ")"))
    L.append(f"- fraction of the roofline >= 0.5 ({t1} threads): "
             f"{'met' if min(f for _, _, f, _ in rows) >= 0.5 else 'NOT met'} ("
             + ", ".join(f"{n}: {f:.2f}" for n, _, f, _ in rows) + f"; roofline {roof:.0f} M/s)")
    big = max(rows, key=lambda r: r[3]["n_fluid"])[3]    # the largest lattice: fixed overheads amortised
    bpv = big["bytes_per_fluid"]
    L.append(f"- bytes per fluid voxel <= 200: {'met' if bpv <= 200 else 'NOT met'} (" + ", ".join(
        f"{n}: {e['bytes_per_fluid']:.0f}" for n, _, _, e in rows) + "; small lattices carry fixed overheads)")
    nz, ny, nx = STUDY_SHAPE
    vox = nz * ny * nx
    nf = STUDY_POROSITY * vox
    setup = big["setup_peak_bytes_per_fluid"]
    steady = nf * bpv + 2 * vox            # + uint8 labels + the bool fluid mask the lattice keeps
    peak = nf * setup + 2 * vox
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    rate = top(big["mflups"]) * 1e6
    L.append(f"- the study's volume ({nx} x {ny} x {nz} = {vox / 1e6:.0f} M voxels at 100 nm, porosity "
             f"{STUDY_POROSITY:g}): {nf / 1e6:.1f} M fluid voxels x {bpv:.0f} B + labels and fluid mask "
             f"({2 * vox / 1e6:.0f} MB) = {steady / 1e9:.1f} GB held while running; the build's transient peak "
             f"~{peak / 1e9:.1f} GB ({setup:.0f} B / fluid voxel); this machine has {mem / 2**30:.0f} GiB: "
             f"{'fits' if peak < 0.8 * mem else 'does NOT fit'}.  One time step there takes ~{nf / rate:.2f} s "
             f"at the rate of the largest case here ({rate / 1e6:.0f} MFLUPS).")
    L.append("")
    L.append("Load average (1 min): " + ", ".join(f"{w} {x:.2f}" for w, x in loads)
             + f" ({os.cpu_count()} cores, shared with other work).")
    return "\n".join(L)


if __name__ == "__main__":
    main()
