"""Parameters of the microstructure-resolved discharge model, in one place, SI units, with sources.

The study's cell (Zhang, Chouchane et al., Joule 2023, "the study" below; figures in
``shared/reference/paper-numbers.md``): a thick NMC811 electrode against Li metal in 1 M LiPF6
in EC:EMC, lithiated at C/2 from the fully delithiated state to a 3.5 V cut-off, 1C = 280 mAh/g
of NMC811.  Where the study gives no value, the value comes from a published parameter set
(PyBaMM's ``Chen2020``, ``ORegan2022`` and ``Xu2019`` files name the papers) or is marked
*assumed* or *derived*; every field's docstring entry carries its unit and source.

Groups (frozen dataclasses, compared field by field):

- :class:`PositiveElectrode`: NMC811 (maximum concentration, density, the study's capacity
  basis, solid diffusivity, electronic conductivity, Butler-Volmer kinetics, OCP fit,
  stoichiometry window) and the 1D-surrogate geometry that BPX needs;
- :class:`CarbonBinder`: the carbon-binder domain (electronic conductivity, electrolyte-filled
  micro-porosity and its Bruggeman exponent);
- :class:`Electrolyte`: LiPF6 in EC:EMC 3:7, conductivity, diffusivity, transference number and
  thermodynamic factor as vectorised functions of (c, T);
- :class:`Separator`, :class:`LithiumMetal` (the counter electrode), :class:`Cei` (the resistive
  film and its thickness field) and :class:`Cell` (temperature, cut-offs, C-rate, coin cell);
- :class:`EchemParameters` holds them; :func:`default_parameters` is the study's set.

Examples
--------
>>> p = default_parameters()
>>> round(p.positive.ocp(0.5), 4)
3.972
>>> round(p.electrolyte.conductivity(1000.0, 298.15), 3)     # S/m, LiPF6 EC:EMC 3:7, 25 C
0.913
>>> p.check() is p
True
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass, field

import numpy as np

from electrovox.errors import BadInput

__all__ = ["FARADAY", "GAS_CONSTANT", "ELECTROLYTE_MODELS", "OCP_FITS", "CEI_MODES", "PositiveElectrode",
           "CarbonBinder", "Electrolyte", "Separator", "LithiumMetal", "Cei", "Cell", "EchemParameters",
           "default_parameters"]

#: Faraday constant, C/mol (CODATA 2018, exact: N_A e)
FARADAY = 96485.33212
#: molar gas constant, J/(mol K) (CODATA 2018, exact: N_A k_B)
GAS_CONSTANT = 8.314462618

# Sources, written once
STUDY = "Zhang, Chouchane et al., Joule 2023 (doi 10.1016/j.joule.2022.12.001)"
CHEN2020 = "Chen et al. 2020, J. Electrochem. Soc. 167 080534 (PyBaMM Chen2020.py)"
OREGAN2022 = "O'Regan et al. 2022, Electrochim. Acta 425 140700 (PyBaMM ORegan2022.py)"
XU2019 = "Xu et al. 2019, J. Electrochem. Soc. 166 A3456 (PyBaMM Xu2019.py)"
LANDESFEIND2019 = ("Landesfeind & Gasteiger 2019, J. Electrochem. Soc. 166 A3079, LiPF6 in EC:EMC 3:7 (w:w) fits "
                   "(PyBaMM ORegan2022.py)")
NYMAN2008 = "Nyman, Behm & Lindbergh 2008, Electrochim. Acta 53 6356, LiPF6 in EC:EMC 3:7 (PyBaMM Chen2020.py)"
SAFARI2009 = "Safari et al. 2009, J. Electrochem. Soc. 156 A145 (PyBaMM Chen2020.py 'SEI resistivity' 2e5 Ohm m)"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def _p(default, unit: str, source: str, doc: str, check: str = "positive", choices=None, **kw):
    """A dataclass field carrying its unit, source, description and validity rule."""
    meta = {"unit": unit, "source": source, "doc": doc, "check": check}
    if choices is not None:
        meta["choices"] = tuple(choices)
    return field(default=default, metadata=meta, **kw)


def _documented(cls):
    """Append a numpydoc ``Attributes`` section generated from the fields' metadata to ``cls``."""
    lines = [inspect.cleandoc(cls.__doc__ or ""), "", "Attributes", "----------"]
    for f in dataclasses.fields(cls):
        m = f.metadata
        kind = "str" if m.get("choices") else "float"
        lines.append(f"{f.name} : {kind}")
        unit = m["unit"] or "dimensionless"
        lines.append(f"    {m['doc']} Unit: {unit}. Source: {m['source']}.")
    cls.__doc__ = "\n".join(lines) + "\n"
    return cls


def _out(v):
    """A 0-d result as a Python float, arrays as they are."""
    return float(v) if np.ndim(v) == 0 else v


def _num(v: float) -> str:
    """A float for a BPX expression: shortest exact repr, negative ones in parentheses."""
    s = repr(float(v))
    return f"({s})" if v < 0 else s


def arrhenius(activation_energy: float, T, T_ref: float = 298.15):
    """Arrhenius factor exp(E / R (1 / T_ref - 1 / T)) (vectorised in ``T``).

    Parameters
    ----------
    activation_energy : float
        E in J/mol.
    T : float or array_like
        Temperature in K.
    T_ref : float
        Reference temperature in K (the factor is 1 there).

    Returns
    -------
    float or numpy.ndarray
        The factor, dimensionless.
    """
    return _out(np.exp(activation_energy / GAS_CONSTANT * (1.0 / T_ref - 1.0 / np.asarray(T, dtype=float))))


# ---------------------------------------------------------------------------------------------
# NMC811 open-circuit potential
# ---------------------------------------------------------------------------------------------

class TanhOcpFit:
    """OCP fit U(x) = a x + b + sum_i h_i tanh(k_i (x - x_i)) of the stoichiometry x (V vs Li/Li+).

    Parameters
    ----------
    name : str
        Registry name.
    slope, offset : float
        a (V) and b (V).
    terms : tuple of (float, float, float)
        (h_i in V, k_i, x_i) of each tanh term.
    sto_range : tuple of float
        Stoichiometries of the measured data the fit was made to.
    source : str
        Where the fit is published.
    """

    def __init__(self, name, slope, offset, terms, sto_range, source):
        self.name, self.slope, self.offset, self.terms = name, slope, offset, tuple(terms)
        self.sto_range, self.source = tuple(sto_range), source

    def __call__(self, sto):
        """U(sto) in V, vectorised."""
        x = np.asarray(sto, dtype=float)
        u = self.slope * x + self.offset
        for h, k, x0 in self.terms:
            u = u + h * np.tanh(k * (x - x0))
        return _out(u)

    def bpx_expression(self) -> str:
        """The fit as a BPX expression in ``x`` (stoichiometry)."""
        s = f"{_num(self.slope)} * x + {_num(self.offset)}"
        for h, k, x0 in self.terms:
            s += f" + {_num(h)} * tanh({_num(k)} * (x - {_num(x0)}))"
        return s


#: NMC811 OCP fits by name
OCP_FITS = {
    "Chen2020": TanhOcpFit(
        "Chen2020", -0.809, 4.4875,
        ((-0.0428, 18.5138, 0.5542), (-17.7326, 15.789, 0.3117), (17.5842, 15.9308, 0.312)),
        (0.2661, 0.9059),
        "Chen et al. 2020, J. Electrochem. Soc. 167 080534, LG M50 NMC811 GITT OCP fit (PyBaMM Chen2020.py "
        "nmc_LGM50_ocp_Chen2020; also ORegan2022.py); data 0.2661-0.9059 in data/nmc_LGM50_ocp_Chen2020.csv"),
}


# ---------------------------------------------------------------------------------------------
# electrolyte property models: vectorised functions of c (mol/m^3) and T (K)
# ---------------------------------------------------------------------------------------------

class _ElectrolyteModel:
    """Base of the electrolyte models: inputs clamped to the span where the fits stay physical."""

    name = ""
    source = ""
    c_max = 4000.0                 # mol/m^3
    T_range = (0.0, 1000.0)        # K

    def _inputs(self, c, T):
        c = np.clip(np.asarray(c, dtype=float), 0.0, self.c_max)
        T = np.clip(np.asarray(T, dtype=float), *self.T_range)
        return c / 1000.0, T        # mol/L

    def activation_energy(self, prop: str, c: float, T: float, dT: float = 0.5) -> float:
        """Effective Arrhenius energy -R d ln(prop) / d(1/T) at (c, T), J/mol (0 without T dependence)."""
        f = getattr(self, prop)
        lo, hi = float(f(c, T - dT)), float(f(c, T + dT))
        if lo <= 0 or hi <= 0 or lo == hi:
            return 0.0
        return GAS_CONSTANT * (math.log(hi) - math.log(lo)) / (1.0 / (T - dT) - 1.0 / (T + dT))


class Landesfeind2019(_ElectrolyteModel):
    """LiPF6 in EC:EMC 3:7 (w:w), Landesfeind & Gasteiger 2019 fits (as PyBaMM's ORegan2022.py uses them).

    kappa = p1 (1 + T - p2) c (1 + p3 sqrt(c) + p4 (1 + p5 e^(1000/T)) c) / (1 + p6 e^(1000/T) c^4) mS/cm,
    D = p1 e^(p2 c) e^(p3/T) e^(p4 c/T) 1e-10 m^2/s, t+ and the thermodynamic factor cubic in c and
    quadratic in T; c in mol/L.  ElectroVox clamps c to [0, 3000] mol/m^3 and T to [263.15,
    323.15] K before evaluating: outside that span the polynomials turn unphysical (t+ < 0 at 333 K
    above 2.8 mol/L, for example) [ElectroVox choice].  Within it the fits are used as published,
    including t+ below 0.1 at 263-283 K for 0.5-2.5 mol/L.
    """

    name = "Landesfeind2019"
    source = LANDESFEIND2019
    c_max = 3000.0
    T_range = (263.15, 323.15)
    KAPPA = (0.521, 228.0, -1.06, 0.353, -0.00359, 0.00148)
    DIFF = (1010.0, 1.01, -1560.0, -487.0)
    TPLUS = (-12.8, -6.12, 0.0821, 0.904, 0.0318, -1.27e-4, 0.0175, -0.00312, -3.96e-5)
    TDF = (25.7, -45.1, -0.177, 1.94, 0.295, 3.08e-4, 0.259, -0.00946, -4.54e-4)

    def _kappa_coeffs(self, T):
        p1, p2, p3, p4, p5, p6 = self.KAPPA
        e = np.exp(1000.0 / T)
        return p1 * (1.0 + (T - p2)) / 10.0, p3, p4 * (1.0 + p5 * e), p6 * e     # S/m per mol/L

    def conductivity(self, c, T):
        """kappa(c, T) in S/m."""
        c, T = self._inputs(c, T)
        a, b1, b2, d = self._kappa_coeffs(T)
        # products instead of powers (np.power on arrays costs ~10 products; the model evaluates
        # this on every electrolyte face several times per step)
        c2 = c * c
        return _out(a * c * (1.0 + b1 * np.sqrt(c) + b2 * c) / (1.0 + d * (c2 * c2)))

    def _diff_coeffs(self, T):
        p1, p2, p3, p4 = self.DIFF
        return p1 * np.exp(p3 / T) * 1e-10, p2 + p4 / T

    def diffusivity(self, c, T):
        """D(c, T) in m^2/s."""
        c, T = self._inputs(c, T)
        k0, k1 = self._diff_coeffs(T)
        return _out(k0 * np.exp(k1 * c))

    @staticmethod
    def _cubic_coeffs(p, T):
        return (p[0] + p[2] * T + p[5] * T ** 2, p[1] + p[4] * T + p[8] * T ** 2, p[3] + p[7] * T, p[6])

    def _cubic(self, p, c, T):
        c, T = self._inputs(c, T)
        q0, q1, q2, q3 = self._cubic_coeffs(p, T)
        # Horner's rule (no powers; see conductivity)
        return _out(((q3 * c + q2) * c + q1) * c + q0)

    def transference_number(self, c, T):
        """t+(c, T), dimensionless."""
        return self._cubic(self.TPLUS, c, T)

    def thermodynamic_factor(self, c, T):
        """1 + dln f / dln c at (c, T), dimensionless."""
        return self._cubic(self.TDF, c, T)

    # BPX expressions in x = c (mol/m^3) at one temperature (BPX functions take x only)
    def bpx_conductivity(self, T: float) -> str:
        """kappa(x) at T as a BPX expression (S/m)."""
        a, b1, b2, d = (float(v) for v in self._kappa_coeffs(float(np.clip(T, *self.T_range))))
        return (f"{_num(a)} * (x / 1000) * (1 + {_num(b1)} * (x / 1000) ** 0.5 + {_num(b2)} * (x / 1000)) "
                f"/ (1 + {_num(d)} * (x / 1000) ** 4)")

    def bpx_diffusivity(self, T: float) -> str:
        """D(x) at T as a BPX expression (m^2/s)."""
        k0, k1 = (float(v) for v in self._diff_coeffs(float(np.clip(T, *self.T_range))))
        return f"{_num(k0)} * exp({_num(k1)} * (x / 1000))"

    def _bpx_cubic(self, p, T):
        q = [float(v) for v in self._cubic_coeffs(p, float(np.clip(T, *self.T_range)))]
        return (f"{_num(q[0])} + {_num(q[1])} * (x / 1000) + {_num(q[2])} * (x / 1000) ** 2 "
                f"+ {_num(q[3])} * (x / 1000) ** 3")

    def bpx_transference_number(self, T: float) -> str:
        """t+(x) at T as a BPX expression."""
        return self._bpx_cubic(self.TPLUS, T)

    def bpx_thermodynamic_factor(self, T: float) -> str:
        """Thermodynamic factor(x) at T as a BPX expression."""
        return self._bpx_cubic(self.TDF, T)


class Nyman2008(_ElectrolyteModel):
    """LiPF6 in EC:EMC 3:7, Nyman et al. 2008 fits (as PyBaMM's Chen2020.py uses them); no T dependence.

    kappa = 0.1297 c^3 - 2.51 c^1.5 + 3.329 c S/m, D = 8.794e-11 c^2 - 3.972e-10 c + 4.862e-10 m^2/s
    (c in mol/L), t+ = 0.2594 and thermodynamic factor 1 (Chen2020.py).  ElectroVox clamps c to
    [0, 2000] mol/m^3: above it the cubic conductivity turns up again [ElectroVox choice].
    """

    name = "Nyman2008"
    source = NYMAN2008
    c_max = 2000.0
    KAPPA = (0.1297, -2.51, 3.329)
    DIFF = (8.794e-11, -3.972e-10, 4.862e-10)
    TPLUS = 0.2594

    def conductivity(self, c, T):
        """kappa(c) in S/m (T unused: the fit has no temperature dependence)."""
        c, T = self._inputs(c, T)
        k3, k15, k1 = self.KAPPA
        return _out((k3 * c ** 3 + k15 * c ** 1.5 + k1 * c) + 0.0 * T)

    def diffusivity(self, c, T):
        """D(c) in m^2/s (T unused)."""
        c, T = self._inputs(c, T)
        d2, d1, d0 = self.DIFF
        return _out(d2 * c ** 2 + d1 * c + d0 + 0.0 * T)

    def transference_number(self, c, T):
        """t+ = 0.2594 (constant)."""
        c, T = self._inputs(c, T)
        return _out(np.full(np.broadcast(c, T).shape, self.TPLUS))

    def thermodynamic_factor(self, c, T):
        """1 (ideal solution, as Chen2020.py)."""
        c, T = self._inputs(c, T)
        return _out(np.ones(np.broadcast(c, T).shape))

    def bpx_conductivity(self, T: float) -> str:
        """kappa(x) as a BPX expression (S/m)."""
        k3, k15, k1 = self.KAPPA
        return f"{_num(k3)} * (x / 1000) ** 3 + {_num(k15)} * (x / 1000) ** 1.5 + {_num(k1)} * (x / 1000)"

    def bpx_diffusivity(self, T: float) -> str:
        """D(x) as a BPX expression (m^2/s)."""
        d2, d1, d0 = self.DIFF
        return f"{_num(d2)} * (x / 1000) ** 2 + {_num(d1)} * (x / 1000) + {_num(d0)}"

    def bpx_transference_number(self, T: float) -> str:
        """t+ as a BPX expression."""
        return f"{_num(self.TPLUS)} + 0 * x"

    def bpx_thermodynamic_factor(self, T: float) -> str:
        """Thermodynamic factor as a BPX expression."""
        return "1.0 + 0 * x"


#: electrolyte property models by name
ELECTROLYTE_MODELS = {m.name: m for m in (Landesfeind2019(), Nyman2008())}

#: CEI thickness fields
CEI_MODES = ("none", "uniform", "gradient")


# ---------------------------------------------------------------------------------------------
# the groups
# ---------------------------------------------------------------------------------------------

_I0_NMC = 5.028   # A/m^2, ORegan2022's exchange-current prefactor of NMC811
_LI_I0 = 3.5e-8 * FARADAY * (1.0 / 1.3e-5) ** 0.7 * 1000.0 ** 0.3   # Xu2019's i0 at c_e = 1 M, c_Li = 1/V_Li


@_documented
@dataclass(frozen=True)
class PositiveElectrode:
    """NMC811 (LiNi0.8Mn0.1Co0.1O2) working electrode.

    The 3D model takes the geometry from the label volume; ``particle_radius_m``, ``thickness_m``,
    ``porosity``, ``active_fraction`` and ``transport_efficiency`` describe the 1D (DFN) surrogate
    that BPX needs.  Stoichiometry x = c / c_max; the lithiation runs from ``sto_min`` (fully
    delithiated) towards ``sto_max``.  Kinetics: i0 = F k sqrt((c_e / c_e0) x (1 - x)) times the
    Arrhenius factor (BPX's form), with Butler-Volmer transfer coefficients ``alpha_anodic`` and
    ``alpha_cathodic``.
    """

    max_concentration_mol_m3: float = _p(
        51765.0, "mol/m^3", OREGAN2022 + " 'Maximum concentration in positive electrode'",
        "Maximum lithium concentration c_max in NMC811.")
    density_kg_m3: float = _p(
        4780.0, "kg/m^3", "[derived] LiNi0.8Mn0.1Co0.1O2 (97.28 g/mol), three formula units per R-3m hexagonal cell "
        "a = 2.872 A, c = 14.20 A (4778 kg/m^3)",
        "Crystal density of NMC811: the mass of a voxel of active material (mass-specific capacity, 1C current).")
    capacity_basis_mAh_g: float = _p(
        280.0, "mAh/g", STUDY + ", Experimental procedures: '1 C = 280 mAh/g'",
        "Specific capacity that defines 1C (per gram of NMC811).")
    diffusivity_m2_s: float = _p(
        4e-15, "m^2/s", CHEN2020 + " 'Positive particle diffusivity'", "Lithium diffusivity in NMC811 (constant).")
    conductivity_S_m: float = _p(
        0.8473, "S/m", OREGAN2022 + " nmc_LGM50_electronic_conductivity_ORegan2022 at 298.15 K",
        "Electronic conductivity of NMC811 (the phase value; BPX reads it as the matrix's).")
    rate_constant_mol_m2_s: float = _p(
        _I0_NMC / FARADAY, "mol/(m^2 s)",
        "[derived] " + OREGAN2022 + " i_ref = 5.028 A/m^2 / F: equal to its i0 at x = 1/2, c_e = c_e0, with "
        "BPX's symmetric exponents 1/2 in place of its 0.43/0.57",
        "Reaction rate constant k of i0 = F k sqrt((c_e / c_e0) x (1 - x)) (BPX's normalised form).")
    rate_activation_energy_J_mol: float = _p(
        2.401e4, "J/mol", OREGAN2022 + " (exchange-current density E_r)", "Activation energy of k.",
        check="nonneg")
    alpha_anodic: float = _p(
        0.5, "", CHEN2020 + " and ORegan2022.py 'Positive electrode charge transfer coefficient'",
        "Anodic Butler-Volmer transfer coefficient.", check="open01")
    alpha_cathodic: float = _p(
        0.5, "", CHEN2020 + " and ORegan2022.py 'Positive electrode charge transfer coefficient'",
        "Cathodic Butler-Volmer transfer coefficient.", check="open01")
    entropic_change_V_K: float = _p(
        0.0, "V/K", CHEN2020 + " 'Positive electrode OCP entropic change' (0; the model is isothermal)",
        "Entropic coefficient dU/dT of the OCP.", check="finite")
    ocp_fit: str = _p(
        "Chen2020", "", OCP_FITS["Chen2020"].source,
        "Open-circuit potential fit, a name in OCP_FITS.", check="choice", choices=tuple(OCP_FITS))
    sto_min: float = _p(
        0.2291, "", "[derived] the Chen2020 OCP fit equals 4.40 V (the study's charge cut-off, Experimental "
        "procedures: 2.8-4.4 V) at x = 0.2291",
        "Stoichiometry of the fully delithiated electrode: the initial state of the lithiation.", check="unit")
    sto_max: float = _p(
        0.9059, "", "last measured point of Chen2020's OCP data (PyBaMM data/nmc_LGM50_ocp_Chen2020.csv, 3.567 V): "
        "the fit's upper limit",
        "Largest stoichiometry the OCP fit covers (fully lithiated bound).", check="unit")
    particle_radius_m: float = _p(
        5.22e-6, "m", CHEN2020 + " 'Positive particle radius'", "Particle radius of the 1D surrogate.")
    thickness_m: float = _p(
        71.5e-6, "m", STUDY + ", Modeling methodology: sub-volume 33 x 33 x 71.5 um^3 (full thickness)",
        "Electrode thickness of the 1D surrogate.")
    porosity: float = _p(
        0.29, "", STUDY + ", Fig. 1: 29 % pores (pristine)", "Electrolyte volume fraction of the 1D surrogate.",
        check="open01")
    active_fraction: float = _p(
        0.58, "", STUDY + ", Fig. 1: 58 % NMC (pristine)", "NMC volume fraction of the 1D surrogate.",
        check="open01")
    transport_efficiency: float = _p(
        0.29 ** 1.5, "", "[derived] Bruggeman porosity^1.5 (the exponent of Chen2020, ORegan2022, Xu2019); replace "
        "it by porosity / tortuosity factor from `electrovox tortuosity` on the image",
        "Electrolyte transport efficiency porosity / tortuosity factor of the 1D surrogate.", check="open01")

    def ocp(self, sto):
        """Open-circuit potential U(sto) in V vs Li/Li+ (vectorised)."""
        return OCP_FITS[self.ocp_fit](sto)

    def exchange_current_density(self, c_e, c_s_surf, c_max, T, c_e0: float = 1000.0):
        """Exchange-current density i0 in A/m^2 (vectorised).

        Parameters
        ----------
        c_e : float or array_like
            Electrolyte concentration, mol/m^3.
        c_s_surf : float or array_like
            Lithium concentration at the particle surface, mol/m^3.
        c_max : float
            Maximum concentration, mol/m^3 (``max_concentration_mol_m3``).
        T : float or array_like
            Temperature, K.
        c_e0 : float
            Reference electrolyte concentration, mol/m^3 (the initial one).

        Returns
        -------
        float or numpy.ndarray
            i0 = F k sqrt((c_e / c_e0) x (1 - x)) exp(E / R (1/298.15 - 1/T)), x = c_s_surf / c_max,
            clipped to x in [0, 1] and c_e >= 0.
        """
        x = np.clip(np.asarray(c_s_surf, dtype=float) / c_max, 0.0, 1.0)
        ce = np.maximum(np.asarray(c_e, dtype=float), 0.0) / c_e0
        return _out(FARADAY * self.rate_constant_mol_m2_s * np.sqrt(ce * x * (1.0 - x))
                    * arrhenius(self.rate_activation_energy_J_mol, T))

    @property
    def capacity_per_sto_mAh_g(self) -> float:
        """Charge per unit stoichiometry per gram, c_max F / density, in mAh/g."""
        return self.max_concentration_mol_m3 * FARADAY / self.density_kg_m3 / 3600.0


@_documented
@dataclass(frozen=True)
class CarbonBinder:
    """Carbon-binder domain (carbon black and binder merged into one phase, as in the study).

    Electrons conduct through it; Li+ moves through its electrolyte-filled micro-pores with the
    effective diffusivity and conductivity porosity^bruggeman times the bulk values.  The study
    gives no values: these defaults are assumptions to be set from measurements.
    """

    conductivity_S_m: float = _p(
        100.0, "S/m", "assumed (the study gives no value; set it from a measurement of the electrode's CBD)",
        "Electronic conductivity of the CBD phase.")
    porosity: float = _p(
        0.5, "", "assumed (the study: CBD micro-pores filled with electrolyte, Modeling methodology; no value given)",
        "Electrolyte-filled micro-porosity of the CBD.", check="open01")
    bruggeman: float = _p(
        1.5, "", "assumed (Bruggeman's exponent for spheres, as Chen2020/ORegan2022/Xu2019 use for electrodes)",
        "Exponent b of the CBD's ionic transport efficiency porosity^b.")


@_documented
@dataclass(frozen=True)
class Electrolyte:
    """LiPF6 in EC:EMC 3:7: transport properties as vectorised functions of c (mol/m^3) and T (K).

    ``model`` picks the published fits (:data:`ELECTROLYTE_MODELS`): ``"Landesfeind2019"``
    (conductivity, diffusivity, transference number and thermodynamic factor, all in c and T) or
    ``"Nyman2008"`` (c only; t+ constant, ideal thermodynamic factor).  The study's electrolyte
    carries 2 wt% vinylene carbonate, which these fits do not include.
    """

    model: str = _p(
        "Landesfeind2019", "", LANDESFEIND2019, "Electrolyte property fits, a name in ELECTROLYTE_MODELS.",
        check="choice", choices=tuple(ELECTROLYTE_MODELS))
    initial_concentration_mol_m3: float = _p(
        1000.0, "mol/m^3", STUDY + ", Experimental procedures: 1 M LiPF6 in EC-EMC",
        "Initial (rest) salt concentration c_e0, also the reference of the exchange-current densities.")

    def _m(self):
        return ELECTROLYTE_MODELS[self.model]

    def conductivity(self, c, T):
        """Ionic conductivity kappa(c, T) in S/m."""
        return self._m().conductivity(c, T)

    def diffusivity(self, c, T):
        """Salt diffusivity D(c, T) in m^2/s."""
        return self._m().diffusivity(c, T)

    def transference_number(self, c, T):
        """Cation transference number t+(c, T)."""
        return self._m().transference_number(c, T)

    def thermodynamic_factor(self, c, T):
        """Thermodynamic factor 1 + dln f / dln c at (c, T)."""
        return self._m().thermodynamic_factor(c, T)


@_documented
@dataclass(frozen=True)
class Separator:
    """Separator between the electrode and the Li foil (Celgard 2325 in the study and in Xu2019)."""

    thickness_m: float = _p(25e-6, "m", XU2019 + " 'Separator thickness' (Celgard 2325)", "Separator thickness.")
    porosity: float = _p(0.39, "", XU2019 + " 'Separator porosity' (Celgard 2325)", "Separator porosity.",
                         check="open01")
    transport_efficiency: float = _p(
        0.39 ** 1.5, "", "[derived] " + XU2019 + " Bruggeman coefficient 1.5: porosity^1.5",
        "Transport efficiency porosity / tortuosity factor (BPX's inverse MacMullin number).", check="open01")


@_documented
@dataclass(frozen=True)
class LithiumMetal:
    """Lithium-metal counter electrode: a planar interface with Butler-Volmer kinetics.

    i0(c_e) = ``exchange_current_A_m2`` (c_e / c_e0)^``concentration_exponent`` (Xu2019's
    3.5e-8 F c_Li^0.7 c_e^0.3, evaluated at c_e0 = 1 M and c_Li = 1 / ``partial_molar_volume``).
    """

    exchange_current_A_m2: float = _p(
        _LI_I0, "A/m^2", "[derived] " + XU2019 + " li_metal_electrolyte_exchange_current_density_Xu2019 at c_e = "
        "1000 mol/m^3, c_Li = 1/1.3e-5 mol/m^3",
        "Exchange-current density of Li plating/stripping at c_e0.")
    concentration_exponent: float = _p(
        0.3, "", XU2019 + " (c_e^0.3)", "Reaction order of i0 in the electrolyte concentration.", check="nonneg")
    alpha: float = _p(0.5, "", XU2019 + " 'Negative electrode charge transfer coefficient'",
                      "Butler-Volmer transfer coefficient of the Li interface.", check="open01")
    conductivity_S_m: float = _p(1.0776e7, "S/m", XU2019 + " 'Negative electrode conductivity'",
                                 "Electronic conductivity of lithium metal.")
    partial_molar_volume_m3_mol: float = _p(1.3e-5, "m^3/mol", XU2019 + " 'Lithium metal partial molar volume'",
                                            "Partial molar volume of lithium metal.")
    thickness_m: float = _p(700e-6, "m", XU2019 + " 'Negative electrode thickness' (the study gives none)",
                            "Thickness of the Li foil.")

    def exchange_current_density(self, c_e, c_e0: float = 1000.0):
        """i0(c_e) in A/m^2 (vectorised; c_e in mol/m^3, c_e0 the reference)."""
        ce = np.maximum(np.asarray(c_e, dtype=float), 0.0) / c_e0
        return _out(self.exchange_current_A_m2 * ce ** self.concentration_exponent)


@_documented
@dataclass(frozen=True)
class Cei:
    """Cathode-electrolyte interphase: a resistive film on the NMC surface, R_film = thickness / conductivity.

    Thickness field (``thickness_mode``): ``"none"`` (the study's pristine case), ``"uniform"``
    (the mean of the collector and separator values everywhere) or ``"gradient"`` (Gaussian
    thicknesses whose mean rises linearly from ``thickness_collector_m`` at the current collector
    to ``thickness_separator_m`` at the separator, standard deviation ``thickness_sigma_m``,
    clipped to [``thickness_min_m``, ``thickness_max_m``]), all times ``thickness_scale``.  The
    study's scenarios: pristine = none; CEI = gradient, scale 1; thick CEI = gradient, scale 2.
    The conductivity default is an SEI value used as a proxy: with it a 12 nm film adds
    ~2.4e-3 Ohm m^2; the study's 43.8 mV mean overpotential would need ~4e-7 S/m (an estimate
    derived in shared/reference/solver-references.md, not a published value).
    """

    conductivity_S_m: float = _p(
        5e-6, "S/m", SAFARI2009 + "; an SEI value used as a proxy for the CEI",
        "Ionic conductivity of the film.")
    thickness_mode: str = _p(
        "none", "", STUDY + ", Fig. 4 scenarios (pristine: no CEI)", "Thickness field: none, uniform or gradient.",
        check="choice", choices=CEI_MODES)
    thickness_collector_m: float = _p(
        5e-9, "m", STUDY + ", Fig. 3C TEM: ~5 nm near the current collector (four times thinner than at the top)",
        "Mean film thickness at the current collector.")
    thickness_separator_m: float = _p(
        20e-9, "m", STUDY + ", Fig. 3C TEM: ~20 nm near the separator", "Mean film thickness at the separator.")
    thickness_min_m: float = _p(3e-9, "m", STUDY + ", Modeling methodology: 3-28 nm",
                                "Smallest film thickness (clip).", check="nonneg")
    thickness_max_m: float = _p(28e-9, "m", STUDY + ", Modeling methodology: 3-28 nm",
                                "Largest film thickness (clip, before the scale).")
    thickness_sigma_m: float = _p(3e-9, "m", "assumed (the study's Fig. S8 gives the distribution; not in the text)",
                                  "Standard deviation of the Gaussian thickness around its local mean.",
                                  check="nonneg")
    thickness_scale: float = _p(1.0, "", STUDY + ": thick CEI = thickness doubled (scale 2)",
                                "Factor on every thickness (after clipping).")


@_documented
@dataclass(frozen=True)
class Cell:
    """The coin half cell and its operation: temperature, cut-offs, C-rate, electrode disc and loading."""

    temperature_K: float = _p(298.15, "K", STUDY + ": room temperature; 298.15 K as the reference of Chen2020 and "
                              "ORegan2022", "Cell (isothermal) and Arrhenius reference temperature.")
    lower_cutoff_V: float = _p(3.5, "V", STUDY + ", Fig. 4: lithiation to 3.5 V", "Lower voltage cut-off.")
    upper_cutoff_V: float = _p(4.4, "V", STUDY + ", Experimental procedures: cycled 2.8-4.4 V",
                               "Upper voltage cut-off (the charge that delithiated the electrode).")
    c_rate: float = _p(0.5, "1/h", STUDY + ", Fig. 4: C/2", "Lithiation rate in C (1C = capacity_basis_mAh_g).")
    electrode_area_m2: float = _p(math.pi * 7e-3 ** 2, "m^2", STUDY + ", Experimental procedures: 14-mm discs",
                                  "Electrode disc area.")
    mass_loading_kg_m2: float = _p(0.30, "kg/m^2", STUDY + ", Experimental procedures: ~30 mg/cm^2",
                                   "Electrode coating mass per area.")
    active_mass_fraction: float = _p(0.95, "", STUDY + ", Experimental procedures: 95 wt% NMC811",
                                     "NMC811 mass fraction of the coating.", check="open01")
    external_area_m2: float = _p(2 * math.pi * 0.01 ** 2 + 2 * math.pi * 0.01 * 0.0032, "m^2",
                                 "assumed CR2032 can, 20 mm x 3.2 mm (the study: coin-type cells)",
                                 "External surface of the cell (thermal models only).")
    volume_m3: float = _p(math.pi * 0.01 ** 2 * 0.0032, "m^3",
                          "assumed CR2032 can, 20 mm x 3.2 mm (the study: coin-type cells)",
                          "Cell volume (thermal models only).")


_GROUPS = ("positive", "cbd", "electrolyte", "separator", "counter", "cei", "cell")


@dataclass(frozen=True)
class EchemParameters:
    """Every parameter of the discharge model, by group.

    Attributes
    ----------
    positive : PositiveElectrode
        NMC811 working electrode.
    cbd : CarbonBinder
        Carbon-binder domain.
    electrolyte : Electrolyte
        LiPF6 in EC:EMC 3:7.
    separator : Separator
        Separator (Celgard 2325).
    counter : LithiumMetal
        Li-metal counter electrode.
    cei : Cei
        Cathode-electrolyte interphase film and its thickness field.
    cell : Cell
        Temperature, cut-offs, C-rate and the coin cell.
    """

    positive: PositiveElectrode = field(default_factory=PositiveElectrode)
    cbd: CarbonBinder = field(default_factory=CarbonBinder)
    electrolyte: Electrolyte = field(default_factory=Electrolyte)
    separator: Separator = field(default_factory=Separator)
    counter: LithiumMetal = field(default_factory=LithiumMetal)
    cei: Cei = field(default_factory=Cei)
    cell: Cell = field(default_factory=Cell)

    # -- derived quantities -------------------------------------------------------------------
    def nominal_capacity_Ah(self) -> float:
        """1C capacity of the disc: basis x loading x NMC mass fraction x area, A h."""
        c = self.cell
        return self.positive.capacity_basis_mAh_g * c.mass_loading_kg_m2 * c.active_mass_fraction * c.electrode_area_m2

    def current_density_A_m2(self) -> float:
        """Applied current per electrode area at ``cell.c_rate``, A/m^2."""
        c = self.cell
        return c.c_rate * self.positive.capacity_basis_mAh_g * c.mass_loading_kg_m2 * c.active_mass_fraction

    def current_per_nmc_volume_A_m3(self) -> float:
        """Applied current per m^3 of NMC at ``cell.c_rate`` (the 3D model's source term scale), A/m^3."""
        return self.cell.c_rate * self.positive.capacity_basis_mAh_g * self.positive.density_kg_m3

    def positive_i0(self, c_e, c_s_surf, T=None):
        """NMC811 exchange-current density with this set's c_max, c_e0 and temperature, A/m^2."""
        T = self.cell.temperature_K if T is None else T
        return self.positive.exchange_current_density(c_e, c_s_surf, self.positive.max_concentration_mol_m3, T,
                                                      self.electrolyte.initial_concentration_mol_m3)

    # -- changing, listing, checking ----------------------------------------------------------
    def with_values(self, changes: dict) -> EchemParameters:
        """A copy with ``{"group.field": value}`` changed (e.g. ``{"cei.thickness_mode": "gradient"}``)."""
        groups = {g: {} for g in _GROUPS}
        for key, value in changes.items():
            group, _, name = str(key).partition(".")
            if group not in groups or name not in {f.name for f in dataclasses.fields(getattr(self, group))}:
                raise BadInput(key, "is not a parameter", "name it group.field as `electrovox params show` lists it")
            groups[group][name] = value
        return dataclasses.replace(self, **{g: dataclasses.replace(getattr(self, g), **kw)
                                            for g, kw in groups.items() if kw})

    def fields(self):
        """Yield (``"group.field"``, value, metadata) for every field."""
        for g in _GROUPS:
            obj = getattr(self, g)
            for f in dataclasses.fields(obj):
                yield f"{g}.{f.name}", getattr(obj, f.name), f.metadata

    def describe(self) -> list[dict]:
        """Rows {name, value, unit, source}: every field, then derived values (``params show``)."""
        rows = [{"name": n, "value": v, "unit": m["unit"], "source": m["source"]} for n, v, m in self.fields()]
        e, T, c0 = self.electrolyte, self.cell.temperature_K, self.electrolyte.initial_concentration_mol_m3
        pos = self.positive
        at = f"at c_e0 = {c0:g} mol/m^3, {T:g} K"
        derived = [
            ("electrolyte.conductivity(c_e0, T)", e.conductivity(c0, T), "S/m", f"[derived] {e.model} {at}"),
            ("electrolyte.diffusivity(c_e0, T)", e.diffusivity(c0, T), "m^2/s", f"[derived] {e.model} {at}"),
            ("electrolyte.transference_number(c_e0, T)", e.transference_number(c0, T), "",
             f"[derived] {e.model} {at}"),
            ("electrolyte.thermodynamic_factor(c_e0, T)", e.thermodynamic_factor(c0, T), "",
             f"[derived] {e.model} {at}"),
            ("positive.ocp(sto_min)", pos.ocp(pos.sto_min), "V", f"[derived] {pos.ocp_fit} fit"),
            ("positive.ocp(sto_max)", pos.ocp(pos.sto_max), "V", f"[derived] {pos.ocp_fit} fit"),
            ("positive.i0(c_e0, x = 1/2)", self.positive_i0(c0, 0.5 * pos.max_concentration_mol_m3), "A/m^2",
             "[derived] F k sqrt(1/4)"),
            ("positive.window_capacity", pos.capacity_per_sto_mAh_g * (pos.sto_max - pos.sto_min), "mAh/g",
             "[derived] c_max F (sto_max - sto_min) / density"),
            ("cell.nominal_capacity", self.nominal_capacity_Ah(), "A h", "[derived] basis x loading x fraction x area"),
            ("cell.current_density", self.current_density_A_m2(), "A/m^2", "[derived] C-rate x nominal / area"),
        ]
        return rows + [{"name": n, "value": float(v), "unit": u, "source": s} for n, v, u, s in derived]

    def check(self) -> EchemParameters:
        """Raise :class:`~electrovox.errors.BadInput` naming the field and the fix on a non-physical value.

        Returns
        -------
        EchemParameters
            ``self``, when every value is physical.
        """
        defaults = default_parameters()
        for name, v, m in self.fields():
            group, _, attr = name.partition(".")
            d = getattr(getattr(defaults, group), attr)
            rule = m["check"]
            if rule == "choice":
                if v not in m["choices"]:
                    raise BadInput(name, f"is {v!r}, not one of {', '.join(m['choices'])}",
                                   f"set it to one of them (default {d!r})")
                continue
            unit = f" {m['unit']}" if m["unit"] else ""
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise BadInput(name, f"is {v!r}, not a finite number", f"give a number (default {d:g}{unit})")
            bad = {"positive": (v <= 0, "must be > 0"), "nonneg": (v < 0, "must be >= 0"), "finite": (False, ""),
                   "open01": (not 0 < v < 1, "must lie strictly between 0 and 1"),
                   "unit": (not 0 <= v <= 1, "is a stoichiometry: must lie in [0, 1]")}[rule]
            if bad[0]:
                raise BadInput(name, f"= {v:g}{unit} {bad[1]}", f"set it in range (default {d:g}{unit})")
        self._check_consistency()
        return self

    def _check_consistency(self) -> None:
        pos, cei, cell = self.positive, self.cei, self.cell
        if pos.sto_min >= pos.sto_max:
            raise BadInput("positive.sto_min", f"= {pos.sto_min:g} is not below positive.sto_max = {pos.sto_max:g}",
                           "make sto_min (delithiated, initial) < sto_max (lithiated)")
        if pos.porosity + pos.active_fraction > 1:
            raise BadInput("positive.active_fraction", f"+ porosity = {pos.porosity + pos.active_fraction:g} > 1",
                           "lower active_fraction or porosity so that they add up to at most 1")
        if cell.lower_cutoff_V >= cell.upper_cutoff_V:
            raise BadInput("cell.lower_cutoff_V", f"= {cell.lower_cutoff_V:g} V is not below cell.upper_cutoff_V",
                           "set lower_cutoff_V < upper_cutoff_V")
        u0, u1 = pos.ocp(pos.sto_min), pos.ocp(pos.sto_max)
        if u0 > cell.upper_cutoff_V + 1e-3:      # BPX's sto-limit rule, 1 mV tolerance
            raise BadInput("positive.sto_min", f"= {pos.sto_min:g} gives OCP {u0:.4f} V above the upper cut-off "
                           f"{cell.upper_cutoff_V:g} V", "raise sto_min, or the upper cut-off")
        if u0 <= cell.lower_cutoff_V:
            raise BadInput("positive.sto_min", f"= {pos.sto_min:g} gives OCP {u0:.4f} V, at or below the lower "
                           f"cut-off {cell.lower_cutoff_V:g} V: the lithiation would stop at once",
                           "lower sto_min, or the lower cut-off")
        if u1 < cell.lower_cutoff_V - 1e-3:
            raise BadInput("positive.sto_max", f"= {pos.sto_max:g} gives OCP {u1:.4f} V below the lower cut-off "
                           f"{cell.lower_cutoff_V:g} V", "lower sto_max, or the lower cut-off")
        if not cei.thickness_min_m <= cei.thickness_max_m:
            raise BadInput("cei.thickness_min_m", f"= {cei.thickness_min_m:g} m exceeds cei.thickness_max_m",
                           "set thickness_min_m <= thickness_max_m")
        for attr in ("thickness_collector_m", "thickness_separator_m"):
            v = getattr(cei, attr)
            if not cei.thickness_min_m <= v <= cei.thickness_max_m:
                raise BadInput(f"cei.{attr}", f"= {v:g} m lies outside the clip range [{cei.thickness_min_m:g}, "
                               f"{cei.thickness_max_m:g}] m", "set it inside the range, or widen the range")


def default_parameters() -> EchemParameters:
    """The study's parameter set (see each field's source).

    Returns
    -------
    EchemParameters
        NMC811 | LiPF6 in EC:EMC 3:7 (Landesfeind 2019) | Li metal, C/2 lithiation to 3.5 V at
        298.15 K, no CEI (the pristine case).
    """
    return EchemParameters()
