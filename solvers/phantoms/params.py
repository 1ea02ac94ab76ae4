"""Parameters of the phantom generators, declared once (CLI options, ParaView properties, docs).

See :mod:`electrovox.params`.  Keywords are those of
:func:`~electrovox.solvers.phantoms.electrode.generate_electrode`,
:func:`~electrovox.solvers.phantoms.cycling.cycle_electrode` and
:func:`~electrovox.solvers.phantoms.imaging.simulate_fibsem`.
"""

from electrovox.params import Param, ParamSet

AXES_AUTO = ("auto", "z", "y", "x")

ELECTRODE = ParamSet("electrode_phantom", [
    Param("size_um", "vec3", (40.0, 40.0, 40.0), "Box size X Y Z; z is the electrode thickness.", unit="um",
          label="Box size", range=(1e-3, None), required=True, metavar="X Y Z"),
    Param("voxel_um", "vec3", (0.5, 0.5, 0.5), "Voxel size: one value (cubic) or X Y Z.", unit="um",
          label="Voxel size", range=(1e-4, None), required=True, metavar="V"),
    Param("seed", "int", 0, "Random seed: the same seed gives the same electrode.", range=(0, None), required=True),
    Param("active", "float", 0.58, "Active-material (NMC) volume fraction.", unit="1", label="Active fraction",
          range=(0.0, 0.99), pv="ActiveFraction"),
    Param("cbd", "float", 0.09, "Carbon-binder-domain volume fraction.", unit="1", label="CBD fraction",
          range=(0.0, 0.99), pv="CBDFraction"),
    Param("cracks", "float", 0.04, "Crack volume fraction (inside particles).", unit="1", label="Crack fraction",
          range=(0.0, 0.99), pv="CrackFraction"),
    Param("cbd_morphology", "choice", "slurry", "CBD placement: slurry (necks and films) or dry (patches).",
          choices=("slurry", "dry"), label="CBD morphology", pv="CBDMorphology"),
    Param("d50_um", "float", 10.0, "Median secondary-particle diameter.", unit="um", label="Particle D50",
          range=(1e-3, None)),
    Param("max_overlap", "float", 0.2, "Calendering: largest overlap depth over the smaller radius.",
          label="Max overlap", range=(0.0, 0.9), advanced=True),
    Param("psd_sigma", "float", None, "Log-normal geometric standard deviation of the particle sizes "
          "(default: a realistic NMC distribution).", range=(0.0, 2.0), pv=""),
    Param("crack_min_width_vox", "int", 2, "Narrowest crack, in voxels.", cli="crack-min-width", range=(1, 20),
          label="Crack Min Width Voxels", advanced=True),
    Param("separator_um", "float", 0.0, "Separator layer on top (0: none).", unit="um", label="Separator",
          range=(0.0, None), advanced=True),
    Param("collector_um", "float", 0.0, "Current-collector layer at z = 0 (0: none).", unit="um",
          label="Current collector", range=(0.0, None), advanced=True),
    Param("periodic", "bool", False, "Periodic lateral (x, y) boundaries.", advanced=True),
])

CYCLING = ParamSet("cycling", [
    Param("crack_growth", "float", 0.24, "Relative crack-volume growth (0.24: +24 %).", range=(0.0, 10.0),
          required=True),
    Param("contact_loss", "float", 0.20, "Relative loss of active-material/CBD contact area (0.2: -20 %).",
          range=(0.0, 1.0), required=True),
    Param("seed", "int", 0, "Random seed.", range=(0, None), required=True),
])

IMAGING = ParamSet("fibsem_image", [
    Param("voxel_nm", "vec3", (15.2, 15.2, 100.0), "Image voxel size X Y Z (the study's PFIB-SEM: 15.2 15.2 "
          "100; coarser is faster).", unit="nm", label="Image voxel size", range=(0.1, None), metavar="V"),
    Param("snr", "float", 8.0, "Signal-to-noise ratio: (mean AM - mean pore) / noise sigma at mid grey.",
          label="SNR", range=(0.1, None), pv="SNR"),
    Param("seed", "int", 0, "Random seed.", range=(0, None), required=True),
    Param("pore_back", "bool", True, "Pore-back shine-through behind the milled face."),
    Param("curtaining", "bool", True, "Curtaining stripes along the beam."),
    Param("drift", "bool", True, "Slice-to-slice brightness drift."),
    Param("slice_axis", "choice", "auto", "FIB slice axis (auto: the coarsest voxel axis).", choices=AXES_AUTO,
          advanced=True),
])
