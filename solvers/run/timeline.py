"""A run's history read at one time: the row an animation shows at its current time, and its label.

numpy only.  Used by the run-folder reader's third output (the marker on a history chart and the
time annotation of a 4D layout), so that ParaView needs no Python-scripted filter for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: history columns that count from zero at t = 0 (the capacity passed): before the first history
#: row they interpolate linearly from 0, not hold the first row's value
FROM_ZERO = ("capacity_mAh_g",)


def run_settings(run_dir) -> tuple[float | None, float | None]:
    """A discharge run's nominal capacity (mAh/g) and C-rate (1/h) from its ``run.json``.

    Returns
    -------
    (float or None, float or None)
        ``positive.capacity_basis_mAh_g`` and ``cell.c_rate``; None for a run folder that is not a
        discharge's (flow, impregnation: their labels give the time only).
    """
    from electrovox.solvers.run.folder import RunFolder
    run = RunFolder(Path(run_dir), params_name="run.json").read_params() or {}
    params = (run.get("config") or {}).get("params") or {}
    basis, c_rate = params.get("positive.capacity_basis_mAh_g"), params.get("cell.c_rate")
    return (None if basis is None else float(basis)), (None if c_rate is None else float(c_rate))


def history_at(history: dict, t: float, capacity_basis_mAh_g: float | None = None) -> dict[str, float]:
    """Every numeric column of a run's history, linearly interpolated in time at ``t``.

    Parameters
    ----------
    history : dict of str to ndarray, shape (n,)
        Columns of ``history.csv`` (:meth:`electrovox.solvers.run.RunFolder.load_history`) with a
        ``time_s`` column (s, increasing).
    t : float
        The time (s).
    capacity_basis_mAh_g : float, optional
        The nominal capacity Q_nom the run's C-rate refers to (mAh/g; 280 for the default NMC811):
        with it and a ``capacity_mAh_g`` column, the row adds the depth of discharge
        ``dod_percent`` = 100 Q(t) / Q_nom (under a run's constant current, C-rate x t in hours).

    Returns
    -------
    dict of str to float
        ``time_s`` = ``t`` and each other column at ``t``: linear between rows, held at the last
        row after it, and before the first row held at the first row's value, except the columns of
        :data:`FROM_ZERO`, which rise linearly from 0 at t = 0 (a capacity starts at zero).  The
        integer ``step`` column is left out (a step is not interpolated).
    """
    row = _interpolate(history, t)
    if capacity_basis_mAh_g and "capacity_mAh_g" in row:
        row["dod_percent"] = 100.0 * row["capacity_mAh_g"] / capacity_basis_mAh_g
    return row


def _interpolate(history: dict, t: float) -> dict[str, float]:
    ts = np.asarray(history.get("time_s", ()), dtype=np.float64)
    if ts.size == 0:
        return {"time_s": float(t)}
    row = {"time_s": float(t)}
    for name, col in history.items():
        if name in ("time_s", "step"):
            continue
        col = np.asarray(col, dtype=np.float64)
        if name in FROM_ZERO and ts[0] > 0.0:
            row[name] = float(np.interp(t, np.concatenate([[0.0], ts]), np.concatenate([[0.0], col])))
        else:
            row[name] = float(np.interp(t, ts, col))
    return row


def time_label(row: dict) -> str:
    """The annotation of a time: ``t = 720 s (0.20 h)``, with ``   DoD = 10.0 %`` when it applies.

    Parameters
    ----------
    row : dict
        A :func:`history_at` row: ``time_s`` (s), and ``dod_percent`` when the row has one.

    Returns
    -------
    str
        Seconds to the unit (three significant digits under 1 s) and hours to 0.01 h; DoD to 0.1 %.
    """
    t = row["time_s"]
    text = f"t = {t:.0f} s ({t / 3600.0:.2f} h)" if t == 0.0 or t >= 1.0 else f"t = {t:.3g} s"
    if "dod_percent" in row:
        text += f"   DoD = {row['dod_percent']:.1f} %"
    return text
