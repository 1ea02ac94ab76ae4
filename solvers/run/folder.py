"""The run folder of a time-stepping solver: what a run writes as it goes, and reads back to resume.

::

    RUN_DIR/
        params.json       {"solver", "electrovox_version", "config" (SI units), "run" (step settings)}
        provenance.json   command line, date, host, versions; one entry per resume
        history.csv       step, time_s, then the solver's columns; one row per observation
        checkpoint.npz    the state arrays, step, time, history length (and the end, once finished)
        fields.pvd        the output frames in time order (opens in ParaView as a time series)
        fields/frame_000123.vti   one frame per output, named by its step
        result.json       reason, converged, steps, time_s, wall_s: written last, marks the run finished

Every file is written under a temporary name and renamed into place (``os.replace``), so a run
killed at any moment leaves each file either old or new, never half-written.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import platform
import re
import shlex
import socket
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from electrovox.errors import BadInput
from electrovox.io.atomic import atomic_output
from electrovox.io.vti_xml import write_vti_xml

__all__ = ["RunFolder", "Checkpoint", "Frame"]

_FRAME = re.compile(r"frame_(\d+)\.vti$")
_TEMPORARY = re.compile(r"^\..+\.tmp-\d+(-\d+)?(\.[^.]+)?$")  # electrovox.io.atomic.temporary_path names


@dataclass
class Checkpoint:
    """A state saved by :meth:`RunFolder.save_checkpoint`.

    Attributes
    ----------
    state : dict of str to ndarray
        The solver's state arrays.
    step : int
        Steps done.
    time_s : float
        Simulated time in s.
    history_length : int
        History rows observed up to this state.
    wall_s : float
        Wall-clock seconds spent to reach it (over every session of the run).
    end : dict or None
        ``{"reason", "converged"}`` when the run ended at this state, else None.
    """

    state: dict
    step: int
    time_s: float
    history_length: int
    wall_s: float
    end: dict | None = None


@dataclass(frozen=True)
class Frame:
    """One output frame listed in ``fields.pvd``: its step, time in s and ``.vti`` file."""

    step: int
    time_s: float
    path: Path


def _write_json(path: Path, obj) -> None:
    with atomic_output(path, force=True) as tmp:
        tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def _read_json(path: Path):
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(path, f"cannot be read ({exc})", "delete the run folder and run again") from None


class RunFolder:
    """The on-disk folder of one run: parameters, history, checkpoint, frames and result.

    Parameters
    ----------
    path : str or Path
        The folder (created by :meth:`create`).

    Examples
    --------
    >>> folder = RunFolder("runs/flow1")                          # doctest: +SKIP
    >>> folder.is_finished(), [f.step for f in folder.frames()]   # doctest: +SKIP
    (True, [0, 100, 200])
    """

    def __init__(self, path, params_name: str = "params.json"):
        self.path = Path(path)
        # the discharge solver keeps its run parameters in run.json: its params.json is a BPX file
        self.params_path = self.path / params_name
        self.provenance_path = self.path / "provenance.json"
        self.history_path = self.path / "history.csv"
        self.checkpoint_path = self.path / "checkpoint.npz"
        self.pvd_path = self.path / "fields.pvd"
        self.frames_dir = self.path / "fields"
        self.result_path = self.path / "result.json"

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # --- parameters and provenance ----------------------------------------------------------
    def read_params(self) -> dict | None:
        """The parameters of the run in the folder.

        Returns
        -------
        dict or None
            ``params.json``; None when the folder holds no run.
        """
        return _read_json(self.params_path)

    def create(self, params: dict) -> None:
        """Start a run here: create the folder and write ``params.json`` and ``provenance.json``.

        Parameters
        ----------
        params : dict
            JSON-ready parameters (see :meth:`electrovox.solvers.run.TimeSolver.params`).

        Raises
        ------
        BadInput
            The path is a file, or a non-empty folder that holds no run.
        """
        if self.path.exists() and not self.path.is_dir():
            raise BadInput(self.path, "is a file, not a run folder", "give a new folder name as the run folder")
        if self.path.is_dir() and any(not _TEMPORARY.match(p.name) for p in self.path.iterdir()):
            raise BadInput(self.path, "is a folder that holds no run (no params.json) and is not empty",
                           "give a new or empty folder as the run folder")
        self.path.mkdir(parents=True, exist_ok=True)
        self.remove_temporary()
        # params.json first: from then on the folder is a run folder, whatever else a kill prevents
        _write_json(self.params_path, params)
        _write_json(self.provenance_path, {**_session("created"), "resumes": []})

    def note_resume(self, step: int) -> None:
        """Add a resume (command, date, host, the step it starts from) to ``provenance.json``.

        Parameters
        ----------
        step : int
            The step the run continues from.
        """
        prov = _read_json(self.provenance_path) or {**_session("created"), "note": "provenance.json was missing"}
        prov.setdefault("resumes", []).append({**_session("resumed"), "from_step": int(step)})
        _write_json(self.provenance_path, prov)

    def remove_temporary(self) -> None:
        """Delete the temporary files a killed run left (``.NAME.tmp-PID.ext``, see atomic_output)."""
        for folder in (self.path, self.frames_dir):
            if folder.is_dir():
                for p in folder.iterdir():
                    if _TEMPORARY.match(p.name) and p.is_file():
                        p.unlink(missing_ok=True)

    # --- history ----------------------------------------------------------------------------
    def write_history(self, history: dict) -> None:
        """Write ``history.csv`` whole (atomically), one row per observation.

        Parameters
        ----------
        history : dict of str to sequence
            Columns, ``step`` and ``time_s`` first; floats are written as their shortest exact
            text, so they read back bit for bit.
        """
        names = list(history)
        n = len(history[names[0]]) if names else 0
        with atomic_output(self.history_path, force=True) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(names)
            for i in range(n):
                w.writerow([int(history[c][i]) if c == "step" else repr(float(history[c][i])) for c in names])

    def load_history(self) -> dict[str, np.ndarray]:
        """Read ``history.csv``.

        Returns
        -------
        dict of str to ndarray
            Columns: ``step`` (int64), ``time_s`` and the solver's columns (float64); empty when
            there is no history yet.
        """
        if not self.history_path.is_file():
            return {}
        with open(self.history_path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        if not rows:
            return {}
        names, body = rows[0], rows[1:]
        try:
            return {c: np.array([int(r[j]) if c == "step" else float(r[j]) for r in body],
                                dtype=np.int64 if c == "step" else np.float64) for j, c in enumerate(names)}
        except (ValueError, IndexError) as exc:
            raise BadInput(self.history_path, f"is damaged ({exc})", "delete the run folder and run again") from None

    # --- checkpoint -------------------------------------------------------------------------
    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Write ``checkpoint.npz`` atomically (flushed to disk before the rename).

        Parameters
        ----------
        checkpoint : Checkpoint
            The state and its step, time, history length, wall time and end.
        """
        meta = {"step": int(checkpoint.step), "time_s": float(checkpoint.time_s),
                "history_length": int(checkpoint.history_length), "wall_s": float(checkpoint.wall_s),
                "end": checkpoint.end}
        arrays = {f"state/{k}": np.asarray(v) for k, v in checkpoint.state.items()}
        arrays["time_s"] = np.float64(checkpoint.time_s)  # the float itself (the JSON text is also exact)
        with atomic_output(self.checkpoint_path, force=True) as tmp, open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
            f.flush()
            os.fsync(f.fileno())

    def load_checkpoint(self) -> Checkpoint | None:
        """Read ``checkpoint.npz``.

        Returns
        -------
        Checkpoint or None
            None when the run has no checkpoint yet.

        Raises
        ------
        BadInput
            A damaged checkpoint.
        """
        if not self.checkpoint_path.is_file():
            return None
        try:
            with np.load(self.checkpoint_path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                state = {k[len("state/"):]: data[k] for k in data.files if k.startswith("state/")}
                time_s = float(data["time_s"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise BadInput(self.checkpoint_path, f"is damaged ({exc})", "delete the run folder and run again") from None
        return Checkpoint(state, int(meta["step"]), time_s, int(meta["history_length"]), float(meta["wall_s"]),
                          meta.get("end"))

    # --- frames -----------------------------------------------------------------------------
    def frames(self) -> list[Frame]:
        """The frames listed in ``fields.pvd``, in step order.

        Returns
        -------
        list of Frame
            Empty when there is no ``fields.pvd`` yet.
        """
        if not self.pvd_path.is_file():
            return []
        import xml.etree.ElementTree as ET

        try:
            root = ET.parse(self.pvd_path).getroot()
        except ET.ParseError as exc:
            raise BadInput(self.pvd_path, f"is damaged ({exc})", "delete the run folder and run again") from None
        out = []
        for ds in root.iter("DataSet"):
            rel = ds.get("file", "")
            m = _FRAME.search(rel)
            if m:
                out.append(Frame(int(m.group(1)), float(ds.get("timestep", "nan")), self.path / rel))
        return sorted(out, key=lambda f: f.step)

    def write_frame(self, step: int, time_s: float, arrays: dict, spacing_um, origin_um=(0.0, 0.0, 0.0),
                    field: dict | None = None) -> Path:
        """Write ``fields/frame_STEP.vti`` and list it in ``fields.pvd`` (both atomically).

        A frame of the same step replaces the listed one.

        Parameters
        ----------
        step : int
            The step of the frame (its file name).
        time_s : float
            Its time in s (the ``.pvd`` timestep).
        arrays : dict of str to ndarray
            Point data, ``[z, y, x]`` or ``[z, y, x, 3]`` (see :func:`electrovox.io.vti_xml.write_vti_xml`).
        spacing_um : tuple of 3 float
            Voxel size (dz, dy, dx) in um.
        origin_um : tuple of 3 float
            Centre of the first voxel (z, y, x) in um.
        field : dict of str to str, optional
            Field-data text; ``step`` and ``time_s`` are added.

        Returns
        -------
        Path
            The ``.vti`` file.
        """
        self.frames_dir.mkdir(exist_ok=True)
        path = self.frames_dir / f"frame_{int(step):06d}.vti"
        text = {**(field or {}), "step": str(int(step)), "time_s": repr(float(time_s))}
        write_vti_xml(path, arrays, spacing_um, origin_um, field=text)
        frames = [f for f in self.frames() if f.step != step] + [Frame(int(step), float(time_s), path)]
        self._write_pvd(sorted(frames, key=lambda f: f.step))
        return path

    def drop_frames_after(self, step: int) -> None:
        """Forget the frames after ``step``: unlist them from ``fields.pvd``, then delete their files.

        Also deletes frame files that no ``.pvd`` lists (written just before a kill).

        Parameters
        ----------
        step : int
            The last step to keep (-1: drop every frame).
        """
        frames = self.frames()
        keep = [f for f in frames if f.step <= step]
        if len(keep) != len(frames):
            self._write_pvd(keep)
        listed = {f.path.name for f in keep}
        if self.frames_dir.is_dir():
            for p in self.frames_dir.iterdir():
                if _FRAME.fullmatch(p.name) and p.name not in listed:
                    p.unlink(missing_ok=True)

    def _write_pvd(self, frames: list[Frame]) -> None:
        lines = ['<?xml version="1.0"?>',
                 '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">', "  <Collection>"]
        for f in frames:
            rel = f.path.relative_to(self.path).as_posix()
            lines.append(f'    <DataSet timestep="{f.time_s!r}" group="" part="0" file={quoteattr(rel)}/>')
        lines += ["  </Collection>", "</VTKFile>", ""]
        with atomic_output(self.pvd_path, force=True) as tmp:
            tmp.write_text("\n".join(lines), encoding="utf-8")

    # --- result -----------------------------------------------------------------------------
    def write_result(self, result: dict) -> None:
        """Write ``result.json``: the run is finished.

        Parameters
        ----------
        result : dict
            JSON-ready: ``reason``, ``converged``, ``steps``, ``time_s``, ``wall_s``.
        """
        _write_json(self.result_path, result)

    def read_result(self) -> dict | None:
        """The result of a finished run.

        Returns
        -------
        dict or None
            ``result.json``; None while the run is unfinished.
        """
        return _read_json(self.result_path)

    def is_finished(self) -> bool:
        """Whether the run ended (``result.json`` exists).

        Returns
        -------
        bool
            True once the run wrote its result.
        """
        return self.result_path.is_file()


def _session(what: str) -> dict:
    """Who ran what, where and when (provenance of a session)."""
    from electrovox import __version__

    return {"event": what, "command": shlex.join(sys.argv), "cwd": os.getcwd(),
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "host": socket.gethostname(),
            "electrovox_version": __version__, "python": platform.python_version(), "numpy": np.__version__}
