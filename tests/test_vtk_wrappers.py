"""Each VTK algorithm (filters/vtk/) in a plain VTK pipeline, against its numpy core called directly.

Reference: the core's own result on the same arrays (the wrapper must add nothing and lose
nothing); plus what the shared base promises: one computation per parameter change (cache), the
filter's name as progress text, errors as one line with the property's name, and no change
without a real change of a parameter.  Runs in both runtimes (the vtk wheel; ParaView's VTK).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

vtk_support = pytest.importorskip("vtkmodules.util.numpy_support")

from electrovox.filters.vtk import image, phase_legend, quantify, readers, transport  # noqa: E402
from electrovox.filters.vtk import phantoms as vphantoms  # noqa: E402
from electrovox.phases import DEFAULT_LEGEND  # noqa: E402


def _arr(data, name):
    a = data.GetPointData().GetArray(name)
    nx, ny, nz = data.GetDimensions()
    return vtk_support.vtk_to_numpy(a).reshape((nz, ny, nx) + ((a.GetNumberOfComponents(),)
                                                                if a.GetNumberOfComponents() > 1 else ()))


@pytest.fixture(scope="module")
def electrode():
    src = vphantoms.ElectrodePhantomSource()
    src.SetBoxSize(10, 10, 8)
    src.SetVoxelSize(0.5, 0.5, 0.5)
    src.SetSeed(3)
    src.SetParticleD50(4.0)
    src.Update()
    return src


def test_electrode_source_equals_the_generator(electrode):
    from electrovox.solvers.phantoms.electrode import generate_electrode
    out = generate_electrode(size_um=(8.0, 10.0, 10.0), spacing=(0.5, 0.5, 0.5), seed=3, d50_um=4.0)
    data = electrode.GetOutputDataObject(0)
    assert np.array_equal(_arr(data, "labels"), out["labels"])
    assert np.array_equal(_arr(data, "particles"), out["particles"])
    assert data.GetSpacing() == (0.5, 0.5, 0.5)


def test_the_base_caches_names_progress_and_reports_one_line(electrode, capfd, caplog):
    data = electrode.GetOutputDataObject(0)
    calls = []
    original = vphantoms.ElectrodePhantomSource.compute

    class Counting(vphantoms.ElectrodePhantomSource):
        def compute(self, inputs):
            calls.append(1)
            return original(self, inputs)

    src = Counting()
    src.SetBoxSize(10, 10, 8)
    src.SetVoxelSize(0.5, 0.5, 0.5)
    src.SetSeed(3)
    src.SetParticleD50(4.0)
    src.Update()
    m = src.GetMTime()
    src.SetSeed(3)  # the same value: not a change
    assert src.GetMTime() == m
    src.Modified()
    src.Update()  # re-executed by the pipeline, served from the cache
    assert len(calls) == 1
    assert np.array_equal(_arr(src.GetOutputDataObject(0), "labels"), _arr(data, "labels"))
    assert src.GetProgressText().startswith("EVX Electrode Phantom")
    src.SetActiveFraction(1.5)
    src.Update()
    # VTK's output window writes to stderr, or to Python logging once pyvista was imported
    err = capfd.readouterr().err + "\n" + "\n".join(r.getMessage() for r in caplog.records)
    line = [x for x in err.splitlines() if x.startswith("ERROR: EVX Electrode Phantom")]
    assert line and "ActiveFraction" in line[0] and "Fix:" in line[0] and "Traceback" not in err


def test_cycling_filter_equals_the_core(electrode):
    from electrovox.solvers.phantoms.cycling import cycle_electrode
    f = vphantoms.CyclingFilter()
    f.SetInputConnection(electrode.GetOutputPort())
    f.SetCrackGrowth(0.2)
    f.SetContactLoss(0.1)
    f.SetSeed(2)
    f.Update()
    data = electrode.GetOutputDataObject(0)
    ref = cycle_electrode(_arr(data, "labels"), (0.5, 0.5, 0.5), crack_growth=0.2, contact_loss=0.1, seed=2,
                          particles=_arr(data, "particles"))
    assert np.array_equal(_arr(f.GetOutputDataObject(0), "labels"), ref["labels"])


@pytest.fixture(scope="module")
def fib(electrode):
    f = vphantoms.FibsemImageFilter()
    f.SetInputConnection(electrode.GetOutputPort())
    f.SetImageVoxelSize(250, 250, 500)
    f.SetSeed(5)
    f.Update()
    return f


def test_fibsem_filter_equals_the_core(electrode, fib):
    from electrovox.solvers.phantoms.imaging import simulate_fibsem
    lab = _arr(electrode.GetOutputDataObject(0), "labels")
    ref = simulate_fibsem(lab, (0.5, 0.5, 0.5), image_spacing=(0.5, 0.25, 0.25), snr=8.0, seed=5)
    out = fib.GetOutputDataObject(0)
    assert np.array_equal(_arr(out, "image"), ref["image"])
    assert np.array_equal(_arr(out, "truth"), ref["truth"])


def test_segment_and_image_step_equal_the_core(fib):
    from electrovox.filters.image.pipeline import run_step, segment_image
    img = _arr(fib.GetOutputDataObject(0), "image")
    sp = (0.5, 0.25, 0.25)
    seg = image.SegmentFilter()
    seg.SetInputConnection(fib.GetOutputPort())
    seg.Update()
    ref = segment_image(img, sp)
    assert np.array_equal(_arr(seg.GetOutputDataObject(0), "labels"), ref["labels"])
    step = image.ImageStepFilter()
    step.SetInputConnection(fib.GetOutputPort())
    step.SetStep("denoise")
    step.Update()
    ref_img, _ = run_step(img, sp, "denoise")
    assert np.array_equal(_arr(step.GetOutputDataObject(0), "image"), ref_img)


def test_resample_and_cracks_equal_the_core(electrode):
    from electrovox.filters.image.cracks import find_cracks
    from electrovox.filters.image.resample import resample_labels
    lab = _arr(electrode.GetOutputDataObject(0), "labels")
    r = image.ResampleFilter()
    r.SetInputConnection(electrode.GetOutputPort())
    r.SetArrayName("labels")
    r.SetVoxelSize(1.0)
    r.Update()
    ref, _, _ = resample_labels(lab, (0.5, 0.5, 0.5), 1.0)
    assert np.array_equal(_arr(r.GetOutputDataObject(0), "labels"), ref)
    c = image.CracksFilter()
    c.SetInputConnection(electrode.GetOutputPort())
    c.Update()
    ref = find_cracks(lab, (0.5, 0.5, 0.5), am=2, crack=3, pore=0)
    assert np.array_equal(_arr(c.GetOutputDataObject(0), "labels"), ref)


def test_quantify_filters_equal_the_core(electrode, fib):
    from electrovox.filters.quantify.connectivity import components
    from electrovox.filters.quantify.report import quantify_all
    from electrovox.filters.quantify.rev import representative_volume
    lab = _arr(electrode.GetOutputDataObject(0), "labels")
    q = quantify.QuantifyFilter()
    q.SetInputConnection(electrode.GetOutputPort())
    q.Update()
    ref = quantify_all(lab, DEFAULT_LEGEND, (0.5, 0.5, 0.5))
    metrics = json.loads(q.GetOutputDataObject(1).GetFieldData().GetAbstractArray("metrics").GetValue(0))
    assert metrics["fractions"] == pytest.approx(ref["fractions"], abs=0)
    table = q.GetOutputDataObject(0)
    names = [table.GetColumnByName("Metric").GetValue(i) for i in range(table.GetNumberOfRows())]
    assert table.GetColumnByName("Value").GetValue(names.index("fractions.am")) == ref["fractions"]["am"]
    cc = quantify.ComponentsFilter()
    cc.SetInputConnection(electrode.GetOutputPort())
    cc.SetPhase("cbd")
    cc.Update()
    ids, _ = components(lab == 1, connectivity=6)
    assert np.array_equal(_arr(cc.GetOutputDataObject(0), "component_id"), ids)
    rv = quantify.RepresentativeVolumeFilter()
    rv.SetInputConnection(electrode.GetOutputPort())
    rv.Update()
    ref = representative_volume(lab, DEFAULT_LEGEND, (0.5, 0.5, 0.5))
    out = rv.GetOutputDataObject(0)
    assert out.GetNumberOfRows() == len(ref["edge_um"])
    assert vtk_support.vtk_to_numpy(out.GetColumnByName("edge_um")).tolist() == list(ref["edge_um"])
    cmp_ = quantify.CompareFilter()
    cmp_.AddInputConnection(electrode.GetOutputPort())
    cmp_.AddInputConnection(electrode.GetOutputPort())
    cmp_.Update()
    t = cmp_.GetOutputDataObject(0)
    rel = vtk_support.vtk_to_numpy(t.GetColumnByName("input1.rel_change"))
    assert np.nanmax(np.abs(rel)) == 0.0  # a volume against itself: no change


def test_tortuosity_filter_equals_the_core(electrode):
    from electrovox.solvers.transport.diffusion import tortuosity
    lab = _arr(electrode.GetOutputDataObject(0), "labels")
    f = transport.TortuosityFilter()
    f.SetInputConnection(electrode.GetOutputPort())
    f.SetAllAxes(0)
    f.SetAxis("z")
    f.Update()
    ref = tortuosity(lab, DEFAULT_LEGEND, (0.5, 0.5, 0.5), "z", phases=("pore",), fields=True)
    t = f.GetOutputDataObject(1)
    assert t.GetColumnByName("tau").GetValue(0) == ref["tau"]
    pot = _arr(f.GetOutputDataObject(0), "potential")
    assert np.array_equal(pot, ref["potential"].astype(np.float32), equal_nan=True)


def test_phase_legend_and_readers_equal_the_core(electrode, tmp_path):
    from electrovox.io import read_volume, write_volume
    from electrovox.phases import phase_fractions
    from electrovox.volume import Volume
    lab = _arr(electrode.GetOutputDataObject(0), "labels")
    pl = phase_legend.PhaseLegend()
    pl.SetInputConnection(electrode.GetOutputPort())
    pl.Update()
    fd = pl.GetOutputDataObject(0).GetFieldData()
    fr = vtk_support.vtk_to_numpy(fd.GetArray("phase_fractions"))
    ref = phase_fractions(lab, DEFAULT_LEGEND)
    ids = vtk_support.vtk_to_numpy(fd.GetArray("phase_ids")).tolist()
    assert fr.tolist() == pytest.approx([ref[DEFAULT_LEGEND[i]] for i in ids], abs=1e-15)
    path = tmp_path / "e.tif"
    write_volume(path, Volume.labels(lab, (0.5, 0.5, 0.5), DEFAULT_LEGEND))
    r = readers.TiffStackReader()
    r.SetFileName(str(path))
    r.SetVoxelSize(0.5, 0.5, 0.5)
    r.SetLegend("default")
    r.Update()
    ref = read_volume(path, spacing=(0.5, 0.5, 0.5), labels=True)
    assert np.array_equal(_arr(r.GetOutputDataObject(0), "labels"), ref.array)
    assert r.GetProgressText().startswith("EVX TIFF Stack Reader")


def test_discharge_filter_equals_the_core(tmp_path):
    """EVX Discharge serves the core's run: the curve, the frames at their times, the profiles."""
    from electrovox.filters.vtk.discharge import DischargeFilter
    from electrovox.io.vtk_image import volume_to_vtk
    from electrovox.solvers.echem.discharge import discharge
    from electrovox.volume import Volume

    rng = np.random.default_rng(1)
    lab = np.where(rng.random((8, 4, 4)) < 0.5, 2, 0).astype(np.uint8)
    lab[:, :, 0] = 2
    lab[-1] = 0
    legend = {0: "pore", 2: "am"}
    ref = discharge(lab, legend, 0.5, output_rows=20, frames=2)
    src = volume_to_vtk(Volume.labels(lab, (0.5, 0.5, 0.5), legend))
    f = DischargeFilter()
    f.SetInputDataObject(0, src)
    f.SetOutputRows(20)
    f.SetFrames(2)
    f.SetRunFolder(str(tmp_path / "run"))
    f.UpdateInformation()
    f.Update()
    curve = f.GetOutputDataObject(1)
    v = vtk_support.vtk_to_numpy(curve.GetColumnByName("voltage_V"))
    np.testing.assert_array_equal(v, ref["history"]["voltage_V"])
    times = f.time_steps()
    assert times[0] == 0.0 and times[-1] == pytest.approx(ref["history"]["time_s"][-1])
    f.UpdateTimeStep(times[-1])
    img = f.GetOutputDataObject(0)
    lith = _arr(img, "lithiation")
    np.testing.assert_allclose(lith[lab == 2], ref["fields"]["lithiation"][lab == 2], rtol=1e-6)
    prof = f.GetOutputDataObject(2)
    np.testing.assert_allclose(vtk_support.vtk_to_numpy(prof.GetColumnByName("lithiation")),
                               ref["profiles"]["lithiation"][-1], rtol=1e-12)
    assert (tmp_path / "run" / "discharge.csv").is_file()


def test_run_folder_reader_serves_the_history_at_the_time_and_the_grid(tmp_path):
    """EVX Run Folder Reader on a discharge run folder: output 2 at each frame time is the core's
    ``history_at`` row (the same float64 numbers, exact) with its label first; the frames' grid is
    advertised before the data (a Threshold downstream keeps exactly the active-material cells
    the frame holds, not an empty piece)."""
    from vtkmodules.vtkFiltersCore import vtkThreshold

    from electrovox.filters.vtk.flow import RunFolderReader
    from electrovox.solvers.echem.discharge import discharge
    from electrovox.solvers.run import RunFolder
    from electrovox.solvers.run.timeline import history_at, run_settings, time_label

    rng = np.random.default_rng(2)
    lab = np.where(rng.random((8, 4, 4)) < 0.5, 2, 0).astype(np.uint8)
    lab[:, :, 0] = 2
    lab[-1] = 0
    discharge(lab, {0: "pore", 2: "am"}, 0.5, output_rows=20, frames=2, run_dir=tmp_path / "run")
    hist = RunFolder(tmp_path / "run").load_history()
    basis = run_settings(tmp_path / "run")[0]
    assert basis == 280.0                                   # the default NMC811's basis, from run.json
    r = RunFolderReader()
    r.SetFileName(str(tmp_path / "run" / "params.json"))
    thr = vtkThreshold()
    thr.SetInputConnection(r.GetOutputPort(0))
    thr.SetInputArrayToProcess(0, 0, 0, 0, "lithiation")
    thr.SetLowerThreshold(0.0)
    thr.SetUpperThreshold(1.0)
    r.UpdateInformation()
    for t in r.time_steps():
        r.UpdateTimeStep(t)
        row = r.GetOutputDataObject(2)
        want = history_at(hist, t, basis)
        assert row.GetColumnName(0) == "annotation" and row.GetColumn(0).GetValue(0) == time_label(want)
        for name, value in want.items():
            assert vtk_support.vtk_to_numpy(row.GetColumnByName(name))[0] == value, name
        thr.UpdateTimeStep(t)
        img = r.GetOutputDataObject(0)
        ok = np.isfinite(_arr(img, "lithiation"))          # NaN outside the active material
        corners = [ok[a:ok.shape[0] - 1 + a, b:ok.shape[1] - 1 + b, c:ok.shape[2] - 1 + c]
                   for a in (0, 1) for b in (0, 1) for c in (0, 1)]
        want_cells = int(np.logical_and.reduce(corners).sum())  # vtkThreshold: all 8 corners in range
        assert want_cells > 0 and thr.GetOutput().GetNumberOfCells() == want_cells


def test_impregnation_filter_equals_the_core(tmp_path):
    """EVX Impregnation serves the core's run: the saturation curve equal, the frames' times the
    ones announced before the run (from the step cap), the last frame's electrolyte fraction equal
    to the core's final field."""
    from electrovox.filters.vtk.impregnation import ImpregnationFilter
    from electrovox.io.vtk_image import volume_to_vtk
    from electrovox.solvers.flow.impregnation import impregnate
    from electrovox.volume import Volume

    lab = np.full((12, 1, 8), 2, np.uint8)
    lab[:, :, 2:6] = 0
    legend = {0: "pore", 2: "am"}
    ref = impregnate(lab, legend, 1.0, max_steps=2000, frames=4)
    f = ImpregnationFilter()
    f.SetInputDataObject(0, volume_to_vtk(Volume.labels(lab, (1.0, 1.0, 1.0), legend)))
    f.SetMaxSteps(2000)
    f.SetFrames(4)
    f.SetRunFolder(str(tmp_path / "run"))
    f.UpdateInformation()
    announced = f.time_steps()
    f.Update()
    sat = vtk_support.vtk_to_numpy(f.GetOutputDataObject(1).GetColumnByName("saturation"))
    np.testing.assert_array_equal(sat, ref["history"]["saturation"])
    times = f.time_steps()
    assert len(times) >= 5 and times == pytest.approx(announced, rel=1e-12)
    f.UpdateTimeStep(times[-1])
    e = _arr(f.GetOutputDataObject(0), "electrolyte_fraction")
    np.testing.assert_allclose(e[lab == 0], ref["electrolyte_fraction"][lab == 0], rtol=1e-6)
    assert (tmp_path / "run" / "saturation.csv").is_file()

