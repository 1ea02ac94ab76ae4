"""The run framework of the time-stepping solvers, on a toy: explicit 3D diffusion to steady state.

Covers the in-memory run, the run folder's files (read back with VTK's reader), a bit-for-bit
resume after SIGKILLs of a solver subprocess (also during checkpoint writes), a finished folder
served without solving, a folder of other parameters, and a divergence.
"""

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from electrovox.errors import BadInput
from electrovox.solvers.run import RunFolder, RunResult, TimeSolver

ROOT = Path(__file__).resolve().parent.parent

# the step settings of the folder runs: ~90 observations to steady state
RUN = {"max_steps": 2000, "observe_every": 4, "checkpoint_every": 8, "frame_every": 16}


@dataclass
class ToyConfig:
    """Explicit diffusion of a random float32 field on a periodic grid."""

    shape: tuple = (16, 16, 16)   # (nz, ny, nx)
    rate: float = 0.15            # D dt / dx^2 (stable below 1/6)
    dt_s: float = 0.5             # s per step
    seed: int = 7
    tol: float = 1e-6             # steady state: max change per observation below this
    diverge_at: int | None = None  # the step after which one voxel turns NaN


class Toy(TimeSolver):
    """The toy solver; ``delay_s`` sleeps in every advance (slow enough to be killed mid-run)."""

    name = "toy-diffusion"

    def __init__(self, config=None, delay_s=0.0):
        super().__init__(config or ToyConfig())
        self.delay_s = delay_s
        self.u = np.random.default_rng(self.config.seed).random(self.config.shape, dtype=np.float32)
        self.before = self.u
        self.frame_spacing_um = (0.5, 0.25, 0.125)
        self.frame_origin_um = (1.0, 2.0, 3.0)
        self.advance_calls = 0

    def advance(self, n):
        self.advance_calls += 1
        self.before = self.u
        rate = np.float32(self.config.rate)
        for i in range(n):
            lap = -6 * self.u
            for axis in range(3):
                lap += np.roll(self.u, 1, axis)
                lap += np.roll(self.u, -1, axis)
            self.u = self.u + rate * lap
            if self.step + i + 1 == self.config.diverge_at:
                self.u[1, 2, 3] = np.nan
        self.time += n * self.config.dt_s
        if self.delay_s:
            time.sleep(self.delay_s)

    def observe(self):
        return {"change": float(np.max(np.abs(self.u - self.before))), "max": float(self.u.max()),
                "min": float(self.u.min()), "mean": float(self.u.astype(np.float64).mean())}

    def frame(self):
        gz, gy, gx = np.gradient(self.u)
        return {"u": self.u, "gradient": np.stack([gx, gy, gz], axis=-1)}

    def state(self):
        return {"u": self.u}

    def load_state(self, state):
        self.u = np.array(state["u"], dtype=np.float32)
        self.before = self.u

    def finished(self, history):
        if history["change"][-1] < self.config.tol:
            return True, f"steady state: change per observation below {self.config.tol}", True
        return None


def read_vti(path):
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOXML import vtkXMLImageDataReader

    r = vtkXMLImageDataReader()
    r.SetFileName(str(path))
    r.Update()
    image = r.GetOutput()
    nx, ny, nz = image.GetDimensions()
    pd = image.GetPointData()
    arrays = {}
    for i in range(pd.GetNumberOfArrays()):
        a = vtk_to_numpy(pd.GetArray(i))
        arrays[pd.GetArrayName(i)] = a.reshape((nz, ny, nx) + a.shape[1:])
    return image, arrays


def pvd_frames(run_dir):
    """(time, path) of every frame listed in fields.pvd (parsed here: vtkPVDReader is ParaView-only)."""
    root = ET.parse(Path(run_dir) / "fields.pvd").getroot()
    return [(float(ds.get("timestep")), Path(run_dir) / ds.get("file")) for ds in root.iter("DataSet")]


def assert_same_result(a: RunResult, b: RunResult):
    assert (a.reason, a.converged, a.steps) == (b.reason, b.converged, b.steps)
    assert list(a.history) == list(b.history)
    for k in a.history:
        assert np.array_equal(a.history[k], b.history[k], equal_nan=True), k
    assert np.array_equal(a.times_s, b.times_s)
    assert list(a.fields) == list(b.fields)
    for k in a.fields:
        assert np.array_equal(a.fields[k], b.fields[k]), k


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run into a folder."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    return Toy().run(run_dir, **RUN)


# --- (a) in memory ---------------------------------------------------------------------------

def test_in_memory_run_converges_with_monotone_history():
    calls = []
    result = Toy().run(max_steps=5000, observe_every=10, progress=lambda f, m: calls.append(f))
    assert result.converged and result.reason.startswith("steady state")
    assert result.run_dir is None
    assert result.steps == result.history["step"][-1] and result.steps % 10 == 0
    assert np.array_equal(result.history["step"], 10 * np.arange(1, len(result.times_s) + 1))
    assert np.array_equal(result.times_s, result.history["step"] * 0.5)
    h = result.history
    assert np.all(np.diff(h["change"]) <= 0) and h["change"][-1] < 1e-6 <= h["change"][-2]
    assert np.all(np.diff(h["max"]) <= 0) and np.all(np.diff(h["min"]) >= 0)
    assert abs(h["mean"][-1] - h["mean"][0]) < 1e-5                       # diffusion keeps the mean
    assert result.fields["u"].shape == (16, 16, 16) and result.fields["gradient"].shape == (16, 16, 16, 3)
    assert calls == sorted(calls) and calls[-1] == 1.0
    assert result.wall_s > 0


def test_cli_bar_shows_the_time_remaining(capsys):
    """The CLI bar prints elapsed<remaining, the remaining time extrapolated linearly.

    Half the work done after ~1.2 s: the rest is estimated at elapsed x (1 - f) / f, as long again
    (tqdm's rate is smoothed, and both are printed in whole seconds: within 1 s of each other).
    The solver's message (step n/N) follows it.
    """
    import re
    pytest.importorskip("tqdm")
    from electrovox.progress import cli_bar
    with cli_bar("impregnate") as bar:
        bar(0.1)
        time.sleep(1.2)
        bar(0.5, "step 500/1000")
        bar._bar.refresh()
        time.sleep(0.05)
    text = capsys.readouterr().err.replace("\r", "\n")
    line = [ln for ln in text.splitlines() if "50%" in ln][-1]
    m = re.search(r"(\d+):(\d\d)<(\d+):(\d\d), step 500/1000", line)
    assert m, line
    elapsed, remaining = (60 * int(m[1]) + int(m[2])), (60 * int(m[3]) + int(m[4]))
    assert elapsed >= 1 and abs(remaining - elapsed) <= 1, line


def test_max_steps_ends_unconverged():
    result = Toy().run(max_steps=25, observe_every=10)
    assert (result.reason, result.converged, result.steps) == ("reached max_steps=25", False, 25)
    assert result.history["step"].tolist() == [10, 20, 25]


def test_bad_settings_and_a_used_solver():
    with pytest.raises(BadInput, match="checkpoint_every"):
        Toy().run(max_steps=100, observe_every=4, checkpoint_every=6)
    with pytest.raises(BadInput, match="frame_every"):
        Toy().run(max_steps=100, observe_every=4, frame_every=2)
    with pytest.raises(BadInput, match="observe_every"):
        Toy().run(max_steps=100, observe_every=0)
    solver = Toy()
    solver.run(max_steps=8, observe_every=4)
    with pytest.raises(RuntimeError, match="new solver"):
        solver.run(max_steps=8, observe_every=4)
    with pytest.raises(TypeError):
        Toy(config={"rate": 0.1})


def test_advance_may_count_its_own_steps():
    class Counting(Toy):
        def advance(self, n):
            super().advance(n)
            self.step += n

    class Paired(Toy):
        def advance(self, n):
            super().advance(n)
            self.step += 2 * (n // 2)

    assert_same_result(Counting().run(max_steps=5000, observe_every=10), Toy().run(max_steps=5000, observe_every=10))
    with pytest.raises(RuntimeError, match="moved self.step from 0 to 2"):
        Paired().run(max_steps=100, observe_every=3)


def test_params_are_json_safe():
    @dataclass
    class Config:
        shape: tuple = (2, 3)
        value: float = np.float32(0.5)
        count: int = np.int64(3)

    class Empty(TimeSolver):
        pass

    p = Empty(Config()).params({"max_steps": 1})
    assert p["solver"] == "Empty" and p["config"] == {"shape": [2, 3], "value": 0.5, "count": 3}
    assert json.loads(json.dumps(p)) == p


# --- (b) the run folder ----------------------------------------------------------------------

def test_run_folder_has_every_file(reference):
    run_dir = reference.run_dir
    names = {p.name for p in run_dir.iterdir()}
    assert names == {"params.json", "provenance.json", "history.csv", "checkpoint.npz", "fields.pvd", "fields",
                     "result.json"}
    params = json.loads((run_dir / "params.json").read_text())
    assert params["solver"] == "toy-diffusion" and params["config"]["shape"] == [16, 16, 16]
    assert params["run"] == {**RUN} and "electrovox_version" in params
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["host"] and prov["command"] and prov["date"] and prov["resumes"] == []
    result = json.loads((run_dir / "result.json").read_text())
    assert result["converged"] is True and result["steps"] == reference.steps and result["wall_s"] > 0
    assert reference.converged and reference.steps < RUN["max_steps"]

    lines = (run_dir / "history.csv").read_text().splitlines()
    assert lines[0] == "step,time_s,change,max,min,mean"
    assert len(lines) - 1 == len(reference.times_s) == reference.steps // RUN["observe_every"]
    assert_same_result(reference, Toy().run(max_steps=RUN["max_steps"], observe_every=RUN["observe_every"]))

    frames = pvd_frames(run_dir)
    steps = list(range(0, reference.steps, RUN["frame_every"])) + [reference.steps]
    assert [p.name for _, p in frames] == [f"frame_{s:06d}.vti" for s in steps]
    assert [t for t, _ in frames] == [0.5 * s for s in steps]
    assert sorted(p.name for p in (run_dir / "fields").iterdir()) == [p.name for _, p in frames]
    for t, path in frames:
        image, arrays = read_vti(path)
        assert image.GetSpacing() == (0.125, 0.25, 0.5) and image.GetOrigin() == (3.0, 2.0, 1.0)
        assert image.GetDimensions() == (16, 16, 16)
        assert set(arrays) == {"u", "gradient"} and arrays["gradient"].shape == (16, 16, 16, 3)
        assert image.GetFieldData().GetAbstractArray("time_s").GetValue(0) == repr(t)
    assert np.array_equal(arrays["u"], reference.fields["u"])
    assert np.array_equal(arrays["gradient"], reference.fields["gradient"])

    folder = RunFolder(run_dir)
    assert folder.is_finished()
    assert [f.step for f in folder.frames()] == steps
    ckpt = folder.load_checkpoint()
    assert ckpt.step == reference.steps and ckpt.history_length == len(reference.times_s)
    assert ckpt.end == {"reason": reference.reason, "converged": True}
    assert np.array_equal(ckpt.state["u"], reference.fields["u"])
    hist = folder.load_history()
    assert all(np.array_equal(hist[k], reference.history[k]) for k in hist)


# --- (c) resume bit for bit after kills -----------------------------------------------------

SCRIPT = """
import contextlib, io, sys, time
sys.path[:0] = [{root!r}, {tests!r}]
import numpy as np
import electrovox.io.vti_xml as vti_xml
import electrovox.solvers.run.folder as folder
from test_run_framework import RUN, Toy

stick, count = sys.argv[2] if len(sys.argv) > 2 else "", {{}}

def hold(name):
    # every write keeps its temporary file a moment before the rename (where random kills land);
    # the write named by argv[2] (NAME:N, the N-th write of NAME) stops there until killed
    count[name] = count.get(name, 0) + 1
    if stick == f"{{name}}:{{count[name]}}":
        print("stuck", flush=True)
        time.sleep(60)
    time.sleep(0.003)

def slow(atomic_output):
    @contextlib.contextmanager
    def wrapped(path, force=False):
        with atomic_output(path, force) as tmp:
            yield tmp
            if path.name != "checkpoint.npz":
                hold(path.name)
    return wrapped

folder.atomic_output = slow(folder.atomic_output)
vti_xml.atomic_output = slow(vti_xml.atomic_output)
savez = np.savez

def half_then_rest(f, **arrays):  # the checkpoint is half on disk for a moment
    buf = io.BytesIO()
    savez(buf, **arrays)
    data = buf.getvalue()
    f.write(data[: len(data) // 2])
    f.flush()
    hold("checkpoint.npz")
    f.write(data[len(data) // 2:])

np.savez = half_then_rest
solver = Toy(delay_s=0.015)
print("ready", flush=True)
solver.run(sys.argv[1], **RUN)
"""


def toy_process(tmp_path, run_dir, stick=""):
    """The toy on ``run_dir`` in a subprocess, with slow writes (see SCRIPT); it prints 'ready' once started."""
    script = tmp_path / "toy_run.py"
    script.write_text(SCRIPT.format(root=str(ROOT), tests=str(ROOT / "tests")))
    return subprocess.Popen([sys.executable, str(script), str(run_dir), stick], stdout=subprocess.PIPE, text=True)


def kill(p, wait_for, delay=0.0):
    """SIGKILL ``p`` ``delay`` s after it printed the line ``wait_for``."""
    try:
        while (line := p.stdout.readline()) and line.strip() != wait_for:
            pass
        assert line, f"the toy ended before printing {wait_for!r}"
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL)
    finally:
        p.wait(timeout=60)
        p.stdout.close()
    assert p.returncode == -signal.SIGKILL, "the toy ended before it was killed: make it slower"


def resume_and_compare(run_dir, reference):
    """Resume ``run_dir`` in this process (no delay) and compare everything with the uninterrupted run."""
    folder = RunFolder(run_dir)
    assert not folder.is_finished()
    started = folder.read_params() is not None   # a kill at once may come before params.json
    ckpt = folder.load_checkpoint()
    solver = Toy()
    result = solver.run(run_dir, **RUN)
    done = ckpt is not None and ckpt.end is not None
    assert solver.advance_calls == (0 if done else (reference.steps - (ckpt.step if ckpt else 0)) // 4)
    assert_same_result(result, reference)
    # the folder itself: same history text, same frames (byte for byte), same checkpoint state
    assert (run_dir / "history.csv").read_bytes() == (reference.run_dir / "history.csv").read_bytes()
    frames, expected = pvd_frames(run_dir), pvd_frames(reference.run_dir)
    assert [(t, p.name) for t, p in frames] == [(t, p.name) for t, p in expected]
    for (_, p), (_, q) in zip(frames, expected, strict=True):
        assert p.read_bytes() == q.read_bytes(), p.name
    assert sorted(p.name for p in (run_dir / "fields").iterdir()) == [p.name for _, p in frames]
    assert not list(run_dir.rglob(".*")), "temporary files left"
    assert np.array_equal(folder.load_checkpoint().state["u"], reference.fields["u"])
    assert (len(json.loads((run_dir / "provenance.json").read_text())["resumes"]) >= 1) == started


@pytest.mark.parametrize("delays", [(0.0,), (0.2, 0.5), "random"])
def test_resume_after_kills_is_bit_for_bit(tmp_path, reference, delays):
    if delays == "random":   # 5 kills at random moments; writes hold their temporary files, so some land there
        delays = np.random.default_rng().uniform(0.0, 0.25, 5)
    run_dir = tmp_path / "run"
    for delay in delays:
        kill(toy_process(tmp_path, run_dir), "ready", delay)
    resume_and_compare(run_dir, reference)


@pytest.mark.parametrize("stick", ["params.json:1", "provenance.json:1", "checkpoint.npz:3", "history.csv:5",
                                   "fields.pvd:2", "frame_000032.vti:1", "result.json:1"])
def test_kill_during_a_write_leaves_a_resumable_folder(tmp_path, reference, stick):
    run_dir = tmp_path / "run"
    kill(toy_process(tmp_path, run_dir, stick), "stuck")
    name = stick.split(":")[0]
    left = [p.name for p in run_dir.rglob(".*")]
    assert len(left) == 1 and left[0].startswith(f".{Path(name).stem}.tmp-")   # the half-done write
    if name == "checkpoint.npz":
        assert RunFolder(run_dir).load_checkpoint().step == 16        # the previous one, whole
    resume_and_compare(run_dir, reference)


def test_resume_truncates_history_and_frames(tmp_path, reference):
    """A folder stopped past its checkpoint (history rows and frames beyond it) resumes from the checkpoint."""
    run_dir = tmp_path / "run"
    Toy().run(run_dir, **{**RUN, "max_steps": reference.steps})
    folder = RunFolder(run_dir)
    # roll the finished folder back: result gone, checkpoint at step 32 with 8 rows, later rows and frames kept
    solver = Toy()
    solver.run(max_steps=32, observe_every=4)
    folder.result_path.unlink()
    from electrovox.solvers.run import Checkpoint

    folder.save_checkpoint(Checkpoint(solver.state(), 32, solver.time, 8, 0.0))
    (run_dir / "fields" / ".frame_000999.tmp-1234.vti").write_bytes(b"half")
    # same run settings as the rolled-back folder expects
    result = Toy().run(run_dir, **{**RUN, "max_steps": reference.steps})
    assert_same_result(result, reference)
    assert [f.step for f in folder.frames()] == [f.step for f in RunFolder(reference.run_dir).frames()]
    assert not list((run_dir / "fields").glob(".*"))


# --- (d) a finished folder --------------------------------------------------------------------

def test_finished_folder_is_served_without_solving(reference):
    solver = Toy()
    solver.advance = lambda n: pytest.fail("advance called on a finished run")
    result = solver.run(reference.run_dir, **RUN)
    assert_same_result(result, reference)
    assert result.wall_s == reference.wall_s and result.run_dir == reference.run_dir
    assert solver.step == reference.steps and np.array_equal(solver.u, reference.fields["u"])


# --- (e) other parameters ---------------------------------------------------------------------

def test_other_parameters_are_refused(tmp_path, reference):
    with pytest.raises(BadInput, match="holds a run with other parameters.*another --run-dir or delete it"):
        Toy(ToyConfig(rate=0.1)).run(reference.run_dir, **RUN)
    with pytest.raises(BadInput, match="other parameters"):
        Toy().run(reference.run_dir, **{**RUN, "max_steps": 3000})
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(BadInput, match="holds no run"):
        Toy().run(other, **RUN)
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadInput, match="is a file"):
        Toy().run(tmp_path / "file", **RUN)


# --- throughput counters -------------------------------------------------------------------

class Counted(Toy):
    """The toy with its advance counted as grid-cell updates (as the lattice solvers count)."""

    def advance(self, n):
        with self.counting(n * self.u.size):
            super().advance(n)


def test_throughput_counters_travel_in_the_checkpoint(tmp_path):
    """The base counts the updates and compute seconds of ``counting`` blocks and stores them in
    the checkpoint, so a resumed run's MFLUPS is the whole run's.  Reference: the updates are
    steps x cells exactly (an integer count); the seconds must come back equal, not re-measured.
    A checkpoint from before the seconds were kept restores zero (the resumed sitting alone).
    The compute seconds time the ``counting`` blocks only, so they stay below the run's wall time
    (a running sum added up again at each block, or at each checkpoint, would exceed it)."""
    run_dir = tmp_path / "run"
    solver = Counted(ToyConfig(tol=0.0))
    t0 = time.perf_counter()
    solver.run(run_dir, max_steps=40, observe_every=4, checkpoint_every=8)
    wall = time.perf_counter() - t0
    cells = int(np.prod(ToyConfig().shape))
    assert solver.updates == 40 * cells and 0 < solver.compute_s < wall
    ckpt = RunFolder(run_dir).load_checkpoint()
    assert int(ckpt.state["updates"]) == 40 * cells and float(ckpt.state["compute_s"]) == solver.compute_s
    fresh = Counted(ToyConfig(tol=0.0))
    fresh.restore_state(ckpt.state)
    assert (fresh.updates, fresh.compute_s) == (solver.updates, solver.compute_s)
    assert np.array_equal(fresh.u, solver.u)
    old = {k: v for k, v in ckpt.state.items() if k != "compute_s"}
    fresh.restore_state(old)
    assert (fresh.updates, fresh.compute_s, fresh.mflups) == (0, 0.0, None)
    assert Toy().mflups is None                       # nothing counted: no rate, not 0 or inf


def test_a_state_key_of_the_base_is_refused():
    class Clash(Toy):
        def state(self):
            return {"u": self.u, "updates": np.zeros(1)}
    with pytest.raises(RuntimeError, match="updates"):
        Clash().checkpoint_state()


# --- (f) divergence ---------------------------------------------------------------------------

def test_divergence_keeps_the_last_good_state(tmp_path):
    run_dir = tmp_path / "run"
    config = ToyConfig(diverge_at=90)                 # NaN after step 90, seen at the observation of step 92
    result = Toy(config).run(run_dir, **RUN)
    assert result.reason.startswith("diverged: ") and "'u'" in result.reason and not result.converged
    assert result.steps == 88                          # the last checkpoint before the divergence
    assert result.history["step"][-1] == 92 and np.isnan(result.history["max"][-1])
    assert np.all(np.isfinite(result.fields["u"]))
    frames = pvd_frames(run_dir)
    assert [p.name for _, p in frames][-2:] == ["frame_000080.vti", "frame_000088.vti"]
    _, last = read_vti(frames[-1][1])
    assert np.all(np.isfinite(last["u"])) and np.array_equal(last["u"], result.fields["u"])
    assert json.loads((run_dir / "result.json").read_text())["converged"] is False
    # in memory: the same end; a second run on the folder serves it
    assert_same_result(Toy(config).run(**RUN), result)
    assert_same_result(Toy(config).run(run_dir, **RUN), result)


def test_no_vtk_import():
    code = ("import sys, electrovox.solvers.run, electrovox.io.vti_xml; "
            "print(any(m.startswith(('vtk', 'vtkmodules', 'paraview')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_history_at_interpolates_in_time():
    """A history whose columns are linear in time is read back exactly (1e-12) at any time between
    rows; after the last row it holds the last value; before the first row a capacity rises from 0
    at t = 0 (it counts from zero) while the voltage holds the first row's; the DoD is Q / Q_nom,
    and under a constant current (capacity = C-rate x Q_nom x t / 1 h) equals C-rate x t / 1 h."""
    from electrovox.solvers.run.timeline import history_at, time_label

    c_rate, q_nom = 0.5, 280.0
    ts = np.array([60.0, 120.0, 600.0, 3600.0])
    hist = {"step": np.arange(4), "time_s": ts, "voltage_V": 4.2 - 1e-4 * ts,
            "capacity_mAh_g": c_rate * q_nom * ts / 3600.0}
    for t in (60.0, 90.0, 1000.0, 3600.0):
        row = history_at(hist, t, q_nom)
        assert "step" not in row and row["time_s"] == t
        assert row["voltage_V"] == pytest.approx(4.2 - 1e-4 * t, rel=1e-12)
        assert row["dod_percent"] == pytest.approx(100 * c_rate * t / 3600.0, rel=1e-12)
    early = history_at(hist, 30.0, q_nom)
    assert early["capacity_mAh_g"] == pytest.approx(c_rate * q_nom * 30 / 3600, rel=1e-12)
    assert early["voltage_V"] == hist["voltage_V"][0]
    assert history_at(hist, 5000.0)["voltage_V"] == hist["voltage_V"][-1]
    assert "dod_percent" not in history_at(hist, 100.0)          # no nominal capacity: no DoD
    assert time_label(history_at(hist, 1800.0, q_nom)) == "t = 1800 s (0.50 h)   DoD = 25.0 %"
    assert time_label({"time_s": 0.0}) == "t = 0 s (0.00 h)"
    assert time_label({"time_s": 2.3456e-4}) == "t = 0.000235 s"  # sub-second runs (impregnation)
