"""Shared test settings: where the repository and the shared data are."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EVX_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "data" / "real"
NREL = REAL / "nmc-1-cal_generatedCBD_bridge.tif"
SEM = REAL / "SEM_lr_input.tif"


@pytest.fixture
def real_data():
    """The real segmented volumes in ../shared/data/real (skipped if the folder is absent)."""
    if not NREL.is_file():
        pytest.skip(f"real volumes not found in {REAL} (set EVX_SHARED)")
    return {"nrel": NREL, "sem": SEM}


def run_cli(*args, cwd=None, check=None):
    """Run `python -m electrovox ARGS` in a subprocess of this interpreter; return CompletedProcess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-m", "electrovox", *map(str, args)], capture_output=True,
                       text=True, cwd=cwd, env=env, timeout=600)
    if check is not None:
        assert r.returncode == check, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def kill_after_first_checkpoint(cli_args, run_dir, timeout=300):
    """Start ``electrovox *cli_args`` and SIGKILL it once ``run_dir/checkpoint.npz`` appears.

    Returns whether the run was still unfinished when killed (no ``result.json``): the resume
    tests need a real interruption.
    """
    import signal
    import time
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, "-m", "electrovox", *map(str, cli_args)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (Path(run_dir) / "checkpoint.npz").exists() and p.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()
    return not (Path(run_dir) / "result.json").exists()
