"""The base class of every time-stepping solver: the run loop, checkpoints, resume and divergence.

A solver subclasses :class:`TimeSolver` and fills in six hooks (``advance``, ``observe``,
``frame``, ``state``, ``load_state`` and optionally ``check`` and ``finished``); the base runs
them in memory or into a run folder (:class:`~electrovox.solvers.run.folder.RunFolder`) that a
second call resumes bit for bit after a kill.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.solvers.run.folder import Checkpoint, RunFolder
from electrovox.volume import jsonable

__all__ = ["TimeSolver", "RunResult"]


@dataclass
class RunResult:
    """What a run returns.

    Attributes
    ----------
    times_s : ndarray of float64
        The time in s of each history row.
    history : dict of str to ndarray
        One value per observation: ``step`` (int64), ``time_s`` and the solver's columns
        (float64).  After a divergence it ends with the diverged observation.
    fields : dict of str to ndarray
        The final frame (:meth:`TimeSolver.frame` of the final state, on the image grid).
    reason : str
        Why the run ended: the solver's reason, ``"reached max_steps=N"`` or
        ``"diverged: <message>"``.
    converged : bool
        The solver's verdict (False when diverged or out of steps).
    steps : int
        Steps done by the final state (after a divergence: the last good state's step).
    wall_s : float
        Wall-clock seconds spent solving, over every session of a resumed run.
    run_dir : Path or None
        The run folder, or None for a run in memory.
    """

    times_s: np.ndarray
    history: dict
    fields: dict
    reason: str
    converged: bool
    steps: int
    wall_s: float
    run_dir: Path | None = None


@dataclass
class _Good:
    """The last good state kept in memory (taken at every checkpoint)."""

    state: dict
    step: int
    time: float
    history_length: int


class TimeSolver:
    """Base of the time-stepping solvers (flow, impregnation, electrochemistry).

    The base owns the step counter ``self.step`` (int) and the simulated time ``self.time``
    (float, s) and runs the loop of :meth:`run`.  A subclass implements:

    - ``advance(n)``: advance the state by ``n`` steps AND add their duration to ``self.time``
      (``self.time += n * self.config.dt_s`` for a fixed step; an adaptive solver adds its own
      steps).  ``self.step`` holds the step count at the start of the call and the base adds
      ``n`` after it returns (an ``advance`` that adds ``n`` to ``self.step`` itself is accepted;
      any other change of ``self.step`` is an error).
    - ``observe() -> dict[str, float]``: one history row (the same columns every time; not
      ``step`` or ``time_s``, which the base adds).
    - ``frame() -> dict[str, ndarray]``: the fields of an output frame, ``[z, y, x]`` or
      ``[z, y, x, 3]`` (vectors x, y, z) on the grid of ``self.frame_spacing_um`` and
      ``self.frame_origin_um`` (z, y, x, um).
    - ``state() -> dict[str, ndarray]`` and ``load_state(state)``: everything needed to continue
      bit for bit (random generator states included).  ``state`` may return the live arrays;
      the base copies them where it keeps them.  The keys ``updates`` and ``compute_s`` are the
      base's (the throughput counters, below).
    - ``check() -> str | None`` (optional): a divergence message, or None.  The default reports
      NaN or inf in a floating-point state array.
    - ``finished(history) -> (stop, reason, converged) | None`` (optional): called after each
      good observation with the history so far (dict of column lists, read-only).

    Parameters
    ----------
    config : dataclass instance
        The solver's parameters in SI units; ``params.json`` stores ``dataclasses.asdict(config)``.

    Attributes
    ----------
    name : str
        The solver's name in ``params.json`` (class attribute; default: the class name).
    updates : int
        Lattice-node (or cell) updates counted by :meth:`counting` over the whole run, resumed
        sittings included.
    compute_s : float
        The seconds spent inside :meth:`counting` blocks over the whole run (s).  Both counters
        travel in the checkpoint, so :attr:`mflups` of a resumed run is the whole run's.

    Examples
    --------
    >>> solver = MyFlowSolver(FlowConfig(...))                       # doctest: +SKIP
    >>> result = solver.run("runs/flow1", max_steps=100_000, observe_every=100,
    ...                     checkpoint_every=1000, frame_every=5000)    # doctest: +SKIP
    >>> result.reason, result.converged, result.history["permeability_m2"][-1]   # doctest: +SKIP
    """

    name: str = ""
    #: the file of the run folder that holds :meth:`params` (what a resume must match)
    params_file: str = "params.json"

    def __init__(self, config):
        if not dataclasses.is_dataclass(config) or isinstance(config, type):
            raise TypeError(f"config must be a dataclass instance, got {type(config).__name__}")
        self.config = config
        self.step = 0
        self.time = 0.0
        self.frame_spacing_um = (1.0, 1.0, 1.0)
        self.frame_origin_um = (0.0, 0.0, 0.0)
        self.updates = 0
        self.compute_s = 0.0

    # --- the hooks ------------------------------------------------------------------------------
    def advance(self, n: int) -> None:
        """Advance the state by ``n`` steps and add their duration to ``self.time`` (s)."""
        raise NotImplementedError

    def observe(self) -> dict[str, float]:
        """One history row of the current state, column name to value."""
        raise NotImplementedError

    def frame(self) -> dict[str, np.ndarray]:
        """The fields of the current state for an output frame, ``[z, y, x]`` or ``[z, y, x, 3]``."""
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to continue bit for bit, as named arrays."""
        raise NotImplementedError

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Take the state that :meth:`state` returned (the base restores ``step`` and ``time``)."""
        raise NotImplementedError

    def check(self) -> str | None:
        """A divergence message (NaN, unphysical values), or None when the state is good.

        Returns
        -------
        str or None
            The default names the first floating-point state array holding NaN or inf.
        """
        for key, value in self.state().items():
            a = np.asarray(value)
            if a.dtype.kind in "fc" and not np.isfinite(a).all():
                return f"NaN or inf in '{key}' at step {self.step}"
        return None

    def finished(self, history: dict[str, list]) -> tuple[bool, str, bool] | None:
        """Whether to stop after this observation.

        Parameters
        ----------
        history : dict of str to list
            The columns so far (``step``, ``time_s``, the solver's); do not modify.

        Returns
        -------
        tuple of (bool, str, bool) or None
            ``(stop, reason, converged)``; None (the default) to go on.
        """
        return None

    def on_folder(self, folder: RunFolder) -> None:
        """Called once the run folder is created or validated for a resume (default: nothing).

        Parameters
        ----------
        folder : RunFolder
            The run folder (a solver may write its own files there, atomically).
        """

    # --- throughput ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def counting(self, updates: int):
        """Time the enclosed work and count its ``updates`` (node updates) into the counters.

        Parameters
        ----------
        updates : int
            The node (or cell) updates the block performs, e.g. steps x fluid nodes.
        """
        t0 = time.perf_counter()
        yield
        self.compute_s += time.perf_counter() - t0
        self.updates += int(updates)

    @property
    def mflups(self) -> float | None:
        """Million node updates per compute second over the whole run, or None before any."""
        return self.updates / self.compute_s / 1e6 if self.compute_s > 0 else None

    def checkpoint_state(self) -> dict[str, np.ndarray]:
        """:meth:`state` (copied) with the throughput counters: what a checkpoint stores.

        Returns
        -------
        dict of str to ndarray
            The solver's arrays, ``updates`` (int64) and ``compute_s`` (float64, s).
        """
        state = {k: np.array(v, copy=True) for k, v in self.state().items()}
        clash = {"updates", "compute_s"} & set(state)
        if clash:
            raise RuntimeError(f"{type(self).__name__}.state() uses the base's keys {sorted(clash)}")
        # the updates and the seconds spent on them travel together: the updates alone over one
        # sitting's seconds overstated a resumed run's MFLUPS (59.8 for 15.4, 2026-12-07)
        state["updates"] = np.array(self.updates, dtype=np.int64)
        state["compute_s"] = np.array(self.compute_s, dtype=np.float64)
        return state

    def restore_state(self, state: dict[str, np.ndarray]) -> None:
        """Take what :meth:`checkpoint_state` returned: :meth:`load_state` and the counters.

        Parameters
        ----------
        state : dict of str to ndarray
            A checkpoint's state.  One written before the seconds were kept (no ``compute_s``)
            restores the counters to zero: the resumed sitting alone is counted.
        """
        state = dict(state)
        updates, seconds = state.pop("updates", None), state.pop("compute_s", None)
        self.load_state(state)
        if seconds is None:
            self.updates, self.compute_s = 0, 0.0
        else:
            self.updates, self.compute_s = int(updates), float(seconds)

    # --- parameters -------------------------------------------------------------------------
    def params(self, run_settings: dict | None = None) -> dict:
        """The JSON of ``params.json``.

        Parameters
        ----------
        run_settings : dict, optional
            ``max_steps``, ``observe_every``, ``checkpoint_every``, ``frame_every``.

        Returns
        -------
        dict
            ``solver`` (:attr:`name`), ``electrovox_version``, ``config``
            (``dataclasses.asdict(config)`` made JSON-safe: tuples as lists, numpy scalars as
            numbers) and ``run`` (the settings).
        """
        from electrovox import __version__

        config = json.loads(json.dumps(jsonable(dataclasses.asdict(self.config))))
        return {"solver": self.name or type(self).__name__, "electrovox_version": __version__,
                "config": config, "run": dict(run_settings or {})}

    # --- the run ----------------------------------------------------------------------------
    def solve(self, run_dir=None, **kwargs) -> RunResult:
        """The same as :meth:`run`.

        Parameters
        ----------
        run_dir : str or Path, optional
            The run folder.
        **kwargs
            The keywords of :meth:`run`.

        Returns
        -------
        RunResult
            See :meth:`run`.
        """
        return self.run(run_dir, **kwargs)

    def run(self, run_dir=None, *, max_steps: int, observe_every: int, checkpoint_every: int | None = None,
            frame_every: int | None = None, progress=None) -> RunResult:
        """Run the solver from its initial state until it finishes, diverges or runs out of steps.

        Loop: ``advance(observe_every)`` -> ``observe`` -> ``check`` (on a divergence the last
        good state is restored and the run stops) -> ``finished`` -> a frame every
        ``frame_every`` steps -> a checkpoint every ``checkpoint_every`` steps (state and history
        together).  At the end: the last frame, the history, the checkpoint and ``result.json``.

        With ``run_dir``: a new (or empty) folder starts a run; an unfinished run with the same
        parameters (config and the four step settings) is resumed from its checkpoint (the
        history after it truncated, the frames after it deleted) and ends exactly as an
        uninterrupted run would; a finished one is returned without solving (the solver is left
        in the run's final state).  The ``electrovox_version`` in ``params.json`` is not compared.

        The last good state is kept in memory as a copy of :meth:`state` (taken at every
        checkpoint), so a run holds the state twice.

        Parameters
        ----------
        run_dir : str or Path, optional
            The run folder (see :mod:`electrovox.solvers.run.folder`); None: everything stays
            in memory.
        max_steps : int
            Steps at most.
        observe_every : int
            Steps between history rows (and ``check`` / ``finished`` calls).
        checkpoint_every : int, optional
            Steps between checkpoints (on disk with ``run_dir``, and the last good state kept in
            memory), a multiple of ``observe_every``; default: every observation.
        frame_every : int, optional
            Steps between output frames (``run_dir`` only; the first at step 0), a multiple of
            ``observe_every``; default: the final frame only.
        progress : callable, optional
            ``progress(fraction, message)``, fraction = step / max_steps.

        Returns
        -------
        RunResult
            Times, histories, final fields, reason, converged, steps, wall time.

        Raises
        ------
        BadInput
            Step settings that are not positive integers or not multiples of ``observe_every``;
            a ``run_dir`` that holds a run with other parameters, or is a non-empty folder that
            holds no run.
        RuntimeError
            The solver was already stepped (create a new one per run).
        """
        settings = _settings(max_steps, observe_every, checkpoint_every, frame_every)
        checkpoint_every = settings["checkpoint_every"]
        if self.step != 0:
            raise RuntimeError(f"{type(self).__name__} is at step {self.step}: run() starts from the initial "
                               "state, create a new solver for another run")
        start = time.perf_counter()
        folder = None if run_dir is None else RunFolder(run_dir, self.params_file)
        history: dict[str, list] = {"step": [], "time_s": []}
        wall_before, end = 0.0, None
        if folder is not None:
            params = self.params(settings)
            stored = folder.read_params()
            if stored is None:
                folder.create(params)
            else:
                if _comparable(stored) != _comparable(params):
                    raise BadInput(folder.path, "holds a run with other parameters",
                                   "give another --run-dir or delete it")
                folder.remove_temporary()
                ckpt = folder.load_checkpoint()
                if ckpt is not None:
                    if ckpt.end is not None and folder.is_finished():
                        return self._finished_result(folder, ckpt, progress)
                    self._restore(_Good(ckpt.state, ckpt.step, ckpt.time_s, ckpt.history_length))
                    history = _truncated(folder, ckpt.history_length)
                    wall_before, end = ckpt.wall_s, ckpt.end
                folder.drop_frames_after(self.step if ckpt is not None else -1)
                folder.write_history(history)
                folder.note_resume(self.step)
        if folder is not None:
            self.on_folder(folder)

        good = self._good(len(history["step"]))
        if folder is not None and frame_every and self.step == 0 and end is None:
            folder.write_frame(0, self.time, self.frame(), self.frame_spacing_um, self.frame_origin_um)
        while end is None:
            if self.step >= max_steps:
                end = {"reason": f"reached max_steps={max_steps}", "converged": False}
                break
            n = min(observe_every, max_steps - self.step)
            self._advance(n)
            self._record(history, self.observe())
            message = self.check()
            if message is not None:
                self._restore(good)
                end = {"reason": f"diverged: {message}", "converged": False}
                if folder is not None:
                    folder.drop_frames_after(self.step)
                break
            stop = self.finished(history)
            if stop is not None and stop[0]:
                end = {"reason": str(stop[1]), "converged": bool(stop[2])}
                break
            if folder is not None and frame_every and self.step % frame_every == 0:
                # before the checkpoint: every frame up to a checkpoint's step is on disk
                folder.write_frame(self.step, self.time, self.frame(), self.frame_spacing_um, self.frame_origin_um)
            if self.step % checkpoint_every == 0:
                good = self._good(len(history["step"]))
                if folder is not None:
                    folder.write_history(history)  # before the checkpoint: it holds at least its rows
                    folder.save_checkpoint(Checkpoint(good.state, good.step, good.time, good.history_length,
                                                      wall_before + time.perf_counter() - start))
            report(progress, self.step / max_steps, f"step {self.step}/{max_steps}")

        fields = self.frame()
        wall_s = wall_before + time.perf_counter() - start
        if folder is not None:
            frames = folder.frames()
            if not frames or frames[-1].step != self.step:
                folder.write_frame(self.step, self.time, fields, self.frame_spacing_um, self.frame_origin_um)
            folder.write_history(history)
            folder.save_checkpoint(Checkpoint(self.checkpoint_state(), self.step, self.time, len(history["step"]),
                                              wall_s, end))
            folder.write_result({**end, "steps": self.step, "time_s": self.time, "wall_s": wall_s})
        report(progress, 1.0, end["reason"])
        columns = _columns(history)
        return RunResult(columns["time_s"], columns, fields, end["reason"], end["converged"], self.step, wall_s,
                         None if folder is None else folder.path)

    # --- helpers ----------------------------------------------------------------------------
    def _advance(self, n: int) -> None:
        """``advance(n)``, then ``self.step += n`` unless advance already counted the steps."""
        before = self.step
        self.advance(n)
        if self.step == before:
            self.step += n
        elif self.step != before + n:
            raise RuntimeError(f"{type(self).__name__}.advance({n}) moved self.step from {before} to {self.step}: "
                               f"it must advance exactly {n} steps (observe_every, checkpoint_every and max_steps "
                               "must suit the solver's stepping, e.g. even for paired steps)")

    def _good(self, history_length: int) -> _Good:
        """A copy of the current state, kept as the last good one."""
        return _Good(self.checkpoint_state(), self.step, self.time, history_length)

    def _restore(self, good: _Good) -> None:
        self.restore_state(good.state)
        self.step, self.time = int(good.step), float(good.time)

    def _record(self, history: dict, row: dict) -> None:
        """Append one observation (the base's ``step`` and ``time_s``, then the solver's row)."""
        if "step" in row or "time_s" in row:
            raise ValueError("observe() must not return the columns 'step' or 'time_s' (the base adds them)")
        if len(history) == 2 and not history["step"]:
            history.update({k: [] for k in row})
        if set(row) != set(history) - {"step", "time_s"}:
            raise ValueError(f"observe() returned the columns {list(row)}, before {list(history)[2:]}")
        history["step"].append(int(self.step))
        history["time_s"].append(float(self.time))
        for k in row:
            history[k].append(float(row[k]))

    def _finished_result(self, folder: RunFolder, ckpt: Checkpoint, progress) -> RunResult:
        """The result of a finished run folder, without solving (the solver takes its final state)."""
        self._restore(_Good(ckpt.state, ckpt.step, ckpt.time_s, ckpt.history_length))
        result = folder.read_result()
        columns = _columns(_truncated(folder, ckpt.history_length))
        report(progress, 1.0, f"finished run loaded from {folder.path}")
        return RunResult(columns["time_s"], columns, self.frame(), str(result["reason"]), bool(result["converged"]),
                         int(result["steps"]), float(result["wall_s"]), folder.path)


def _settings(max_steps, observe_every, checkpoint_every, frame_every) -> dict:
    """The step settings checked, ``checkpoint_every`` defaulted to ``observe_every``."""
    def positive(name, value):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise BadInput(name, f"must be a positive integer number of steps, got {value!r}",
                           f"give {name}=N with N >= 1")
        return int(value)

    out = {"max_steps": positive("max_steps", max_steps), "observe_every": positive("observe_every", observe_every)}
    for name, value in (("checkpoint_every", checkpoint_every), ("frame_every", frame_every)):
        if value is None:
            out[name] = out["observe_every"] if name == "checkpoint_every" else None
            continue
        out[name] = positive(name, value)
        if out[name] % out["observe_every"]:
            raise BadInput(name, f"{value} is not a multiple of observe_every={observe_every}",
                           f"give {name} as a multiple of observe_every")
    return out


def _comparable(params: dict) -> dict:
    """The part of ``params.json`` that must match to resume: solver, config, step settings."""
    return json.loads(json.dumps({k: params.get(k) for k in ("solver", "config", "run")}))


def _truncated(folder: RunFolder, length: int) -> dict[str, list]:
    """The first ``length`` history rows of the folder, as column lists of Python numbers."""
    columns = folder.load_history()
    have = len(columns["step"]) if "step" in columns else 0
    if have < length:
        raise BadInput(folder.history_path, f"has {have} rows, the checkpoint needs {length}",
                       "delete the run folder and run again")
    if not columns:
        return {"step": [], "time_s": []}
    return {k: v[:length].tolist() for k, v in columns.items()}


def _columns(history: dict[str, list]) -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=np.int64 if k == "step" else np.float64) for k, v in history.items()}
