"""4D inspection of a discharge in ParaView (state_files/discharge_4d.py): pvbatch, the state, the GUI.

One tiny discharge run folder (a 16 x 8 x 8 electrode phantom of 1 um voxels, the numpy core, a
few seconds) is read by the script; nothing is solved in ParaView.  References, built here in the
pip runtime: the run folder's own files (the .pvd's frame times, the .vti frames read with the
``vtk`` wheel and reduced with numpy, history.csv read with ``csv``) and the phantom's labels.
"""

from __future__ import annotations

import csv
import json
import struct
import time
import xml.etree.ElementTree as ET
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from test_paraview import (  # noqa: F401  (pv_runtime: autouse fixture)
    BIN,
    ROOT,
    SCRIPTS,
    GuiSession,
    _require,
    pv_runtime,
    run_checked,
)

pytestmark = pytest.mark.paraview

SCRIPT = ROOT / "state_files" / "discharge_4d.py"
LAYOUT = "ElectroVox discharge 4D"
# the phase colours of electrovox.phases.PHASES as 8-bit RGB, by DEFAULT_LEGEND id (pore, cbd, am)
PHASE_RGB = {0: (31, 31, 41), 1: (51, 161, 43), 2: (217, 140, 64)}
# ends of ParaView's "Viridis (matplotlib)" preset, 8-bit RGB (#440154, #fde725)
VIRIDIS_LOW, VIRIDIS_HIGH = (68, 1, 84), (253, 231, 37)
# pvbatch's 1600 x 800 layout: the volume view is the top-left quarter (800 x 400); its annotation
# is in the top 30 rows and its colour bar right of x = 570: the volume alone is inside this box
VOLUME_BOX = (slice(32, 395), slice(0, 560))
PHASE_BOX = (slice(0, 800), slice(805, 1480))   # the right half, left of the phase legend
CHART_BOX = (slice(405, 800), slice(0, 795))


# --- the run folder and its references ---------------------------------------------------------

def _read_vti(path: Path) -> dict:
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOXML import vtkXMLImageDataReader

    r = vtkXMLImageDataReader()
    r.SetFileName(str(path))
    r.Update()
    img = r.GetOutput()
    nx, ny, nz = img.GetDimensions()
    pd = img.GetPointData()
    return {pd.GetArrayName(i): vtk_to_numpy(pd.GetArray(i)).reshape(nz, ny, nx)
            for i in range(pd.GetNumberOfArrays())}


@pytest.fixture(scope="module")
def run4d(tmp_path_factory):
    """A finished discharge run folder of a small phantom, with the references read from its files."""
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.echem.discharge import discharge
    from electrovox.solvers.phantoms.electrode import generate_electrode

    d = tmp_path_factory.mktemp("d4d")
    lab = generate_electrode((16, 8, 8), (1.0, 1.0, 1.0), seed=4, d50_um=5.0)["labels"]
    t0 = time.monotonic()
    res = discharge(lab, DEFAULT_LEGEND, 1.0, run_dir=d / "run", frames=4, output_rows=40)
    solve_s = time.monotonic() - t0
    run = d / "run"
    sets = ET.parse(run / "fields.pvd").getroot().iter("DataSet")
    frames = [(float(e.get("timestep")), run / e.get("file")) for e in sets]
    fields = [_read_vti(path) for _, path in frames]
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    history = {k: np.array([float(r[k]) for r in rows]) for k in ("time_s", "capacity_mAh_g", "voltage_V")}
    config = json.loads((run / "run.json").read_text())["config"]["params"]
    # the frames' phase array against the phantom's labels (written with DEFAULT_LEGEND ids)
    phase = fields[0]["phase"]
    truth = lab.astype(np.int64)
    return {"dir": d, "run": run, "labels": lab, "result": res, "times": [t for t, _ in frames],
            "fields": fields, "history": history, "c_rate": config["cell.c_rate"],
            "nominal": config["positive.capacity_basis_mAh_g"], "phase": phase, "truth": truth,
            "solve_s": solve_s}


def _lith_range(run4d) -> tuple[float, float]:
    """min / max of the lithiation over all frames, NaN (outside the active material) left out."""
    vals = [f["lithiation"] for f in run4d["fields"]]
    return float(min(np.nanmin(v) for v in vals)), float(max(np.nanmax(v) for v in vals))


def _expected_text(run4d, t: float) -> str:
    """The annotation at time t from the history alone (the script's documented definition)."""
    h = run4d["history"]
    q = np.interp(t, np.concatenate([[0.0], h["time_s"]]), np.concatenate([[0.0], h["capacity_mAh_g"]]))
    return f"t = {t:.0f} s ({t / 3600.0:.2f} h)   DoD = {100.0 * q / run4d['nominal']:.1f} %"


def _rgb(data) -> np.ndarray:
    from PIL import Image

    with Image.open(data if not isinstance(data, bytes) else BytesIO(data)) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


def _background(px: np.ndarray) -> np.ndarray:
    """The most frequent colour of an image region (a view's background)."""
    colours, counts = np.unique(px.reshape(-1, 3), axis=0, return_counts=True)
    return colours[np.argmax(counts)]


def _foreground(px: np.ndarray) -> np.ndarray:
    """Mask of the pixels that differ from the region's background (sum of |dRGB| > 30 of 765)."""
    return np.abs(px - _background(px)).sum(axis=-1) > 30


def _near(px: np.ndarray, rgb, tol: int) -> np.ndarray:
    return (np.abs(px - np.asarray(rgb, dtype=np.int16)) <= tol).all(axis=-1)


# --- pvbatch: the script ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def script_run(run4d):
    """state_files/discharge_4d.py RUN OUT --movie, once."""
    _require("xvfb-run")
    stem = run4d["dir"] / "d4d"
    t0 = time.monotonic()
    r = run_checked([BIN / "electrovox-pvbatch", "--render", SCRIPT, run4d["run"], stem, "--movie"],
                    cwd=run4d["dir"], timeout=300)
    return {"stem": stem, "stdout": r.stdout, "stderr": r.stderr, "wall_s": time.monotonic() - t0,
            "summary": json.loads(stem.with_suffix(".json").read_text())}


def test_script_reads_the_run_folder_without_solving(script_run, run4d):
    """The script reads the run folder's frames (their times, the PVD's) and writes the PNG, the
    state, the summary and the movie; the run folder is left as it was (nothing solved again)."""
    s = script_run["summary"]
    np.testing.assert_allclose(s["times_s"], run4d["times"], rtol=1e-12)  # the PVD's times, as parsed
    for ext in (".png", ".pvsm", ".json"):
        assert script_run["stem"].with_suffix(ext).is_file(), ext
    assert s["movie"] and Path(s["movie"]).is_file()
    assert "discharge_4d: " in script_run["stdout"] and s["movie"] in script_run["stdout"]
    assert not list(run4d["dir"].glob("*.part*")), "a temporary file was left behind"
    assert len(list((run4d["run"] / "fields").iterdir())) == len(run4d["times"])


def test_colour_range_is_the_min_max_over_all_frames(script_run, run4d):
    """The lithiation colour map spans the min to the max over ALL frames (numpy on the .vti files)
    and is locked ('Never' rescaled).  ParaView's range of a float32 array is the float32 values
    as doubles: equal to numpy's nanmin / nanmax exactly (1e-12 relative for the JSON round trip)."""
    s = script_run["summary"]
    lo, hi = _lith_range(run4d)
    assert s["lithiation_range"] == pytest.approx([lo, hi], rel=1e-12)
    assert s["lut_range"] == pytest.approx([lo, hi], rel=1e-12)
    assert s["lut_rescale_mode"] == "Never"
    # the range is not that of one frame: the first is all at the initial lithiation, the last higher
    first = run4d["fields"][0]["lithiation"]
    assert np.nanmax(first) == pytest.approx(lo, abs=1e-6) and np.nanmax(run4d["fields"][-1]["lithiation"]) == hi


def test_time_annotation_in_seconds_and_depth_of_discharge(script_run, run4d):
    """At each frame the annotation gives the time in s and h and the DoD = Q(t) / Q_nom, Q from the
    history (numpy interpolation here); under the constant current DoD = C-rate x t (h), to the
    annotation's 0.05 % print rounding (plus 1e-9 for the history's float rounding)."""
    s = script_run["summary"]
    assert s["nominal_capacity_mAh_g"] == run4d["nominal"]
    assert s["annotations"] == [_expected_text(run4d, t) for t in run4d["times"]]
    for t, text in zip(run4d["times"], s["annotations"], strict=True):
        dod = float(text.split("DoD = ")[1].rstrip(" %"))
        assert dod == pytest.approx(100.0 * run4d["c_rate"] * t / 3600.0, abs=0.05 + 1e-9), text
    assert len(set(s["annotations"])) == len(run4d["times"])  # it moves with the animation time


def test_png_shows_the_lithiation_volume_the_phases_and_the_curve(script_run, run4d):
    """The screenshot at the last frame: the volume rendering has many colours (not a blank
    background), its colour bar shows Viridis' two ends; the phase slice shows the three phase
    colours in the proportions of the middle y plane of the phases (numpy on the frame; the slice
    draws each voxel as one texel of 16 x 8; 0.02 allows for the pixel rounding at the texels'
    edges and for the orientation axes drawn over ~1.5 % of the slice); the chart shows the curve
    (blue) and the marker (red) at the end of the curve."""
    px = _rgb(script_run["stem"].with_suffix(".png"))
    assert px.shape == (800, 1600, 3)
    vol = px[VOLUME_BOX]
    fg = _foreground(vol)
    assert fg.mean() > 0.05, f"the volume covers {fg.mean():.3f} of its box"
    assert len(np.unique(vol[fg], axis=0)) >= 100, "the volume rendering has few colours"
    bar = px[0:400, 560:800]
    for rgb in (VIRIDIS_LOW, VIRIDIS_HIGH):
        assert _near(bar, rgb, 12).sum() >= 20, f"no {rgb} in the colour bar"
    # the phases: pixel shares against the voxel shares of the middle y plane
    phase = run4d["phase"]
    plane = phase[:, (phase.shape[1] - 1) // 2, :]
    want = {k: float((plane == k).mean()) for k in PHASE_RGB}
    assert min(want.values()) > 0.05                    # all three phases are in this plane
    sl = px[PHASE_BOX]
    counts = {k: _near(sl, rgb, 6).sum() for k, rgb in PHASE_RGB.items()}
    total = sum(counts.values())
    assert total > 0.2 * sl.shape[0] * sl.shape[1]
    for k, n in counts.items():
        assert n / total == pytest.approx(want[k], abs=0.02), (k, {j: c / total for j, c in counts.items()}, want)
    # the chart: the blue curve and the red marker at the animation time (the last frame: the end)
    chart = px[CHART_BOX]
    assert _near(chart, (26, 77, 179), 40).sum() > 200          # the curve's 0.1, 0.3, 0.7
    red = _near(chart, (217, 26, 26), 40)                        # the marker's 0.85, 0.1, 0.1
    assert red.sum() > 30
    ys, xs = np.nonzero(red[120:])          # below the chart's legend (which repeats the marker)
    assert xs.size and xs.mean() > 0.6 * 795, "the marker is not at the end of the curve"


def _avi_frames(data: bytes) -> tuple[dict, list[bytes]]:
    """The AVI main header (frames, width, height) and the video chunks of its 'movi' list."""
    assert data[:4] == b"RIFF" and data[8:12] == b"AVI "
    i = data.index(b"avih")
    us, _, _, _, total, _, _, _, width, height = struct.unpack("<10I", data[i + 8:i + 48])
    i = data.index(b"movi") + 4
    end = i - 8 + struct.unpack("<I", data[i - 8:i - 4])[0] + 4   # the LIST's size counts from 'movi'
    chunks = []
    while i + 8 <= end:
        cid, size = data[i:i + 4], struct.unpack("<I", data[i + 4:i + 8])[0]
        if cid[2:] in (b"dc", b"db"):
            chunks.append(data[i + 8:i + 8 + size])
        i += 8 + size + (size & 1)
    return {"us_per_frame": us, "frames": total, "width": width, "height": height}, chunks


def test_movie_has_one_frame_per_time_step(script_run, run4d):
    """The movie: an AVI (FFMPEG) with one frame per 4D frame at 1600 x 800 whose first and last
    frames differ in the volume rendering and the annotation (MJPEG frames decoded here with PIL);
    or, where this ParaView has no FFMPEG, an Ogg Theora file (then only its header is checked)."""
    movie = Path(script_run["summary"]["movie"])
    data = movie.read_bytes()
    assert len(data) > 20_000
    if movie.suffix == ".ogv":
        assert data[:4] == b"OggS" and b"theora" in data[:200]
        return
    assert movie.suffix == ".avi"
    head, chunks = _avi_frames(data)
    n = len(run4d["times"])
    assert head["frames"] == n and len(chunks) == n, (head, len(chunks))
    assert (head["width"], head["height"]) == (1600, 800)
    if not chunks[0].startswith(b"\xff\xd8"):
        pytest.skip("the AVI's codec is not MJPEG: frames not decoded")
    first, last = _rgb(chunks[0]), _rgb(chunks[-1])
    assert first.shape == last.shape == (800, 1600, 3)
    # JPEG noise is a few levels; the volume's colours move by tens (lithiation 0.23 -> up to 0.96)
    changed = np.abs(first[VOLUME_BOX] - last[VOLUME_BOX]).sum(axis=-1) > 40
    assert changed.mean() > 0.02
    assert np.abs(first[0:30, 0:450] - last[0:30, 0:450]).sum(axis=-1).max() > 200  # the annotation


def _ogg_theora(data: bytes) -> dict:
    """Width, height, frame rate and frame count of an Ogg Theora file (identification header and
    the last page's granule position: key frame index << shift | frames since it, counted from 1)."""
    assert data[:4] == b"OggS"
    i = data.index(b"\x80theora") + 7
    h = data[i:i + 35]
    frn, frd = struct.unpack(">II", h[15:23])
    shift = (int.from_bytes(h[33:35], "big") >> 5) & 0x1F
    granule, pos = 0, 0
    while (j := data.find(b"OggS", pos)) >= 0:
        granule = max(granule, struct.unpack("<q", data[j + 6:j + 14])[0])
        pos = j + 4
    return {"width": int.from_bytes(h[7:10], "big"), "height": int.from_bytes(h[10:13], "big"),
            "fps": frn / frd, "frames": (granule >> shift) + (granule & ((1 << shift) - 1))}


FALLBACK = r'''
import importlib.util, sys
import paraview.simple as simple
spec = importlib.util.spec_from_file_location("discharge_4d", sys.argv[1])
d4d = importlib.util.module_from_spec(spec)
spec.loader.exec_module(d4d)
save_animation = simple.SaveAnimation   # (not 'real': the Programmable Filter puts numpy's here)
def no_avi(filename, *args, **kwargs):
    if filename.endswith(".avi"):
        return False            # what SaveAnimation answers when no writer takes the format
    return save_animation(filename, *args, **kwargs)
simple.SaveAnimation = no_avi
state = d4d.build(sys.argv[2])
print("MOVIE", d4d.save_movie(sys.argv[3], state["layout"], len(state["times"]), [800, 400]))
'''


def test_movie_falls_back_to_ogg_theora(run4d):
    """Where this ParaView writes no .avi (SaveAnimation answers False), the movie is an Ogg Theora
    file with one frame per 4D frame (header and granule position read here), and no .avi and no
    temporary file are left."""
    _require("xvfb-run")
    d = run4d["dir"] / "fallback"
    d.mkdir()
    (d / "fallback.py").write_text(FALLBACK)
    r = run_checked([BIN / "electrovox-pvbatch", "--render", d / "fallback.py", SCRIPT, run4d["run"], d / "m"],
                    cwd=d, timeout=200)
    assert f"MOVIE {d / 'm.ogv'}" in r.stdout, r.stdout[-2000:]
    assert sorted(p.name for p in d.iterdir()) == ["fallback.py", "m.ogv"]
    ogg = _ogg_theora((d / "m.ogv").read_bytes())
    assert ogg == {"width": 800, "height": 400, "fps": 2.0, "frames": len(run4d["times"])}


# --- pvbatch: the state reopens ------------------------------------------------------------------

RELOAD = r'''
import json, sys
import numpy as np
from paraview.simple import (FindSource, GetAnimationScene, GetColorTransferFunction, GetLayoutByName,
                             GetTimeKeeper, LoadState, Render, SaveScreenshot)
from vtkmodules.util.numpy_support import vtk_to_numpy
pvsm, out = sys.argv[1], sys.argv[2]
LoadState(pvsm)
reader = FindSource("discharge run")
times = [float(t) for t in reader.TimestepValues]
lut = GetColorTransferFunction("lithiation")
res = {"times": times, "keeper_times": [float(t) for t in GetTimeKeeper().TimestepValues],
       "reader_file": reader.FileName, "lut_range": [lut.RGBPoints[0], lut.RGBPoints[-4]],
       "mode": str(lut.AutomaticRescaleRangeMode), "texts": [], "rows": []}
reader.UpdatePipeline(times[0])
img = reader.GetClientSideObject().GetOutputDataObject(0)
res["dims"] = list(img.GetDimensions())
np.save(out + "_phase.npy", vtk_to_numpy(img.GetPointData().GetArray("phase")))
for t in times:   # output 2: the history at the time, its first column the annotation's text
    reader.UpdatePipeline(t)
    row = reader.GetClientSideObject().GetOutputDataObject(2)
    res["texts"].append(row.GetColumn(0).GetValue(0))
    res["rows"].append({row.GetColumnName(i): row.GetColumn(i).GetValue(0) for i in range(row.GetNumberOfColumns())})
layout = GetLayoutByName("ElectroVox discharge 4D")
scene = GetAnimationScene()
scene.AnimationTime = times[1]
SaveScreenshot(out + ".png", layout, ImageResolution=[1600, 800])
with open(out + ".json", "w") as f:
    json.dump(res, f)
'''


@pytest.fixture(scope="module")
def reloaded(script_run, run4d):
    """The state file loaded in a fresh pvbatch: what it restored, and a screenshot of its layout."""
    d = run4d["dir"]
    (d / "reload.py").write_text(RELOAD)
    run_checked([BIN / "electrovox-pvbatch", "--render", d / "reload.py", script_run["stem"].with_suffix(".pvsm"),
                 d / "reloaded"], cwd=d, timeout=200)
    return {"out": json.loads((d / "reloaded.json").read_text()), "phase": np.load(d / "reloaded_phase.npy"),
            "png": d / "reloaded.png"}


def test_state_reloads_with_the_run_folders_frames(reloaded, run4d):
    """LoadState in a fresh pvbatch: the EVX Run Folder Reader reads the run folder, the time
    steps are the frames' times (the PVD's numbers, 1e-12), the locked colour range is the numpy
    min / max over all frames, the phase array equals the phantom's labels, the marker's row at
    each time is the history interpolated in time (its first column the annotation's text), and
    the reloaded layout renders (not blank)."""
    out = reloaded["out"]
    assert Path(out["reader_file"]) == run4d["run"] / "params.json"
    np.testing.assert_allclose(out["times"], run4d["times"], rtol=1e-12)
    np.testing.assert_allclose(out["keeper_times"], run4d["times"], rtol=1e-12)
    assert out["lut_range"] == pytest.approx(list(_lith_range(run4d)), rel=1e-12)
    assert out["mode"].strip("'\"") == "Never"
    nx, ny, nz = out["dims"]
    seen = reloaded["phase"].reshape(nz, ny, nx)
    np.testing.assert_array_equal(run4d["phase"], run4d["truth"])   # the frames hold the labels
    np.testing.assert_array_equal(seen, run4d["truth"])
    h = run4d["history"]
    for t, row, text in zip(run4d["times"], out["rows"], out["texts"], strict=True):
        assert row["time_s"] == t
        # the same float64 interpolation of the same CSV numbers: equal to round-off
        q = np.interp(t, np.concatenate([[0.0], h["time_s"]]), np.concatenate([[0.0], h["capacity_mAh_g"]]))
        assert row["capacity_mAh_g"] == pytest.approx(q, rel=1e-12, abs=1e-12)
        assert row["voltage_V"] == pytest.approx(np.interp(t, h["time_s"], h["voltage_V"]), rel=1e-12)
        assert row["dod_percent"] == pytest.approx(100 * q / run4d["nominal"], rel=1e-12, abs=1e-12)
        assert text == _expected_text(run4d, t)
    px = _rgb(reloaded["png"])
    vol = px[VOLUME_BOX]
    assert _foreground(vol).mean() > 0.05 and len(np.unique(vol[_foreground(vol)], axis=0)) >= 50


# --- the GUI -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gui4d(run4d, script_run):
    """The ParaView GUI under Xvfb runs tests/pv_scripts/gui_discharge_4d.py on the run folder (two
    animation times, screenshots), then loads the state file pvbatch saved (a screenshot of its
    layout), then the screen is captured and the GUI quits on Ctrl+Q."""
    _require("paraview", "Xvfb", "xdotool", "import")
    d = run4d["dir"] / "gui"
    out = d / "out"
    out.mkdir(parents=True)
    times = (run4d["times"][1], run4d["times"][-1])
    t0 = time.monotonic()
    with GuiSession(d, SCRIPTS / "gui_discharge_4d.py", 120, EVX_GUI_RUN=run4d["run"], EVX_GUI_OUT=out,
                    EVX_GUI_TIMES=",".join(map(repr, times)),
                    EVX_GUI_STATE=script_run["stem"].with_suffix(".pvsm")) as gui:
        marker = out / "done.json"
        assert gui.wait_for(marker, 100), \
            f"the GUI script did not finish (exit {gui.gui.poll()}); log:\n{gui.log_tail()}"
        done = json.loads(marker.read_text())
        assert done["ok"], done.get("error", "") + "\n" + gui.log_tail()
        time.sleep(1.5)  # let the main window repaint after the script
        root_png = d / "root.png"
        shot_ok = gui.capture(root_png)
        quit_rc = gui.quit()
    log_tail = gui.log_tail
    return {"done": done, "times": times, "root_png": root_png if shot_ok else None,
            "quit_rc": quit_rc, "log_tail": log_tail(), "wall_s": time.monotonic() - t0}


def test_gui_plays_the_discharge_in_4d(gui4d, run4d):
    """In the GUI (Xvfb) the layout plays to two animation times: the scene and the views are at
    each time, the annotation text read back from its proxy is the expected one at each (and they
    differ), the colour map range is the numpy min / max over all frames at both (locked), and the
    two screenshots of the volume rendering differ: more of it is yellower (lithiation x rises from
    the first time to the end, the colour map is fixed), with many colours in each; the whole
    screen shows the layout and the GUI quits on Ctrl+Q."""
    done, times = gui4d["done"], gui4d["times"]
    np.testing.assert_allclose(done["times"], run4d["times"], rtol=1e-12)
    lo, hi = _lith_range(run4d)
    shots = done["shots"]
    for shot, t in zip(shots, times, strict=True):
        assert shot["animation_time"] == pytest.approx(t, rel=1e-12)
        assert shot["view_time"] == pytest.approx(t, rel=1e-12)
        assert shot["annotation"] == _expected_text(run4d, t)
        assert shot["marker"]["time_s"] == pytest.approx(t, rel=1e-12)
        assert shot["lut_range"] == pytest.approx([lo, hi], rel=1e-12) and shot["rescale_mode"] == "Never"
    assert shots[0]["annotation"] != shots[1]["annotation"]
    assert shots[0]["marker"]["capacity_mAh_g"] < shots[1]["marker"]["capacity_mAh_g"]

    a, b = (_rgb(Path(s["volume_png"])) for s in shots)
    assert a.shape == b.shape == (500, 600, 3)
    box = (slice(40, 500), slice(0, 420))    # below the annotation, left of the colour bar
    a, b = a[box], b[box]
    fa, fb = _foreground(a), _foreground(b)
    assert fa.mean() > 0.03 and fb.mean() > 0.03
    assert len(np.unique(a[fa], axis=0)) >= 50 and len(np.unique(b[fb], axis=0)) >= 50
    changed = np.abs(a - b).sum(axis=-1) > 30
    assert changed.sum() > 0.2 * (fa | fb).sum(), "the volume rendering did not change with the time"

    def yellow(px, mask):   # Viridis: low x blue-purple, high x yellow; (R + G) / 2 - B rises with x
        sel = px[mask]
        return float(((sel[:, 0] + sel[:, 1]) / 2 - sel[:, 2]).mean())

    assert yellow(b, fb) > yellow(a, fa) + 10, (yellow(a, fa), yellow(b, fb))
    # the layout screenshots and the screen
    la, lb = (_rgb(Path(s["layout_png"])) for s in shots)
    assert np.abs(la - lb).sum(axis=-1).astype(bool).mean() > 0.005
    assert gui4d["root_png"] is not None
    screen = _rgb(gui4d["root_png"])
    assert len(np.unique(screen.reshape(-1, 3), axis=0)) >= 200
    assert _near(screen, PHASE_RGB[2], 6).sum() > 500   # the phase slice is on screen
    assert gui4d["quit_rc"] == 0, f"the GUI did not quit on Ctrl+Q (exit {gui4d['quit_rc']}); {gui4d['log_tail']}"


def test_gui_reopens_the_state_file(gui4d, run4d):
    """The state file saved by pvbatch, loaded in the GUI (ResetSession + LoadState): its reader
    reads the run folder, its time steps are the frames' times (1e-12), the history row at the
    last time is the history's last voltage (the same CSV numbers), and its layout renders the
    lithiation volume (Viridis colours in the volume's quarter) and the phase slice."""
    got = gui4d["done"]["loaded_state"]
    assert Path(got["file"]) == run4d["run"] / "params.json"
    np.testing.assert_allclose(got["times"], run4d["times"], rtol=1e-12)
    t = run4d["times"][-1]
    assert got["marker"]["voltage_V"] == pytest.approx(np.interp(t, run4d["history"]["time_s"],
                                                                 run4d["history"]["voltage_V"]), rel=1e-12)
    px = _rgb(Path(got["png"]))
    assert px.shape == (600, 1200, 3)
    vol = px[20:195, 0:280]               # the volume's quarter (top left), left of its colour bar
    fg = _foreground(vol)
    assert fg.mean() > 0.03 and len(np.unique(vol[fg], axis=0)) >= 50
    assert _near(px[:, 600:], PHASE_RGB[2], 6).sum() > 500      # the active material in the slice
