"""Transport: tortuosity factor of a random blob medium, ElectroVox against TauFactor (CPU).

The medium: Gaussian-filtered white noise (sigma = n * sigma_frac voxels, default n / 40, the
scale of PoreSpy's ``blobs``) thresholded at its quantile so that the pore fraction is exactly the
porosity; pore = 1 conducts, solid = 0 does not.  The same uint8 volume goes to both solvers.

- ElectroVox: ``electrovox.solvers.transport.diffusion.solve_conduction(mask.astype(float), 1.0,
  axis="z")`` (array axis 0; finite volumes, by default flexible CG preconditioned by a
  matrix-free aggregation-multigrid K-cycle in numba, ``--method amg`` for the pyamg path; stopped
  when the inlet and outlet fluxes agree to 1e-6).  Warm calls are timed: each subprocess first
  runs two small calls (numba's JIT compile or cache load); the JIT time is measured apart, in
  fresh processes with an empty and with a filled numba cache.
- TauFactor: ``taufactor.Solver(mask, device="cpu").solve(conv_crit=0.01)`` (float32 SOR on
  torch; it solves along its first array axis, the same array axis 0; stopped when the flux
  through every layer is within ``conv_crit`` of the largest and tau changed by < 2e-3 in the
  last 100 iterations).  It runs in several settings, each a run, and the fastest is compared:
  torch's default threads (one per core) and 1 thread (on a shared 2-core machine two threads are
  often slower), each with glibc's default malloc and with its mmap threshold raised
  (MALLOC_MMAP_THRESHOLD_ etc.: from 256^3 on, each of TauFactor's float32 temporaries exceeds
  glibc's largest dynamic mmap threshold, 32 MiB, so each is mmap-ed, page-faulted and unmapped
  every iteration, which costs TauFactor about 3x).

Each run is one run (the machine is small) in its own fresh subprocess, which loads the volume
from a .npy file: wall time of the solver call(s) (``time.perf_counter``; TauFactor's includes
building its Solver), and peak memory = the subprocess's ``ru_maxrss`` (whole process: the
interpreter, its imports and the loaded volume included; the baseline before the solve is listed
too).  A second table gives ElectroVox's time for tau along z, y and x (three calls in one process).

TauFactor is a benchmark-only dependency (it pulls torch): it is used from this interpreter when
importable, else from ``--taufactor-python PY`` (or the environment variable TAUFACTOR_PYTHON), an
interpreter of a separate environment where ``pip install taufactor`` was run.

    .venv/bin/python benchmarks/tortuosity.py [--sizes 192 256] [--porosity 0.35] [--seed 0]
    .venv/bin/python benchmarks/run.py tortuosity -- --taufactor-python /path/to/venv/bin/python
"""

from __future__ import annotations

import argparse
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

ROOT = Path(__file__).resolve().parent.parent
MARK = "@@RESULT "
# glibc: keep large blocks on the heap instead of mmap/munmap per allocation (TauFactor variant "tuned")
MALLOC_TUNED = {"MALLOC_MMAP_THRESHOLD_": "2000000000", "MALLOC_TRIM_THRESHOLD_": "4000000000",
                "MALLOC_TOP_PAD_": "1000000000"}
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blobs(n: int, porosity: float, seed: int, sigma_frac: float = 1 / 40) -> np.ndarray:
    """uint8 [n, n, n], 1 = pore: Gaussian-filtered white noise below its ``porosity`` quantile."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, n, n), dtype=np.float32)
    field = ndimage.gaussian_filter(noise, sigma=n * sigma_frac, mode="reflect", output=np.float32)
    del noise
    k = int(round(porosity * field.size))
    thr = np.partition(field.ravel(), k)[k]
    return (field < thr).astype(np.uint8)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0      # kB on Linux


def _warm_up(solve_conduction, method) -> dict:
    """Two calls on a small blob medium (40^3, all three levels of kernels): the first compiles the
    numba kernels (or loads them from numba's cache), the second is warm."""
    small = blobs(40, 0.35, 1).astype(float)
    t0 = time.perf_counter()
    solve_conduction(small, 1.0, axis="z", method=method)
    t1 = time.perf_counter()
    solve_conduction(small, 1.0, axis="z", method=method)
    return {"first_s": t1 - t0, "second_s": time.perf_counter() - t1}


def child(kind: str, path: str, axes: str, conv_crit: float, threads: int = 0, method: str | None = None) -> dict:
    """One measurement in this (fresh) process; returns a JSON-able dict."""
    if kind in ("electrovox", "electrovox-jit"):
        sys.path.insert(0, str(ROOT))
        t0 = time.perf_counter()
        from electrovox.solvers.transport.diffusion import solve_conduction
        import_s = time.perf_counter() - t0
        warm = _warm_up(solve_conduction, method)             # JIT: compile or load from the cache
        if kind == "electrovox-jit":
            return {"kind": kind, "import_s": import_s, **warm, "wall_s": warm["first_s"], "peak_mb": _rss_mb()}
        mask = np.load(path)
        base = _rss_mb()
        per_axis = []
        t0 = time.perf_counter()
        for ax in axes:
            t1 = time.perf_counter()
            r = solve_conduction(mask.astype(float), 1.0, axis=ax, method=method)
            per_axis.append({"axis": ax, "tau": r["tau"], "D_eff": r["D_eff"], "iterations": r["iterations"],
                             "unknowns": r.get("unknowns", 0), "isolated_fraction": r["isolated_fraction"],
                             "porosity": r["porosity"], "flux_imbalance": r["flux_imbalance"],
                             "method": r.get("method", "amg"), "wall_s": time.perf_counter() - t1})
        return {"kind": kind, "wall_s": time.perf_counter() - t0, "peak_mb": _rss_mb(), "base_mb": base,
                "warm_up": warm, "axes": per_axis}
    import taufactor
    import torch
    if threads > 0:
        torch.set_num_threads(threads)
    mask = np.load(path)
    out = {"kind": kind, "torch": torch.__version__, "threads": torch.get_num_threads(), "axes": []}
    base = _rss_mb()
    t0 = time.perf_counter()
    for ax in axes:
        img = np.ascontiguousarray(np.moveaxis(mask, "zyx".index(ax), 0))   # TauFactor: along array axis 0
        t1 = time.perf_counter()
        s = taufactor.Solver(img, device="cpu")
        t2 = time.perf_counter()
        s.solve(verbose=False, conv_crit=conv_crit)
        t3 = time.perf_counter()
        out["axes"].append({"axis": ax, "tau": float(np.asarray(s.tau).ravel()[0]),
                            "D_eff": float(np.asarray(s.D_eff).ravel()[0]), "iterations": int(s.iter),
                            "converged": bool(s.converged), "porosity": float(np.asarray(s.VF).ravel()[0]),
                            "setup_s": t2 - t1, "solve_s": t3 - t2, "wall_s": t3 - t1})
        del s
    out.update(wall_s=time.perf_counter() - t0, peak_mb=_rss_mb(), base_mb=base)
    return out


def run_child(python: str, kind: str, path: Path, axes: str, conv_crit: float, threads: int = 0,
              env: dict | None = None, label: str = "", method: str | None = None) -> dict:
    cmd = [python, str(Path(__file__).resolve()), "--child", kind, "--volume", str(path), "--axes", axes,
           "--conv-crit", repr(conv_crit), "--threads", str(threads)] + (["--method", method] if method else [])
    print(f"  {kind} {label} axes {axes} ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,   # stderr: through (progress, warnings)
                          env=None if env is None else {**os.environ, **env})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stdout.splitlines()[-5:])
        raise RuntimeError(f"{kind} child failed (exit {proc.returncode}): {tail}")
    res = json.loads(lines[-1][len(MARK):])
    res["label"] = label
    print(f"  {kind} {label}: {res['wall_s']:.1f} s, peak {res['peak_mb']:.0f} MB", file=sys.stderr, flush=True)
    return res


def taufactor_python(arg: str | None) -> str | None:
    """An interpreter that imports taufactor (and torch), or None."""
    if importlib.util.find_spec("taufactor") is not None and importlib.util.find_spec("torch") is not None:
        return sys.executable
    for py in (arg, os.environ.get("TAUFACTOR_PYTHON")):
        if py:
            ok = subprocess.run([py, "-c", "import taufactor, torch"], capture_output=True).returncode == 0
            if ok:
                return py
            print(f"  {py} cannot import taufactor/torch", file=sys.stderr)
    return None


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[192, 256])
    p.add_argument("--porosity", type=float, default=0.35)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sigma-frac", type=float, default=1 / 40, help="blob filter sigma / n (default 1/40)")
    p.add_argument("--taufactor-python", default=None, help="interpreter with taufactor installed")
    p.add_argument("--taufactor-all-axes", action="store_true",
                   help="also run TauFactor along z, y and x (in its fastest setting of the z run)")
    p.add_argument("--conv-crit", type=float, default=1e-2, help="TauFactor's conv_crit (its default 1e-2)")
    p.add_argument("--taufactor-threads", type=int, nargs="+", default=None,
                   help="torch thread counts to run TauFactor with (0 = torch's default, one per core; "
                        "default: 0 and 1)")
    p.add_argument("--taufactor-malloc", nargs="+", choices=["default", "tuned"], default=["default", "tuned"],
                   help="glibc malloc settings to run TauFactor with (tuned: mmap threshold raised)")
    p.add_argument("--blas-threads", type=int, default=0,
                   help="cap OpenBLAS/OpenMP threads of the ElectroVox runs (default 0: as the environment has it)")
    p.add_argument("--method", choices=["multigrid", "amg"], default=None,
                   help="ElectroVox solver (default: solve_conduction's default, multigrid where numba imports)")
    p.add_argument("--no-taufactor", action="store_true")
    p.add_argument("--child", choices=["electrovox", "electrovox-jit", "taufactor"], help=argparse.SUPPRESS)
    p.add_argument("--volume", help=argparse.SUPPRESS)
    p.add_argument("--axes", default="z", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(MARK + json.dumps(child(a.child, a.volume, a.axes, a.conv_crit, a.threads, a.method)), flush=True)
        return

    tf_py = None if a.no_taufactor else taufactor_python(a.taufactor_python)
    threads = list(dict.fromkeys(a.taufactor_threads or ([0, 1] if (os.cpu_count() or 1) > 1 else [0])))
    variants = [(th, m) for m in dict.fromkeys(a.taufactor_malloc) for th in threads]
    ev_env = {v: str(a.blas_threads) for v in BLAS_VARS} if a.blas_threads > 0 else None

    def vlabel(th, m):
        return f"{'default' if th == 0 else th} thread{'s' if th != 1 else ''}, {m} malloc"

    load0 = os.getloadavg()[0]
    rows, rows3, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix="evx-tau-") as tmp:
        # numba JIT: a process with an empty cache (NUMBA_CACHE_DIR: a fresh folder) compiles every
        # kernel; one with the cache filled loads them
        jit_env = {**(ev_env or {}), "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache")}
        jit_cold = run_child(sys.executable, "electrovox-jit", Path(tmp), "z", a.conv_crit, env=jit_env,
                             label="empty numba cache", method=a.method)
        jit_warm = run_child(sys.executable, "electrovox-jit", Path(tmp), "z", a.conv_crit, env=jit_env,
                             label="numba cache filled", method=a.method)
        for n in a.sizes:
            print(f"== {n}^3", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            mask = blobs(n, a.porosity, a.seed, a.sigma_frac)
            gen_s = time.perf_counter() - t0
            path = Path(tmp) / f"blobs_{n}.npy"
            np.save(path, mask)
            phi = float(mask.mean())
            del mask
            ev_label = f"BLAS {a.blas_threads} thread(s)" if ev_env else "defaults"
            ev = run_child(sys.executable, "electrovox", path, "z", a.conv_crit, env=ev_env, label=ev_label,
                           method=a.method)
            tfs = [run_child(tf_py, "taufactor", path, "z", a.conv_crit, th, MALLOC_TUNED if m == "tuned" else None,
                             vlabel(th, m)) for th, m in variants] if tf_py else []
            best = min(range(len(tfs)), key=lambda i: tfs[i]["wall_s"]) if tfs else None
            tf = tfs[best] if tfs else None
            ev3 = run_child(sys.executable, "electrovox", path, "zyx", a.conv_crit, env=ev_env, label=ev_label,
                            method=a.method)
            tf3 = None
            if tf and a.taufactor_all_axes:
                th, m = variants[best]
                tf3 = run_child(tf_py, "taufactor", path, "zyx", a.conv_crit, th,
                                MALLOC_TUNED if m == "tuned" else None, vlabel(th, m))
            rows.append((n, phi, ev, tf))
            rows3.append((n, ev3, tf3))
            e = ev["axes"][0]
            note = (f"- {n}^3: generated in {gen_s:.1f} s (sigma {n * a.sigma_frac:.2f} voxels); ElectroVox "
                    f"method {e['method']}, {e['unknowns']} unknowns, isolated pore fraction "
                    f"{e['isolated_fraction']:.5f} of the volume, flux imbalance {e['flux_imbalance']:.1e}, "
                    f"baseline RSS {ev['base_mb']:.0f} MB")
            if tf is not None:
                t = tf["axes"][0]
                note += (f"; TauFactor {t['iterations']} SOR iterations "
                         f"({'converged' if t['converged'] else 'NOT converged'}), torch {tf['torch']}, baseline "
                         f"RSS {tf['base_mb']:.0f} MB; its runs: " + "; ".join(
                             f"{r['label']}: {r['wall_s']:.1f} s (setup {r['axes'][0]['setup_s']:.1f} s), "
                             f"tau {r['axes'][0]['tau']:.4f}, peak {r['peak_mb']:.0f} MB" for r in tfs)
                         + f" (in the table: {tf['label']}, the fastest)")
            notes.append(note)

    print("### Tortuosity factor along z (array axis 0), blob medium\n")
    print(f"Medium: Gaussian-filtered white noise (sigma = n * {a.sigma_frac:g} voxels) thresholded to porosity "
          f"{a.porosity:g}, seed {a.seed}; pore conducts (1), solid not (0).  One run each, each in its own "
          f"subprocess; time = wall time of the solver call(s); peak MB = the subprocess's ru_maxrss (the whole "
          f"process: interpreter, imports and loaded volume included).  ElectroVox: `solve_conduction(mask"
          f".astype(float), 1.0, axis='z')`, defaults (flux_tol 1e-6)"
          + (f", method {a.method}" if a.method else "")
          + "; warm calls: each subprocess first runs two calls on a 40^3 medium (numba's JIT; below), "
            "not timed"
          + (f", BLAS threads capped at {a.blas_threads}" if ev_env else "")
          + ("" if tf_py is None else
             f".  TauFactor: `Solver(mask, device='cpu').solve(conv_crit={a.conv_crit:g})`, timed with its setup, "
             f"in {len(variants)} setting{'s' if len(variants) > 1 else ''} (torch threads x glibc malloc); the "
             f"fastest is compared") +
          f".  Load average at start {load0:.2f}, at end {os.getloadavg()[0]:.2f} "
          f"({os.cpu_count()} cores, shared with other work).\n")
    print(f"ElectroVox numba JIT (first call on a 40^3 medium in a fresh process, import "
          f"{jit_cold['import_s']:.1f} s not included): {jit_cold['first_s']:.1f} s with an empty cache (compiles "
          f"every kernel; once per installation and numba version), {jit_warm['first_s']:.1f} s with the cache "
          f"filled (loads them; every new process), against {jit_warm['second_s']:.2f} s for the same call warm.\n")
    if tf_py is None:
        why = "skipped (--no-taufactor)" if a.no_taufactor else (
            "not installed: `pip install taufactor` (pulls torch) in a separate environment, not the project's, "
            "then run this script with that interpreter or pass `--taufactor-python PATH/bin/python` "
            "(or set TAUFACTOR_PYTHON)")
        print(f"TauFactor {why}; ElectroVox's figures only.\n")
    print("| size | porosity | EVX tau | EVX s | EVX peak MB | EVX iterations | TauFactor tau | TauFactor s "
          "| TauFactor peak MB | tau rel. diff. | time EVX / TauFactor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, phi, ev, tf in rows:
        e = ev["axes"][0]
        cells = [f"{n}^3", f"{phi:.4f}", f"{e['tau']:.4f}", f"{ev['wall_s']:.1f}", f"{ev['peak_mb']:.0f}",
                 str(e["iterations"])]
        if tf is None:
            cells += ["-"] * 5
        else:
            t = tf["axes"][0]
            cells += [f"{t['tau']:.4f}", f"{tf['wall_s']:.1f}", f"{tf['peak_mb']:.0f}",
                      f"{100 * (e['tau'] - t['tau']) / t['tau']:+.3f} %", f"{ev['wall_s'] / tf['wall_s']:.2f}"]
        print("| " + " | ".join(cells) + " |")
    print()
    for line in notes:
        print(line)
    if any(tf is not None for _, _, _, tf in rows):
        ok_tau = all(abs(ev["axes"][0]["tau"] - tf["axes"][0]["tau"]) <= 0.01 * tf["axes"][0]["tau"]
                     for _, _, ev, tf in rows if tf is not None)
        ok_t = all(ev["wall_s"] <= 0.5 * tf["wall_s"] for _, _, ev, tf in rows if tf is not None)
        print(f"\nGoal (tau within 1 % of TauFactor's; at most half its time): tau {'met' if ok_tau else 'NOT met'}, "
              f"time {'met' if ok_t else 'NOT met'} (at every size).")

    print("\n### ElectroVox: tau along z, y and x (three calls in one process)\n")
    head = "| size | tau z | tau y | tau x | s z / y / x | total s | peak MB |"
    sep = "|---|---|---|---|---|---|---|"
    if any(t3 for _, _, t3 in rows3):
        head += " TauFactor tau z / y / x | TauFactor total s | TauFactor peak MB | time EVX / TauFactor |"
        sep += "---|---|---|---|"
    print(head)
    print(sep)
    for n, ev3, tf3 in rows3:
        ax = {r["axis"]: r for r in ev3["axes"]}
        cells = [f"{n}^3"] + [f"{ax[k]['tau']:.4f}" for k in "zyx"] + [
            " / ".join(f"{ax[k]['wall_s']:.1f}" for k in "zyx"), f"{ev3['wall_s']:.1f}", f"{ev3['peak_mb']:.0f}"]
        if tf3:
            tx = {r["axis"]: r for r in tf3["axes"]}
            cells += [" / ".join(f"{tx[k]['tau']:.4f}" for k in "zyx"), f"{tf3['wall_s']:.1f}",
                      f"{tf3['peak_mb']:.0f}", f"{ev3['wall_s'] / tf3['wall_s']:.2f}"]
        elif any(t3 for _, _, t3 in rows3):
            cells += ["-"] * 4
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
