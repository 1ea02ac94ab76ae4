"""ElectroVox ParaView plugin: readers for TIFF stacks and ElectroVox netCDF, the Phase Legend filter.

Thin by design: names, properties and documentation only.  The work is done by the VTK algorithms
in ``filters/readers.py`` and ``filters/phase_legend.py`` (usable without ParaView).

Loading: ``bin/electrovox-paraview`` / ``-pvbatch`` / ``-pvpython`` put this folder on
PV_PLUGIN_PATH (ParaView loads every .py file there, so this file stays alone in it), or in a
script ``LoadPlugin("<checkout>/filters/pvplugin/ElectroVox.py", remote=False, ns=globals())``.
Then, in ``paraview.simple``: ``OpenDataFile("x.tif")`` / ``OpenDataFile("x.nc")`` pick the
readers, ``EVXTIFFStackReader(FileName=...)``, ``EVXnetCDFReader(FileName=...)``,
``EVXPhaseLegend(Input=...)``.
"""

import os
import sys

try:
    import electrovox  # noqa: F401
except ImportError:  # loaded by path without the launchers' PYTHONPATH: use this checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import electrovox  # noqa: F401

from paraview.util.vtkAlgorithm import smdomain, smhint, smproperty, smproxy

from electrovox.filters.flow_tortuosity import FlowTortuosityFilter
from electrovox.filters.phantoms import CyclingFilter, ElectrodePhantomSource, FibsemImageFilter
from electrovox.filters.phase_legend import PhaseLegend
from electrovox.filters.quantification import (
    CompareFilter,
    ComponentsFilter,
    QuantifyFilter,
    RepresentativeVolumeFilter,
)
from electrovox.filters.readers import THICKNESS_AXES, NetCDFReader, TiffStackReader
from electrovox.filters.segmentation import CracksFilter, ImageStepFilter, ResampleFilter, SegmentFilter
from electrovox.filters.transport import TortuosityFilter

paraview_plugin_name = "ElectroVox"
paraview_plugin_version = electrovox.__version__


def _doc(text):
    """A <Documentation> element for a property (used like a domain decorator)."""
    return smdomain.xml(f"<Documentation>{_esc(text)}</Documentation>")


def _proxy_doc(text):
    """Class decorator (below @smproxy...): the proxy's <Documentation> element."""
    def decorate(cls):
        cls._pvsm_property_xmls = [f"<Documentation>{_esc(text)}</Documentation>"]
        return cls
    return decorate


def _esc(text):
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_AXES_XML = ('<EnumerationDomain name="enum">'
             + "".join(f'<Entry value="{i}" text="{a}"/>' for i, a in enumerate(THICKNESS_AXES))
             + "</EnumerationDomain>")


@smproxy.reader(name="EVXTIFFStackReader", label="EVX TIFF Stack Reader",
                extensions="tif tiff", file_description="ElectroVox TIFF stack")
@_proxy_doc("Reads a (multi-page) TIFF stack as an image volume in micrometres. Give the voxel size "
            "when the file stores none, and a legend for a label volume.")
class EVXTIFFStackReader(TiffStackReader):
    @smproperty.stringvector(name="FileName", panel_visibility="never")
    @smdomain.filelist()
    @smhint.filechooser(extensions="tif tiff", file_description="ElectroVox TIFF stack")
    def SetFileName(self, name):
        super().SetFileName(name)

    @smproperty.doublevector(name="VoxelSize", label="Voxel Size", default_values=[0.0, 0.0, 0.0])
    @_doc("Voxel size along the file's x, y, z in micrometres (e.g. 0.0152 0.0152 0.1 for PFIB-SEM). "
          "0 0 0 takes it from the file's metadata (ImageJ, OME); required when the file stores none.")
    def SetVoxelSize(self, x, y, z):
        super().SetVoxelSize(x, y, z)

    @smproperty.stringvector(name="Legend", default_values="")
    @_doc("Phase of each label id, e.g. 0=pore,1=am,2=cbd (names: pore, cbd, am, crack, separator, "
          "collector). Empty: as stored in the file, else greyscale; 'default': labels with the "
          "legend stored in the file, else the default legend.")
    def SetLegend(self, text):
        super().SetLegend(text)

    @smproperty.intvector(name="ThicknessAxis", label="Thickness Axis", default_values=0)
    @smdomain.xml(_AXES_XML)
    @_doc("The file's axis along the electrode thickness (current collector to separator); "
          "it becomes z.")
    def SetThicknessAxis(self, index):
        super().SetThicknessAxis(THICKNESS_AXES[int(index)])


@smproxy.reader(name="EVXnetCDFReader", label="EVX netCDF Reader",
                extensions="nc", file_description="ElectroVox netCDF")
@_proxy_doc("Reads an ElectroVox netCDF4 file (dimensions z, y, x in micrometres; labels with their "
            "legend, or greyscale) as an image volume.")
class EVXnetCDFReader(NetCDFReader):
    @smproperty.stringvector(name="FileName", panel_visibility="never")
    @smdomain.filelist()
    @smhint.filechooser(extensions="nc", file_description="ElectroVox netCDF")
    def SetFileName(self, name):
        super().SetFileName(name)

    @smproperty.stringvector(name="Variable", default_values="")
    @_doc("The data variable to read (labels, image, truth, ...). Empty: labels when present, else image.")
    def SetVariable(self, name):
        super().SetVariable(name)


@smproxy.filter(name="EVXPhaseLegend", label="EVX Phase Legend")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Attaches the phase legend of a label volume to its field data (legend JSON, phase ids, "
            "names, display names, colours, volume fractions, annotation pairs) for colour maps, "
            "annotations and scripts. The voxels are not copied.")
class EVXPhaseLegend(PhaseLegend):
    @smproperty.stringvector(name="ArrayName", label="Array Name", default_values="labels")
    @_doc("The label array (point data, integer phase ids).")
    def SetArrayName(self, name):
        super().SetArrayName(name)

    @smproperty.stringvector(name="Legend", default_values="")
    @_doc("Phase of each label id, e.g. 0=pore,1=am,2=cbd, or 'default'. Empty: the legend stored "
          "with the input, else the default legend.")
    def SetLegend(self, text):
        super().SetLegend(text)


_MORPH_XML = ('<EnumerationDomain name="enum"><Entry value="0" text="slurry"/>'
              '<Entry value="1" text="dry"/></EnumerationDomain>')


@smproxy.source(name="EVXElectrodePhantom", label="EVX Electrode Phantom")
@_proxy_doc("A synthetic labelled NMC cathode with known truth: polydisperse secondary particles packed "
            "with calendering overlap, cracks inside particles, carbon-binder domain at necks and on "
            "surfaces (slurry or dry morphology). Outputs labels (default legend) and particle ids.")
class EVXElectrodePhantom(ElectrodePhantomSource):
    @smproperty.doublevector(name="SizeUm", label="Size Um", default_values=[40.0, 40.0, 40.0])
    @_doc("Box size X Y Z in micrometres (z = electrode thickness).")
    def SetSizeUm(self, x, y, z):
        super().SetSizeUm(x, y, z)

    @smproperty.doublevector(name="VoxelUm", label="Voxel Um", default_values=[0.5, 0.5, 0.5])
    @_doc("Voxel size X Y Z in micrometres.")
    def SetVoxelUm(self, x, y, z):
        super().SetVoxelUm(x, y, z)

    @smproperty.intvector(name="Seed", default_values=0)
    def SetSeed(self, n):
        super().SetSeed(n)

    @smproperty.doublevector(name="ActiveFraction", label="Active Fraction", default_values=0.58)
    def SetActive(self, f):
        super().SetActive(f)

    @smproperty.doublevector(name="CBDFraction", label="CBD Fraction", default_values=0.09)
    def SetCbd(self, f):
        super().SetCbd(f)

    @smproperty.doublevector(name="CrackFraction", label="Crack Fraction", default_values=0.04)
    def SetCracks(self, f):
        super().SetCracks(f)

    @smproperty.intvector(name="CBDMorphology", label="CBD Morphology", default_values=0)
    @smdomain.xml(_MORPH_XML)
    def SetCbdMorphology(self, m):
        super().SetCbdMorphology(int(m))

    @smproperty.doublevector(name="D50Um", label="D50 Um", default_values=10.0)
    def SetD50Um(self, d):
        super().SetD50Um(d)

    @smproperty.doublevector(name="MaxOverlap", label="Max Overlap", default_values=0.2)
    def SetMaxOverlap(self, f):
        super().SetMaxOverlap(f)


@smproxy.filter(name="EVXCyclingTransform", label="EVX Cycling Transform")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Replays cycling damage on a label volume: crack volume grows by CrackGrowth (relative), "
            "the active material-CBD contact area drops by ContactLoss (relative). The achieved changes "
            "are in the field data 'cycling_report'.")
class EVXCyclingTransform(CyclingFilter):
    @smproperty.doublevector(name="CrackGrowth", label="Crack Growth", default_values=0.24)
    def SetCrackGrowth(self, r):
        super().SetCrackGrowth(r)

    @smproperty.doublevector(name="ContactLoss", label="Contact Loss", default_values=0.20)
    def SetContactLoss(self, r):
        super().SetContactLoss(r)

    @smproperty.intvector(name="Seed", default_values=0)
    def SetSeed(self, n):
        super().SetSeed(n)


@smproxy.filter(name="EVXFIBSEMImagePhantom", label="EVX FIBSEM Image Phantom")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Renders a PFIB-SEM-like greyscale stack from a label volume (grey levels, grain and CBD "
            "texture, anisotropic blur, noise at a given SNR, curtaining, drift, pore-back) on its own "
            "voxel grid, with the exact labels on that grid as 'truth'.")
class EVXFIBSEMImagePhantom(FibsemImageFilter):
    @smproperty.doublevector(name="VoxelNm", label="Voxel Nm", default_values=[50.0, 50.0, 100.0])
    @_doc("Image voxel size X Y Z in nanometres (PFIB-SEM: 15.2 15.2 100; coarser is faster).")
    def SetVoxelNm(self, x, y, z):
        super().SetVoxelNm(x, y, z)

    @smproperty.doublevector(name="SNR", label="SNR", default_values=8.0)
    @_doc("(mean AM - mean pore) / noise sigma at mid grey.")
    def SetSnr(self, s):
        super().SetSnr(s)

    @smproperty.intvector(name="Seed", default_values=0)
    def SetSeed(self, n):
        super().SetSeed(n)

    @smproperty.intvector(name="PoreBack", label="Pore Back", default_values=1)
    @smdomain.xml('<BooleanDomain name="bool"/>')
    def SetPoreBack(self, on):
        super().SetPoreBack(on)

    @smproperty.intvector(name="Curtaining", default_values=1)
    @smdomain.xml('<BooleanDomain name="bool"/>')
    def SetCurtaining(self, on):
        super().SetCurtaining(on)

    @smproperty.intvector(name="Drift", default_values=1)
    @smdomain.xml('<BooleanDomain name="bool"/>')
    def SetDrift(self, on):
        super().SetDrift(on)


_CONNECTIVITY_XML = ('<EnumerationDomain name="enum"><Entry value="6" text="6 (faces)"/>'
                     '<Entry value="18" text="18 (edges)"/><Entry value="26" text="26 (corners)"/>'
                     '</EnumerationDomain>')


@smproxy.filter(name="EVXQuantify", label="EVX Quantify")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("All metrics of a label volume: phase fractions, crack fraction of particles, interface areas "
            "and specific surfaces, particle-CBD contact, CBD aggregates, electronically isolated active "
            "material, dead pores (output 0, a table for the spreadsheet view), and the phase-fraction "
            "profiles along the thickness (output 1, for a line chart).")
class EVXQuantify(QuantifyFilter):
    @smproperty.intvector(name="Connectivity", default_values=6)
    @smdomain.xml(_CONNECTIVITY_XML)
    def SetConnectivity(self, n):
        super().SetConnectivity(n)


@smproxy.filter(name="EVXConnectedComponents", label="EVX Connected Components")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Connected components of one phase: point array component_id (0 outside the phase; colour it "
            "with a categorical map) and a field-data summary (count, largest share, percolation).")
class EVXConnectedComponents(ComponentsFilter):
    @smproperty.stringvector(name="Phase", default_values="cbd")
    @_doc("Phase name: pore, cbd, am, crack, separator or collector.")
    def SetPhase(self, name):
        super().SetPhase(name)

    @smproperty.intvector(name="Connectivity", default_values=6)
    @smdomain.xml(_CONNECTIVITY_XML)
    def SetConnectivity(self, n):
        super().SetConnectivity(n)


@smproxy.filter(name="EVXRepresentativeVolume", label="EVX Representative Volume")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Metrics (phase fractions, crack fraction, largest CBD aggregate share) on growing centred or "
            "random sub-volumes, with mean and spread per size: a table for a line chart against edge_um.")
class EVXRepresentativeVolume(RepresentativeVolumeFilter):
    @smproperty.intvector(name="Mode", default_values=0)
    @smdomain.xml('<EnumerationDomain name="enum"><Entry value="0" text="growing"/>'
                  '<Entry value="1" text="random"/></EnumerationDomain>')
    def SetMode(self, m):
        super().SetMode(int(m))

    @smproperty.intvector(name="Samples", default_values=8)
    @_doc("Random sub-volumes per size (mode random).")
    def SetSamples(self, n):
        super().SetSamples(n)

    @smproperty.intvector(name="Seed", default_values=0)
    def SetSeed(self, n):
        super().SetSeed(n)


@smproxy.filter(name="EVXCompare", label="EVX Compare")
@smproperty.input(name="Input", port_index=0, multiple_input=True)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Every metric of two or more label volumes (e.g. pristine, cycled 4.4 V, cycled 4.7 V) and its "
            "relative change against the first input, as one table.")
class EVXCompare(CompareFilter):
    pass


_SLICE_AXIS_XML = ('<EnumerationDomain name="enum"><Entry value="-1" text="auto (largest voxel)"/>'
                   '<Entry value="0" text="z"/><Entry value="1" text="y"/><Entry value="2" text="x"/>'
                   '</EnumerationDomain>')
_DENOISERS = ("default", "gaussian", "median", "bilateral", "nlm", "none")
_DENOISE_XML = ('<EnumerationDomain name="enum">'
                + "".join(f'<Entry value="{i}" text="{n}"/>' for i, n in enumerate(_DENOISERS))
                + "</EnumerationDomain>")
_PHASE_SETS = ("pore,cbd,am,crack", "pore,cbd,am", "pore,am,crack", "pore,am")
_PHASES_XML = ('<EnumerationDomain name="enum">'
               + "".join(f'<Entry value="{i}" text="{n}"/>' for i, n in enumerate(_PHASE_SETS))
               + "</EnumerationDomain>")
_STEPS = ("destripe", "drift", "align", "denoise", "pore-back")
_STEPS_XML = ('<EnumerationDomain name="enum">'
              + "".join(f'<Entry value="{i}" text="{n}"/>' for i, n in enumerate(_STEPS))
              + "</EnumerationDomain>")


@smproxy.filter(name="EVXSegment", label="EVX Segment")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Segments a greyscale FIB-SEM / CT image into pore, CBD, active material and cracks: curtaining "
            "and drift correction, denoising, pore-back correction, mixture grey levels, markers + watershed, "
            "cracks enclosed by particles. Output: 'labels' (default legend) and 'pore_back_corrected'.")
class EVXSegment(SegmentFilter):
    @smproperty.stringvector(name="ArrayName", label="Array Name", default_values="image")
    @_doc("Greyscale point array to segment (the first array if absent).")
    def SetArrayName(self, name):
        super().SetArrayName(name)

    @smproperty.intvector(name="Phases", default_values=0)
    @smdomain.xml(_PHASES_XML)
    def SetPhaseSet(self, i):
        super().SetPhases(_PHASE_SETS[int(i)])

    @smproperty.intvector(name="PoreBackCorrection", label="Pore Back Correction", default_values=1)
    @smdomain.xml('<BooleanDomain name="bool"/>')
    def SetPoreBackCorrection(self, on):
        super().SetPoreBackCorrection(on)

    @smproperty.intvector(name="Destripe", default_values=1)
    @smdomain.xml('<BooleanDomain name="bool"/>')
    def SetDestripe(self, on):
        super().SetDestripe(on)

    @smproperty.intvector(name="DriftCorrection", label="Drift Correction", default_values=1)
    @smdomain.xml('<BooleanDomain name="bool"/>')
    def SetDriftCorrection(self, on):
        super().SetDrift(on)

    @smproperty.intvector(name="AlignSlices", label="Align Slices", default_values=0)
    @smdomain.xml('<BooleanDomain name="bool"/>')
    def SetAlignSlices(self, on):
        super().SetAlign(on)

    @smproperty.intvector(name="Denoiser", default_values=0)
    @smdomain.xml(_DENOISE_XML)
    def SetDenoiser(self, i):
        super().SetDenoise(_DENOISERS[int(i)])

    @smproperty.intvector(name="SliceAxis", label="Slice Axis", default_values=-1)
    @smdomain.xml(_SLICE_AXIS_XML)
    def SetSliceAxis(self, axis):
        super().SetSliceAxis(axis)

    @smproperty.doublevector(name="ResampleUm", label="Resample Um", default_values=0.0)
    @_doc("Cubic voxel size of the output labels in um (majority); 0 keeps the image grid.")
    def SetResampleUm(self, v):
        super().SetResampleUm(v)


@smproxy.filter(name="EVXImageStep", label="EVX Image Step")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("One FIB-SEM image correction: curtaining removal, drift normalisation, slice alignment, "
            "denoising or pore-back correction; output 'image' (float32) on the same grid.")
class EVXImageStep(ImageStepFilter):
    @smproperty.stringvector(name="ArrayName", label="Array Name", default_values="image")
    def SetArrayName(self, name):
        super().SetArrayName(name)

    @smproperty.intvector(name="Step", default_values=3)
    @smdomain.xml(_STEPS_XML)
    def SetStep(self, i):
        super().SetStep(int(i))

    @smproperty.intvector(name="Denoiser", default_values=0)
    @smdomain.xml(_DENOISE_XML)
    def SetDenoiser(self, i):
        super().SetMethod(_DENOISERS[int(i)])

    @smproperty.intvector(name="SliceAxis", label="Slice Axis", default_values=-1)
    @smdomain.xml(_SLICE_AXIS_XML)
    def SetSliceAxis(self, axis):
        super().SetSliceAxis(axis)


@smproxy.filter(name="EVXResample", label="EVX Resample")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Resamples an image (interpolation) or a label volume (majority) to cubic voxels.")
class EVXResample(ResampleFilter):
    @smproperty.stringvector(name="ArrayName", label="Array Name", default_values="image")
    def SetArrayName(self, name):
        super().SetArrayName(name)

    @smproperty.doublevector(name="VoxelUm", label="Voxel Um", default_values=0.1)
    def SetVoxelUm(self, v):
        super().SetResampleUm(v)


@smproxy.filter(name="EVXFindCracks", label="EVX Find Cracks")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Relabels dark regions enclosed by particles (active material) as 'crack'.")
class EVXFindCracks(CracksFilter):
    @smproperty.doublevector(name="MaxWidthUm", label="Max Width Um", default_values=0.0)
    @_doc("Widest crack mouth bridged, um (0: half the particle diameter estimated from the labels).")
    def SetMaxWidthUm(self, w):
        super().SetMaxWidthUm(w)

    @smproperty.doublevector(name="EnclosedFraction", label="Enclosed Fraction", default_values=0.7)
    def SetEnclosedFraction(self, f):
        super().SetEnclosedFraction(f)


_XYZ_XML = ('<EnumerationDomain name="enum"><Entry value="0" text="x"/><Entry value="1" text="y"/>'
            '<Entry value="2" text="z"/></EnumerationDomain>')


@smproxy.filter(name="EVXTortuosity", label="EVX Tortuosity")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkImageData"], composite_data_supported=False)
@_proxy_doc("Tortuosity factor of the chosen phases by steady-state conduction (finite volumes, harmonic face "
            "conductances): output 0 the potential and flux fields along Axis, output 1 a table of porosity, "
            "D_eff, tau and MacMullin number per axis. Conductivities 'am=10,cbd=1' solve the electronic network.")
class EVXTortuosity(TortuosityFilter):
    @smproperty.stringvector(name="Phases", default_values="pore")
    @_doc("Conducting phases (bulk conductivity 1 each), e.g. pore or pore,crack.")
    def SetPhases(self, s):
        super().SetPhases(s)

    @smproperty.doublevector(name="CBDFactor", label="CBD Factor", default_values=-1.0)
    @_doc("Relative conductivity of nanoporous CBD; < 0: CBD does not conduct.")
    def SetCBDFactor(self, f):
        super().SetCBDFactor(f)

    @smproperty.stringvector(name="Conductivities", default_values="")
    @_doc("Per-phase conductivities (overrides Phases), e.g. am=10,cbd=1 for the electronic network.")
    def SetConductivities(self, s):
        super().SetConductivities(s)

    @smproperty.intvector(name="Axis", default_values=2)
    @smdomain.xml(_XYZ_XML)
    def SetAxis(self, a):
        super().SetAxis(a)

    @smproperty.intvector(name="AllAxes", label="All Axes", default_values=1)
    @smdomain.xml('<BooleanDomain name="bool"/>')
    @_doc("Solve x, y and z for the table (the fields are those of Axis).")
    def SetAllAxes(self, on):
        super().SetAllAxes(on)


_FLOW_AXIS_XML = ('<EnumerationDomain name="enum"><Entry value="-1" text="auto (mean flow)"/>'
                  '<Entry value="0" text="x"/><Entry value="1" text="y"/><Entry value="2" text="z"/>'
                  '</EnumerationDomain>')
_ASSOCIATION_XML = ('<EnumerationDomain name="enum"><Entry value="-1" text="auto (points, else cells)"/>'
                    '<Entry value="0" text="point data"/><Entry value="1" text="cell data"/>'
                    '</EnumerationDomain>')


@smproxy.filter(name="EVXFlowTortuosity", label="EVX Flow Tortuosity")
@smproperty.input(name="Input", port_index=0)
@smdomain.datatype(dataTypes=["vtkDataSet"], composite_data_supported=False)
@_proxy_doc("Flow tortuosity of a Stokes velocity field (absolute-permeability simulation, e.g. from "
            "OpenFOAM, Avizo, GeoDict): tau = sum |V| / |sum V_i| over the flowing points, i the mean-flow "
            "direction (Zhang, Chouchane et al., Joule 2023). Cell data of a mesh is weighted by cell volume. "
            "Output: a table (Metric, Value) with flow_tortuosity, the mean velocity, the points counted, "
            "the axis and the flow fraction along it.")
class EVXFlowTortuosity(FlowTortuosityFilter):
    @smproperty.stringvector(name="ArrayName", label="Array Name", default_values="")
    @_doc("The velocity array (3 components, x y z), e.g. U (OpenFOAM) or velocity. Empty: the first "
          "3-component array, point data first, then cell data.")
    def SetArrayName(self, name):
        super().SetArrayName(name)

    @smproperty.intvector(name="Axis", default_values=-1)
    @smdomain.xml(_FLOW_AXIS_XML)
    @_doc("Mean-flow direction (the applied pressure drop). auto: the component of the largest mean velocity.")
    def SetAxis(self, i):
        super().SetAxis(int(i))

    @smproperty.intvector(name="Association", default_values=-1)
    @smdomain.xml(_ASSOCIATION_XML)
    @_doc("Where the array is: auto takes point data when the array is there, else cell data. Use cell data "
          "for a non-uniform mesh (weighted by cell volume).")
    def SetAssociation(self, a):
        super().SetAssociation(int(a))
