"""The discharge model's parameters as BPX JSON (Battery Parameter eXchange, FaradayInstitution/BPX).

Written in the BPX 1.1 layout (``Header``, ``Parameterisation``, ``State``), which PyBaMM's
``pybamm.ParameterValues.create_from_bpx`` reads; files in the older 0.x layout (initial
concentration under ``Electrolyte``, temperatures under ``Cell``) are read too.

How the half cell maps onto BPX:

- ``Positive electrode``: NMC811 as BPX defines an electrode (OCP as an expression in the
  stoichiometry ``x``, kinetics as BPX's normalised rate constant, symmetric Butler-Volmer) and the
  1D-surrogate geometry; ``Minimum stoichiometry`` is the fully delithiated start, and ``State``
  says initial state of charge 1, so a BPX reader starts the lithiation there.
- ``Electrolyte``: BPX functions take one variable, ``x`` = concentration (mol/m^3), and carry
  temperature only as an Arrhenius activation energy.  So the conductivity and diffusivity are
  written as expressions at the cell temperature with an effective activation energy
  (-R dln/d(1/T) there), the transference number as its value at the initial concentration, and
  t+(x) and the thermodynamic factor (x) under ``User-defined``.  ElectroVox recognises its own
  expressions on reading and restores the full (c, T) fits.
- ``Negative electrode``: BPX has no half-cell variant yet (BPX issue 64), and its DFN schema
  needs a negative electrode.  The section is a lithium-metal *stand-in*: OCP 0 V, the foil's
  thickness and conductivity, maximum concentration 1 / (Li partial molar volume), and fixed
  placeholders where BPX needs an electrode field (porosity, particle size).  The Li-metal
  kinetics go under ``User-defined`` with the names PyBaMM's half-cell model reads, so
  ``pybamm.lithium_ion.DFN({"working electrode": "positive"})`` runs the file; a full-cell model
  would take the stand-in for a porous electrode.
- ``User-defined``: what BPX lacks (CBD conductivity, micro-porosity and exponent; CEI
  conductivity and thickness field, the field's mode as a number 0 none, 1 uniform, 2 gradient;
  the 280 mAh/g basis, NMC density and volume fraction, mass loading, C-rate, asymmetric
  transfer coefficients).

Reading checks that the file is what :func:`to_bpx` writes for the values it carries: a derived
value (the nominal capacity, the surface area per volume, the stand-in, the electrolyte's
activation energies...) that disagrees with its inputs is an error naming the field.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from electrovox.errors import BadInput
from electrovox.solvers.echem.parameters import (
    CEI_MODES,
    ELECTROLYTE_MODELS,
    FARADAY,
    OCP_FITS,
    EchemParameters,
)

__all__ = ["BPX_VERSION", "to_bpx", "from_bpx", "read_bpx", "write_bpx"]

#: the BPX schema version written
BPX_VERSION = "1.1.1"

_P = "Parameterisation"
_UD = (_P, "User-defined")
_POS = (_P, "Positive electrode")
_NEG = (_P, "Negative electrode")

#: parameters stored as they are: (``group.field``, path in the BPX object)
DIRECT = (
    ("cell.electrode_area_m2", (_P, "Cell", "Electrode area [m2]")),
    ("cell.external_area_m2", (_P, "Cell", "External surface area [m2]")),
    ("cell.volume_m3", (_P, "Cell", "Volume [m3]")),
    ("cell.lower_cutoff_V", (_P, "Cell", "Lower voltage cut-off [V]")),
    ("cell.upper_cutoff_V", (_P, "Cell", "Upper voltage cut-off [V]")),
    ("cell.temperature_K", (_P, "Cell", "Reference temperature [K]")),
    ("electrolyte.initial_concentration_mol_m3", ("State", "Initial conditions",
                                                  "Initial electrolyte concentration [mol.m-3]")),
    ("positive.thickness_m", (*_POS, "Thickness [m]")),
    ("positive.porosity", (*_POS, "Porosity")),
    ("positive.transport_efficiency", (*_POS, "Transport efficiency")),
    ("positive.conductivity_S_m", (*_POS, "Conductivity [S.m-1]")),
    ("positive.sto_min", (*_POS, "Minimum stoichiometry")),
    ("positive.sto_max", (*_POS, "Maximum stoichiometry")),
    ("positive.max_concentration_mol_m3", (*_POS, "Maximum concentration [mol.m-3]")),
    ("positive.particle_radius_m", (*_POS, "Particle radius [m]")),
    ("positive.diffusivity_m2_s", (*_POS, "Diffusivity [m2.s-1]")),
    ("positive.rate_constant_mol_m2_s", (*_POS, "Reaction rate constant [mol.m-2.s-1]")),
    ("positive.rate_activation_energy_J_mol", (*_POS, "Reaction rate constant activation energy [J.mol-1]")),
    ("positive.entropic_change_V_K", (*_POS, "Entropic change coefficient [V.K-1]")),
    ("separator.thickness_m", (_P, "Separator", "Thickness [m]")),
    ("separator.porosity", (_P, "Separator", "Porosity")),
    ("separator.transport_efficiency", (_P, "Separator", "Transport efficiency")),
    ("counter.thickness_m", (*_NEG, "Thickness [m]")),
    ("counter.conductivity_S_m", (*_NEG, "Conductivity [S.m-1]")),
    # what BPX lacks
    ("positive.density_kg_m3", (*_UD, "Positive electrode active material density [kg.m-3]")),
    ("positive.capacity_basis_mAh_g", (*_UD, "Positive electrode specific capacity basis of 1C [mA.h.g-1]")),
    ("positive.active_fraction", (*_UD, "Positive electrode NMC volume fraction")),
    ("positive.alpha_anodic", (*_UD, "Positive electrode anodic charge transfer coefficient")),
    ("positive.alpha_cathodic", (*_UD, "Positive electrode cathodic charge transfer coefficient")),
    ("cbd.conductivity_S_m", (*_UD, "CBD electronic conductivity [S.m-1]")),
    ("cbd.porosity", (*_UD, "CBD micro-porosity")),
    ("cbd.bruggeman", (*_UD, "CBD Bruggeman exponent")),
    # the Li-metal kinetics under the names PyBaMM's half-cell model reads
    ("counter.exchange_current_A_m2", (*_UD, "Exchange-current density for lithium metal electrode [A.m-2]")),
    ("counter.partial_molar_volume_m3_mol", (*_UD, "Lithium metal partial molar volume [m3.mol-1]")),
    ("counter.alpha", (*_UD, "Negative electrode charge transfer coefficient")),
    ("counter.concentration_exponent", (*_UD, "Lithium metal exchange-current concentration exponent")),
    ("cei.conductivity_S_m", (*_UD, "CEI conductivity [S.m-1]")),
    ("cei.thickness_collector_m", (*_UD, "CEI mean thickness at the current collector [m]")),
    ("cei.thickness_separator_m", (*_UD, "CEI mean thickness at the separator [m]")),
    ("cei.thickness_min_m", (*_UD, "CEI minimum thickness [m]")),
    ("cei.thickness_max_m", (*_UD, "CEI maximum thickness [m]")),
    ("cei.thickness_sigma_m", (*_UD, "CEI thickness standard deviation [m]")),
    ("cei.thickness_scale", (*_UD, "CEI thickness scale factor")),
    ("cell.c_rate", (*_UD, "Lithiation C-rate [h-1]")),
    ("cell.mass_loading_kg_m2", (*_UD, "Positive electrode mass loading [kg.m-2]")),
    ("cell.active_mass_fraction", (*_UD, "Positive electrode active material mass fraction")),
)

#: parameters stored in another form: (``group.field``, path)
ENCODED = (
    ("positive.ocp_fit", (*_POS, "OCP [V]")),                                    # the fit's expression
    ("electrolyte.model", (_P, "Electrolyte", "Conductivity [S.m-1]")),          # the model's expression at T
    ("cei.thickness_mode", (*_UD, "CEI thickness field (0 none, 1 uniform, 2 gradient)")),
)

_PATHS = dict(DIRECT + ENCODED)

# the Li-metal stand-in's placeholders (fields BPX needs that a planar foil does not have)
_STANDIN_POROSITY = 0.5
_STANDIN_RADIUS = 1e-6           # m
_STANDIN_DIFFUSIVITY = 1e-9      # m^2/s: fast enough never to limit

_DESCRIPTION = (
    "ElectroVox parameter set of the 3D microstructure-resolved discharge of an NMC811 | Li metal half cell "
    "(LiPF6 in EC:EMC 3:7). BPX has no half-cell variant (BPX issue 64): 'Negative electrode' is a lithium-metal "
    "stand-in (OCP 0 V; the foil's thickness and conductivity; placeholders elsewhere); read the file with a "
    "half-cell model, e.g. pybamm.lithium_ion.DFN({'working electrode': 'positive'}), which takes the Li-metal "
    "kinetics from the PyBaMM-named entries here. Electrolyte functions are written at the reference temperature "
    "(BPX functions take x only), their temperature dependence as effective activation energies; the "
    "transference number and thermodynamic factor as functions of x are here. CBD, CEI, capacity basis, mass "
    "loading and C-rate are ElectroVox quantities BPX lacks. Written by electrovox.solvers.echem.bpx."
)
_REFERENCES = (
    "Zhang, Chouchane et al., Joule 2023, doi 10.1016/j.joule.2022.12.001 (the study); Chen et al. 2020, "
    "J. Electrochem. Soc. 167 080534; O'Regan et al. 2022, Electrochim. Acta 425 140700; Landesfeind & "
    "Gasteiger 2019, J. Electrochem. Soc. 166 A3079; Nyman et al. 2008, Electrochim. Acta 53 6356; Xu et al. "
    "2019, J. Electrochem. Soc. 166 A3456; Safari et al. 2009, J. Electrochem. Soc. 156 A145"
)


def _set(d: dict, path, value) -> None:
    for key in path[:-1]:
        d = d.setdefault(key, {})
    d[path[-1]] = value


def _where(path) -> str:
    return "/".join(path)


def _lookup(d, path):
    """The value at ``path``, or a KeyError."""
    for key in path:
        if not isinstance(d, dict) or key not in d:
            raise KeyError(key)
        d = d[key]
    return d


def to_bpx(params: EchemParameters) -> dict:
    """The parameters as a BPX 1.1 object (a dict ready for ``json.dump``).

    Parameters
    ----------
    params : EchemParameters
        The set to write; it is checked first.

    Returns
    -------
    dict
        ``Header``, ``Parameterisation`` (Cell, Electrolyte, Negative electrode: the Li-metal
        stand-in, Positive electrode, Separator, User-defined) and ``State``.

    Raises
    ------
    BadInput
        From :meth:`EchemParameters.check`.
    """
    p = params.check()
    T, c0 = p.cell.temperature_K, p.electrolyte.initial_concentration_mol_m3
    em, fit = ELECTROLYTE_MODELS[p.electrolyte.model], OCP_FITS[p.positive.ocp_fit]
    li_cmax = 1.0 / p.counter.partial_molar_volume_m3_mol
    d = {
        "Header": {"BPX": BPX_VERSION,
                   "Title": "ElectroVox: NMC811 | LiPF6 in EC:EMC 3:7 | Li metal half cell (3D-resolved discharge)",
                   "Description": _DESCRIPTION, "References": _REFERENCES, "Model": "DFN"},
        _P: {
            "Cell": {"Number of electrode pairs connected in parallel to make a cell": 1,
                     "Nominal cell capacity [A.h]": p.nominal_capacity_Ah()},
            "Electrolyte": {
                "Cation transference number": float(em.transference_number(c0, T)),
                "Conductivity [S.m-1]": em.bpx_conductivity(T),
                "Conductivity activation energy [J.mol-1]": em.activation_energy("conductivity", c0, T),
                "Diffusivity [m2.s-1]": em.bpx_diffusivity(T),
                "Diffusivity activation energy [J.mol-1]": em.activation_energy("diffusivity", c0, T)},
            "Negative electrode": {
                "Porosity": _STANDIN_POROSITY,
                "Transport efficiency": _STANDIN_POROSITY ** 1.5,
                "Minimum stoichiometry": 0.0, "Maximum stoichiometry": 1.0,
                "Maximum concentration [mol.m-3]": li_cmax,
                "Particle radius [m]": _STANDIN_RADIUS,
                "Surface area per unit volume [m-1]": 3.0 * (1.0 - _STANDIN_POROSITY) / _STANDIN_RADIUS,
                "Diffusivity [m2.s-1]": _STANDIN_DIFFUSIVITY,
                "OCP [V]": "0 * x",
                "Entropic change coefficient [V.K-1]": 0.0,
                # BPX's i0 = F k sqrt(x (1 - x)) at x = 1/2 equals the Li-metal i0
                "Reaction rate constant [mol.m-2.s-1]": 2.0 * p.counter.exchange_current_A_m2 / FARADAY},
            "Positive electrode": {
                "OCP [V]": fit.bpx_expression(),
                "Surface area per unit volume [m-1]": 3.0 * p.positive.active_fraction / p.positive.particle_radius_m},
            "Separator": {},
            # no "description" entry: BPX allows one, but PyBaMM 26.10 takes every User-defined entry for a
            # number or an expression and fails on it (the description is in the Header)
            "User-defined": {
                "CEI thickness field (0 none, 1 uniform, 2 gradient)": CEI_MODES.index(p.cei.thickness_mode),
                "Electrolyte cation transference number at the reference temperature":
                    em.bpx_transference_number(T),
                "Electrolyte thermodynamic factor at the reference temperature": em.bpx_thermodynamic_factor(T)},
        },
        "State": {"Initial conditions": {"Initial state-of-charge": 1.0, "Initial temperature [K]": T},
                  "Thermal environment": {"Ambient temperature [K]": T}},
    }
    values = {name: value for name, value, _ in p.fields()}
    for name, path in DIRECT:
        _set(d, path, values[name])
    return d


def _upgrade_legacy(d: dict) -> dict:
    """A BPX 0.x object in the 1.x layout (the initial values moved to ``State``)."""
    d = json.loads(json.dumps(d))
    par = d.get(_P, {})
    cell, ely = par.get("Cell", {}), par.get("Electrolyte", {})
    state = d.setdefault("State", {})
    init = state.setdefault("Initial conditions", {})
    init.setdefault("Initial state-of-charge", 1.0)
    if "Initial concentration [mol.m-3]" in ely:
        init["Initial electrolyte concentration [mol.m-3]"] = ely.pop("Initial concentration [mol.m-3]")
    if "Initial temperature [K]" in cell:
        init["Initial temperature [K]"] = cell.pop("Initial temperature [K]")
    if "Ambient temperature [K]" in cell:
        state.setdefault("Thermal environment", {})["Ambient temperature [K]"] = cell.pop("Ambient temperature [K]")
    return d


def _number(d, path, source) -> float:
    try:
        v = _lookup(d, path)
    except KeyError:
        raise BadInput(f"{source}: {_where(path)}", "is missing",
                       "add it (write a complete file with `electrovox params export`)") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise BadInput(f"{source}: {_where(path)}", f"is {v!r}, not a finite number", "give a number")
    return float(v)


def _string(d, path, source) -> str:
    try:
        v = _lookup(d, path)
    except KeyError:
        raise BadInput(f"{source}: {_where(path)}", "is missing",
                       "add it (write a complete file with `electrovox params export`)") from None
    if not isinstance(v, str):
        raise BadInput(f"{source}: {_where(path)}", f"is {v!r}, not an expression in x",
                       "give the expression `electrovox params export` writes")
    return v


def _leaves(d, prefix=()):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, (*prefix, k))
        else:
            yield (*prefix, k), v


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)


def from_bpx(d: dict, source: str = "BPX") -> EchemParameters:
    """The parameters from a BPX object that :func:`to_bpx` wrote (1.x, or the 0.x layout).

    Parameters
    ----------
    d : dict
        The BPX object (parsed JSON).
    source : str
        Name of the file or object, for the error messages.

    Returns
    -------
    EchemParameters
        The checked parameter set; ``from_bpx(to_bpx(p)) == p``.

    Raises
    ------
    BadInput
        Naming the BPX field and the fix: a missing or non-numeric field, an OCP or electrolyte
        expression that is none of ElectroVox's fits, a non-physical value, or a derived value
        that disagrees with the fields it comes from.
    """
    if not isinstance(d, dict) or not isinstance(d.get("Header"), dict):
        raise BadInput(f"{source}: Header", "is missing: not a BPX object",
                       "give a BPX .json file (write one with `electrovox params export`)")
    model = d["Header"].get("Model")
    if model != "DFN":
        raise BadInput(f"{source}: Header/Model", f"is {model!r}; ElectroVox reads full (DFN) parameter sets",
                       "set it to \"DFN\" with every DFN field present")
    version = str(d["Header"].get("BPX", ""))
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise BadInput(f"{source}: Header/BPX", f"is {version!r}, not a version number",
                       f"write the schema version, e.g. \"{BPX_VERSION}\"") from None
    if major == 0:
        d = _upgrade_legacy(d)

    changes = {name: _number(d, path, source) for name, path in DIRECT}
    T = changes["cell.temperature_K"]

    path = _PATHS["positive.ocp_fit"]
    expr = _string(d, path, source)
    fits = [name for name, fit in OCP_FITS.items() if fit.bpx_expression() == expr]
    if not fits:
        raise BadInput(f"{source}: {_where(path)}", "is not one of ElectroVox's OCP fits "
                       f"({', '.join(OCP_FITS)})", "write the file with `electrovox params export` (the fit's "
                       "expression exactly as written there)")
    changes["positive.ocp_fit"] = fits[0]

    path = _PATHS["electrolyte.model"]
    kappa = _string(d, path, source)
    diff_path = (_P, "Electrolyte", "Diffusivity [m2.s-1]")
    diff = _string(d, diff_path, source)
    models = [m.name for m in ELECTROLYTE_MODELS.values() if m.bpx_conductivity(T) == kappa]
    if not models:
        raise BadInput(f"{source}: {_where(path)}", f"is not one of ElectroVox's electrolyte fits "
                       f"({', '.join(ELECTROLYTE_MODELS)}) at the reference temperature {T:g} K",
                       "write the file with `electrovox params export` (the expressions depend on the temperature)")
    if ELECTROLYTE_MODELS[models[0]].bpx_diffusivity(T) != diff:
        raise BadInput(f"{source}: {_where(diff_path)}", f"does not belong to the {models[0]} fits the conductivity "
                       "is from", "write both expressions with `electrovox params export`")
    changes["electrolyte.model"] = models[0]

    path = _PATHS["cei.thickness_mode"]
    code = _number(d, path, source)
    if code not in (0, 1, 2):
        raise BadInput(f"{source}: {_where(path)}", f"is {code:g}, not 0, 1 or 2",
                       "set 0 (no CEI), 1 (uniform) or 2 (gradient)")
    changes["cei.thickness_mode"] = CEI_MODES[int(code)]

    try:
        p = EchemParameters().with_values(changes).check()
    except BadInput as e:
        where = _where(_PATHS[e.source]) if e.source in _PATHS else e.source
        raise BadInput(f"{source}: {where}", f"({e.source}) {e.problem}", e.fix) from None

    # every value ElectroVox derives must agree with the fields it comes from
    for leaf, want in _leaves(to_bpx(p)):
        if leaf[0] == "Header":
            continue
        try:
            got = _lookup(d, leaf)
        except KeyError:
            raise BadInput(f"{source}: {_where(leaf)}", "is missing",
                           f"add it: {want!r} (derived from the other fields)") from None
        if not _same(got, want):
            raise BadInput(f"{source}: {_where(leaf)}", f"is {got!r}, but the other fields give {want!r}",
                           f"set it to {want!r}, or write the file anew with `electrovox params export`")
    return p


def read_bpx(path) -> EchemParameters:
    """Read and check a BPX JSON file (see :func:`from_bpx`).

    Parameters
    ----------
    path : str or Path
        The ``.json`` file.

    Returns
    -------
    EchemParameters
        The parameter set.

    Raises
    ------
    BadInput
        The file is missing, is not JSON, or :func:`from_bpx` rejects it.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "does not exist", "give the path of a BPX .json file")
    try:
        d = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(path, f"is not JSON ({e})",
                       "fix it, or write a new file with `electrovox params export`") from None
    return from_bpx(d, source=str(path))


def write_bpx(path, params: EchemParameters, force: bool = False) -> Path:
    """Write ``params`` as BPX JSON, atomically.

    Parameters
    ----------
    path : str or Path
        The ``.json`` file.
    params : EchemParameters
        The set (checked first).
    force : bool
        Replace an existing file.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    BadInput
        ``path`` exists without ``force``, its folder is missing, or ``params`` fails its check.
    """
    from electrovox.io.atomic import atomic_output
    text = json.dumps(to_bpx(params), indent=2, allow_nan=False) + "\n"
    with atomic_output(path, force=force) as tmp:
        Path(tmp).write_text(text)
    return Path(path)
