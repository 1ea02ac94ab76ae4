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
