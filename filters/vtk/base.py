"""The one VTK algorithm base every ElectroVox wrapper is built on.

:class:`EVXAlgorithm` does, once, what each wrapper needs around its numpy core:

- parameters from the concept's :class:`~electrovox.params.ParamSet`: a ``Set<Name>`` method per
  parameter (generated), defaults, coercion and change detection (``Modified()`` only on a real
  change);
- the result cached by parameters and input (``GetMTime`` of every input), so ParaView's
  re-executions (renders, animation steps, a second output port) do not recompute it;
- whole-extent requests on every input (the cores need whole volumes);
- errors as one line in ParaView's Output Messages window (VTK's error channel), with the core's
  keywords spelled as the properties' labels; no traceback;
- progress: ``UpdateProgress`` and the progress text set to the filter's own name, so ParaView's
  progress bar reads "EVX Segment" instead of "PythonAlgorithm";
- time: a subclass that returns times from :meth:`time_steps` advertises ``TIME_STEPS`` and
  ``TIME_RANGE``; :meth:`RequestData` reads ``UPDATE_TIME_STEP`` and passes it to
  :meth:`select_time`, which picks the frame of a cached time series (no re-solve per frame).

Subclasses declare ``label``, ``params``, ``inputs`` / ``outputs`` (VTK data type names per port)
and implement :meth:`compute` (``inputs -> result``, cached) and, when the result is not already a
list of data objects, :meth:`select_time`.  Only ``vtkmodules`` is imported: the algorithms run in
ParaView's VTK and in the ``vtk`` wheel alike.
"""

from __future__ import annotations

from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonCore import vtkDataArraySelection
from vtkmodules.vtkCommonDataModel import vtkDataObject
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

from electrovox.errors import BadInput
from electrovox.filters.vtk.common import report_error
from electrovox.params import ParamSet

SDDP = vtkStreamingDemandDrivenPipeline


def set_image_information(info, shape, spacing_zyx, origin_zyx=(0.0, 0.0, 0.0)) -> None:
    """Advertise a vtkImageData's whole extent, spacing and origin (arrays are ``[z, y, x]``)."""
    nz, ny, nx = shape
    info.Set(SDDP.WHOLE_EXTENT(), 0, nx - 1, 0, ny - 1, 0, nz - 1)
    info.Set(vtkDataObject.SPACING(), *spacing_zyx[::-1])
    info.Set(vtkDataObject.ORIGIN(), *origin_zyx[::-1])


def input_grid(in_info):
    """(shape, spacing, origin) in ``[z, y, x]`` order of an input port's image information."""
    ext = in_info.Get(SDDP.WHOLE_EXTENT())
    shape = (ext[5] - ext[4] + 1, ext[3] - ext[2] + 1, ext[1] - ext[0] + 1)
    spacing = tuple(in_info.Get(vtkDataObject.SPACING()))[::-1]
    origin = tuple(in_info.Get(vtkDataObject.ORIGIN()))[::-1]
    return shape, spacing, origin


def _make_setter(param):
    if param.kind == "vec3":
        def setter(self, *values):
            self.set_param(param.name, values[0] if len(values) == 1 else values)
    else:
        def setter(self, value):
            self.set_param(param.name, value)
    setter.__name__ = param.setter
    setter.__doc__ = f"Set ``{param.name}``: {param.help}"
    return setter


def _make_selection_getter(param):
    def getter(self):
        return self._selections[param.name]
    getter.__name__ = f"Get{param.pv_name}Selection"
    getter.__doc__ = f"The check-box list of ``{param.name}`` (ParaView's array-selection widget)."
    return getter


class EVXAlgorithm(VTKPythonAlgorithmBase):
    """Base of every ElectroVox VTK algorithm (see the module docstring).

    Class attributes for subclasses
    -------------------------------
    label : str
        The filter's name as users see it (progress bar, error lines), e.g. ``"EVX Segment"``.
    params : ParamSet
        The concept's parameters (one declaration, shared with the CLI and the docs).
    inputs : tuple of str
        Required data type per input port (``()`` for a source).
    outputs : tuple of str
        Data type per output port.
    repeatable_input : bool
        Port 0 takes several connections (e.g. Compare).
    """

    label = "EVX algorithm"
    params = ParamSet("none", [])
    inputs: tuple = ("vtkImageData",)
    outputs: tuple = ("vtkImageData",)
    repeatable_input = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for p in cls.params:
            if p.setter not in cls.__dict__:
                setattr(cls, p.setter, _make_setter(p))
            legacy = "Set" + (p.pv_name or "")  # the property's XML name, as earlier versions spelled it
            if p.pv_name and legacy != p.setter and legacy not in cls.__dict__:
                setattr(cls, legacy, _make_setter(p))
            if p.kind == "phases" and p.pv_name:
                setattr(cls, f"Get{p.pv_name}Selection", _make_selection_getter(p))

    def __init__(self):
        super().__init__(nInputPorts=len(self.inputs), nOutputPorts=len(self.outputs),
                         outputType=self.outputs[0])
        self.p = {p.name: p.coerce(p.default) for p in self.params}
        self._key = None
        self._result = None
        self._selections = {}
        for p in self.params:
            if p.kind == "phases":
                sel = vtkDataArraySelection()
                for c in p.choices:
                    sel.AddArray(c, c in (p.default or ()))
                sel.AddObserver("ModifiedEvent", lambda *_a, name=p.name: self._selection_changed(name))
                self._selections[p.name] = sel
        self.SetProgressText(self.label)

    # -- parameters --------------------------------------------------------------------------
    def set_param(self, name: str, value) -> None:
        """Set parameter ``name`` (coerced to its type); a real change marks the algorithm modified."""
        param = self.params[name]
        value = param.coerce(value)
        if self.p.get(name) != value:
            self.p[name] = value
            sel = self._selections.get(name)
            if sel is not None:
                self._sync_selection(sel, value or ())
            self.Modified()

    def get_param(self, name: str):
        """The current value of parameter ``name``."""
        return self.p[name]

    def _sync_selection(self, sel, names):
        for i in range(sel.GetNumberOfArrays()):
            n = sel.GetArrayName(i)
            want = n in names
            if bool(sel.GetArraySetting(i)) != want:
                sel.SetArraySetting(n, int(want))

    def _selection_changed(self, name):
        sel = self._selections[name]
        checked = [sel.GetArrayName(i) for i in range(sel.GetNumberOfArrays()) if sel.GetArraySetting(i)]
        # a script may give the list as one text, Phases = "pore,crack": ParaView then adds an
        # entry "pore,crack"; it is split into the phases it names and the entry removed
        value = tuple(dict.fromkeys(t.strip() for c in checked for t in c.split(",") if t.strip()))
        odd = [sel.GetArrayName(i) for i in range(sel.GetNumberOfArrays()) if "," in sel.GetArrayName(i)]
        if odd:
            for n in odd:
                sel.RemoveArrayByName(n)
            self._sync_selection(sel, value)
        if self.p.get(name) != value:
            self.p[name] = value
            self.Modified()

    def checked_params(self) -> dict:
        """The parameters, range-checked (errors name the core keywords)."""
        return self.params.check(dict(self.p))

    # -- pipeline ----------------------------------------------------------------------------
    def FillInputPortInformation(self, port, info):  # noqa: D102
        info.Set(self.INPUT_REQUIRED_DATA_TYPE(), self.inputs[port])
        if self.repeatable_input:
            info.Set(self.INPUT_IS_REPEATABLE(), 1)
        return 1

    def FillOutputPortInformation(self, port, info):  # noqa: D102
        info.Set(vtkDataObject.DATA_TYPE_NAME(), self.outputs[port])
        return 1

    def RequestUpdateExtent(self, request, inInfo, outInfo):  # noqa: D102
        for port in range(len(self.inputs)):
            for i in range(inInfo[port].GetNumberOfInformationObjects()):
                info = inInfo[port].GetInformationObject(i)
                if info.Has(SDDP.WHOLE_EXTENT()):
                    info.Set(SDDP.UPDATE_EXTENT(), info.Get(SDDP.WHOLE_EXTENT()), 6)
        return 1

    def RequestInformation(self, request, inInfo, outInfo):  # noqa: D102
        try:
            self.information([inInfo[i] for i in range(len(self.inputs))], outInfo)
            times = self.time_steps()
        except Exception as exc:
            self.report(exc)
            return 0
        if times is not None:
            for port in range(len(self.outputs)):
                info = outInfo.GetInformationObject(port)
                info.Set(SDDP.TIME_STEPS(), list(times), len(times))
                info.Set(SDDP.TIME_RANGE(), [times[0], times[-1]], 2)
        return 1

    def RequestData(self, request, inInfo, outInfo):  # noqa: D102
        try:
            data = []
            for port in range(len(self.inputs)):
                n = inInfo[port].GetNumberOfInformationObjects()
                objs = [inInfo[port].GetInformationObject(i).Get(vtkDataObject.DATA_OBJECT()) for i in range(n)]
                data.append(objs if self.repeatable_input else (objs[0] if objs else None))
            mtimes = tuple(o.GetMTime() for d in data for o in (d if isinstance(d, list) else [d]) if o is not None)
            key = (mtimes, repr(sorted(self.p.items())))
            if key != self._key or self._result is None:
                self._result, self._key = None, key
                self._result = self.compute(data)
            t = None
            info0 = outInfo.GetInformationObject(0)
            if info0.Has(SDDP.UPDATE_TIME_STEP()):
                t = info0.Get(SDDP.UPDATE_TIME_STEP())
            outputs = self.select_time(self._result, t)
            if not isinstance(outputs, (list, tuple)):
                outputs = [outputs]
            for port, obj in enumerate(outputs):
                out = outInfo.GetInformationObject(port).Get(vtkDataObject.DATA_OBJECT())
                out.ShallowCopy(obj)
                if t is not None and self.time_steps() is not None:
                    out.GetInformation().Set(vtkDataObject.DATA_TIME_STEP(), t)
        except Exception as exc:
            self.report(exc)
            return 0
        return 1

    # -- hooks -------------------------------------------------------------------------------
    def information(self, in_infos, out_info) -> None:
        """Advertise the output's grid (whole extent, spacing, origin) before data is computed.

        The default advertises nothing (output grids follow the data).
        """

    def time_steps(self):
        """The output's time values (a sorted sequence), or None for a result without time."""
        return None

    def compute(self, inputs):
        """Compute the result from the input data objects (cached by parameters and inputs).

        Parameters
        ----------
        inputs : list
            One entry per input port: the data object, or a list of them for a repeatable port.

        Returns
        -------
        object
            A data object, a list of them (one per output port), or anything :meth:`select_time`
            turns into those.
        """
        raise NotImplementedError

    def select_time(self, result, t):
        """The output data objects for time ``t`` (None: no time requested) from the cached result."""
        return result

    # -- progress and errors -----------------------------------------------------------------
    def progress(self, fraction, message=None) -> None:
        """Drive ParaView's progress bar (the ``progress`` callable every core accepts)."""
        self.SetProgressText(f"{self.label}: {message}" if message else self.label)
        self.UpdateProgress(min(max(float(fraction), 0.0), 1.0))

    def report(self, exc: Exception) -> None:
        """One error line in ParaView's output window (bad input: file, problem, fix with property names)."""
        if isinstance(exc, BadInput):
            report_error(self.label, self.params.translate(exc, "paraview").one_line())
        else:
            report_error(self.label, f"internal error {type(exc).__name__}: {exc} (please report it)")
