"""The table of ElectroVox's ParaView proxies: name, VTK algorithm, menu, documentation, output views.

The plugin (``filters/pvplugin/ElectroVox.py``) generates one proxy per row; the tests compare
ParaView's proxy definitions against this table and the parameter declarations.  Importable
without ParaView.
"""

from electrovox.filters.vtk import (
    discharge,
    flow,
    flow_tortuosity,
    image,
    impregnation,
    phantoms,
    phase_legend,
    quantify,
    readers,
    transport,
)

# name, VTK algorithm, menu (None: a reader), documentation, output views {port: view type}
_IMAGE, _QUANT, _TRANS, _PHANT, _SRC = ("ElectroVox Image", "ElectroVox Quantify", "ElectroVox Transport",
                                        "ElectroVox Phantoms", "ElectroVox")
_FLOW = "ElectroVox Flow"
_ECHEM = "ElectroVox Electrochemistry"
#: rows: (proxy name, VTK algorithm class, menu category or None for a reader, documentation,
#: {output port: view type})
PROXIES = [
    ("EVXPhaseLegend", phase_legend.PhaseLegend, _IMAGE,
     "Attaches the phase legend of a label volume to its field data (legend JSON, phase ids, names, display "
     "names, colours, volume fractions, annotation pairs) for colour maps, annotations and scripts. The voxels "
     "are not copied.", {}),
    ("EVXSegment", image.SegmentFilter, _IMAGE,
     "Segments a greyscale FIB-SEM / CT image into pore, CBD, active material and cracks: curtaining and drift "
     "correction, denoising, pore-back correction, mixture grey levels, markers + watershed, cracks enclosed by "
     "particles. Output: 'labels' (default legend) and 'pore_back_corrected'.", {}),
    ("EVXImageStep", image.ImageStepFilter, _IMAGE,
     "One FIB-SEM image correction: curtaining removal, drift normalisation, slice alignment, denoising or "
     "pore-back correction; output 'image' (float32) on the same grid.", {}),
    ("EVXResample", image.ResampleFilter, _IMAGE,
     "Resamples an image (interpolation) or a label volume (majority) to cubic voxels.", {}),
    ("EVXFindCracks", image.CracksFilter, _IMAGE,
     "Relabels dark regions enclosed by particles (active material) as 'crack'.", {}),
    ("EVXQuantify", quantify.QuantifyFilter, _QUANT,
     "All metrics of a label volume: phase fractions, crack fraction of particles, interface areas and specific "
     "surfaces, particle-CBD contact, CBD aggregates, electronically isolated active material, dead pores "
     "(output 0, a table in a spreadsheet view), and the phase-fraction profiles along the thickness (output 1, "
     "a line chart).", {0: "SpreadSheetView", 1: "XYChartView"}),
    ("EVXConnectedComponents", quantify.ComponentsFilter, _QUANT,
     "Connected components of one phase: point array component_id (0 outside the phase; colour it with a "
     "categorical map) and a field-data summary (count, largest share, percolation).", {}),
    ("EVXRepresentativeVolume", quantify.RepresentativeVolumeFilter, _QUANT,
     "Metrics (phase fractions, crack fraction, largest CBD aggregate share) on growing centred or random "
     "sub-volumes, with mean and spread per size: a table for a line chart against edge_um.",
     {0: "SpreadSheetView"}),
    ("EVXCompare", quantify.CompareFilter, _QUANT,
     "Every metric of two or more label volumes (e.g. pristine, cycled 4.4 V, cycled 4.7 V) and its relative "
     "change against the first input, as one table.", {0: "SpreadSheetView"}),
    ("EVXTortuosity", transport.TortuosityFilter, _TRANS,
     "Tortuosity factor of the chosen phases by steady-state conduction (finite volumes, harmonic face "
     "conductances): output 0 the potential and flux fields along Axis, output 1 a table of porosity, D_eff, "
     "tau and MacMullin number per axis. Conductivities 'am=10,cbd=1' solve the electronic network.",
     {1: "SpreadSheetView"}),
    ("EVXFlowTortuosity", flow_tortuosity.FlowTortuosityFilter, _TRANS,
     "Flow tortuosity of a Stokes velocity field (absolute-permeability simulation, e.g. from OpenFOAM, Avizo, "
     "GeoDict): tau = sum |V| / |sum V_i| over the flowing points, i the mean-flow direction (Zhang, Chouchane "
     "et al., Joule 2023). Cell data of a mesh is weighted by cell volume. Output: a table (Metric, Value).",
     {0: "SpreadSheetView"}),
    ("EVXPermeability", flow.PermeabilityFilter, _FLOW,
     "Absolute permeability and flow tortuosity by lattice Boltzmann (D3Q19 TRT, Stokes flow driven by a body "
     "force through the pores, the image mirrored along the flow): output 0 the velocity (m/s for a 1e5 Pa/m "
     "pressure gradient), speed and pressure on the solved grid (streamlines, glyphs), output 1 a table of k (m^2, "
     "darcy), flow tortuosity, porosity and convergence per axis, output 2 the convergence history (k against "
     "steps). Solves once per change of its properties.", {1: "SpreadSheetView", 2: "XYChartView"}),
    ("EVXImpregnation", impregnation.ImpregnationFilter, _FLOW,
     "Electrolyte impregnation over time (two-phase colour-gradient lattice Boltzmann): the electrolyte enters the "
     "pores from the separator face (top) and displaces the air by capillarity, a contact angle per solid phase, "
     "the air leaving through the collector face or trapped. Output 0 the electrolyte fraction and pressure at the "
     "animation time (a contour at 0.5 is the front); output 1 the saturation against time (s and capillary "
     "time) for a line chart; output 2 the air pockets left at the end. Runs once per change of its properties, "
     "into its Run Folder.", {1: "XYChartView", 2: "SpreadSheetView"}),
    ("EVXDischarge", discharge.DischargeFilter, _ECHEM,
     "3D microstructure-resolved discharge (lithiation) of an NMC811 | Li half cell at a C-rate to the cut-off: "
     "Butler-Volmer on every active-material face, solid diffusion, concentrated-solution electrolyte in the "
     "pores and the CBD's micro-pores, separator, CEI film and clogging scenarios. Output 0 the lithiation, "
     "electrolyte concentration, potentials and reaction current at the animation time; output 1 the discharge "
     "curve (voltage against capacity); output 2 the profiles along z at that time. Runs once per change of its "
     "properties, into its Run Folder.", {1: "XYChartView", 2: "XYChartView"}),
    ("EVXCyclingTransform", phantoms.CyclingFilter, _PHANT,
     "Replays cycling damage on a label volume: crack volume grows by Crack growth (relative), the active "
     "material-CBD contact area drops by Contact loss (relative). The achieved changes are in the field data "
     "'cycling_report'.", {}),
    ("EVXFIBSEMImagePhantom", phantoms.FibsemImageFilter, _PHANT,
     "Renders a PFIB-SEM-like greyscale stack from a label volume (grey levels, grain and CBD texture, "
     "anisotropic blur, noise at a given SNR, curtaining, drift, pore-back) on its own voxel grid, with the "
     "exact labels on that grid as 'truth'.", {}),
    ("EVXElectrodePhantom", phantoms.ElectrodePhantomSource, _SRC,
     "A synthetic labelled NMC cathode with known truth: polydisperse secondary particles packed with "
     "calendering overlap, cracks inside particles, carbon-binder domain at necks and on surfaces (slurry or dry "
     "morphology). Outputs labels (default legend) and particle ids.", {}),
    ("EVXTIFFStackReader", readers.TiffStackReader, None,
     "Reads a (multi-page) TIFF stack as an image volume in micrometres. Give the voxel size when the file "
     "stores none, and a legend for a label volume.", {}),
    ("EVXRunFolderReader", flow.RunFolderReader, None,
     "Opens an ElectroVox run folder (its params.json): the frames of fields.pvd as a time series and the "
     "history table, without solving again.", {1: "SpreadSheetView"}),
    ("EVXnetCDFReader", readers.NetCDFReader, None,
     "Reads an ElectroVox netCDF4 file (dimensions z, y, x in micrometres; labels with their legend, or "
     "greyscale) as an image volume.", {}),
]



def proxy_table() -> dict:
    """{proxy name: (VTK algorithm class, menu category or None)}."""
    return {name: (algorithm, menu) for name, algorithm, menu, _doc, _views in PROXIES}
