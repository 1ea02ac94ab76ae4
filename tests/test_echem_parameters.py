"""The discharge model's parameters (solvers/echem/parameters.py) and their BPX form (solvers/echem/bpx.py).

References used below:
- the Chen2020 NMC811 OCP data (PyBaMM data/nmc_LGM50_ocp_Chen2020.csv): 4.2936 V at x = 0.2661,
  3.5672 V at x = 0.9059 (first and last measured points);
- LiPF6 in EC:EMC 3:7 at 25 C: the Nyman et al. 2008 fit (an independent measurement of the same
  electrolyte) peaks at 0.950 S/m near 0.96 mol/L; the Landesfeind & Gasteiger 2019 fit must peak
  at 0.8-1.3 mol/L within 10 % of that value;
- PyBaMM's ORegan2022 NMC811 i0 at x = 1/2, c_e = c_e0: 5.028 * 0.5^0.43 * 0.5^0.57 = 2.514 A/m^2;
  Xu2019's Li-metal i0: 3.5e-8 F c_Li^0.7 c_e^0.3.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math

import numpy as np
import pytest
from conftest import run_cli

from electrovox.errors import BadInput
from electrovox.solvers.echem import bpx as ebpx
from electrovox.solvers.echem.parameters import (
    ELECTROLYTE_MODELS,
    FARADAY,
    CarbonBinder,
    Cei,
    Cell,
    EchemParameters,
    Electrolyte,
    LithiumMetal,
    PositiveElectrode,
    Separator,
    default_parameters,
)

SUFFIX_UNITS = {"_mol_m3": "mol/m^3", "_kg_m3": "kg/m^3", "_m2_s": "m^2/s", "_S_m": "S/m", "_J_mol": "J/mol",
                "_m3_mol": "m^3/mol", "_A_m2": "A/m^2", "_mol_m2_s": "mol/(m^2 s)", "_V_K": "V/K", "_mAh_g": "mAh/g",
                "_kg_m2": "kg/m^2", "_m2": "m^2", "_m3": "m^3", "_m": "m", "_K": "K", "_V": "V"}
GROUPS = (PositiveElectrode, CarbonBinder, Electrolyte, Separator, LithiumMetal, Cei, Cell)


def _eval(expr: str, x):
    """A BPX expression (numbers, x, + - * / **, exp, tanh, cosh) evaluated on an array."""
    return eval(expr, {"__builtins__": {}}, {"x": np.asarray(x, dtype=float), "exp": np.exp, "tanh": np.tanh,
                                              "cosh": np.cosh})


# ---------------------------------------------------------------------------------------------
# units, sources, docstrings
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", GROUPS, ids=lambda c: c.__name__)
def test_every_field_has_unit_source_and_docstring_entry(cls):
    doc = inspect.getdoc(cls)
    assert "Attributes\n----------" in doc
    for f in dataclasses.fields(cls):
        m = f.metadata
        assert isinstance(m.get("unit"), str), f.name
        assert len(m.get("source", "")) > 10, f.name
        assert m.get("doc"), f.name
        unit = m["unit"] or "dimensionless"
        entry = doc.split(f"\n{f.name} : ", 1)
        assert len(entry) == 2, f"{cls.__name__}.{f.name} has no Attributes entry"
        text = entry[1].split("\n", 2)[1]
        assert f"Unit: {unit}." in text and "Source: " in text, (f.name, text)
        # a name's unit suffix agrees with the declared unit
        suffix = max((s for s in SUFFIX_UNITS if f.name.endswith(s)), key=len, default=None)
        if suffix:
            assert m["unit"] == SUFFIX_UNITS[suffix], (f.name, m["unit"])


def test_describe_lists_every_field_with_value_unit_source():
    p = default_parameters()
    rows = p.describe()
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names))
    fields = [n for n, _, _ in p.fields()]
    assert names[:len(fields)] == fields
    for r in rows:
        assert set(r) == {"name", "value", "unit", "source"} and r["source"], r
    derived = {r["name"]: r["value"] for r in rows}
    assert derived["positive.i0(c_e0, x = 1/2)"] == pytest.approx(5.028 * 0.5 ** 0.43 * 0.5 ** 0.57, rel=1e-12)
    # 280 mAh/g x 0.95 x 30 mg/cm^2 x a 14-mm disc
    assert derived["cell.nominal_capacity"] == pytest.approx(0.28 * 0.95 * 0.030 * math.pi * 0.7 ** 2,
                                                             rel=1e-12)
    assert derived["cell.current_density"] == pytest.approx(0.5 * 280 * 0.3 * 0.95, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# functions
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ELECTROLYTE_MODELS))
def test_electrolyte_functions_vectorised_and_positive(name):
    e = Electrolyte(model=name)
    c = np.linspace(0.0, 4000.0, 81)
    T = np.linspace(263.15, 333.15, 15)
    C, TT = np.meshgrid(c, T, indexing="ij")
    for fn in (e.conductivity, e.diffusivity, e.transference_number, e.thermodynamic_factor):
        v = fn(C, TT)
        assert isinstance(v, np.ndarray) and v.shape == C.shape and np.all(np.isfinite(v)), fn.__name__
        assert isinstance(fn(1000.0, 298.15), float)
        # the arrays give what the scalars give
        for i, j in ((0, 0), (20, 7), (80, 14), (37, 3)):
            assert v[i, j] == pytest.approx(fn(float(C[i, j]), float(TT[i, j])), rel=1e-14, abs=0)
        assert fn(c, 298.15).shape == c.shape          # broadcasting a scalar temperature
    assert np.all(e.conductivity(C[1:], TT[1:]) > 0) and np.all(e.conductivity(0.0, TT) == 0)
    assert np.all(e.diffusivity(C, TT) > 0)
    assert np.all(e.thermodynamic_factor(C, TT) > 0)
    tp = e.transference_number(C, TT)
    assert np.all(np.abs(tp) < 1)
    # Landesfeind's published t+ fit dips below 0 at 263-283 K for 0.5-2.5 mol/L (kept as published);
    # at and above room temperature it is positive over the whole range
    assert np.all(tp[:, T >= 293.15] > 0)


def test_conductivity_peak_near_one_molar_as_published():
    c = np.linspace(1.0, 3000.0, 3000)
    nyman = ELECTROLYTE_MODELS["Nyman2008"].conductivity(c, 298.15)
    assert c[np.argmax(nyman)] == pytest.approx(960.0, abs=20.0)
    assert nyman.max() == pytest.approx(0.950, abs=0.002)
    land = ELECTROLYTE_MODELS["Landesfeind2019"]
    k = land.conductivity(c, 298.15)
    assert 800.0 <= c[np.argmax(k)] <= 1300.0
    assert k.max() == pytest.approx(nyman.max(), rel=0.10)
    # warmer electrolyte: higher conductivity, maximum at a higher concentration
    peaks = [c[np.argmax(land.conductivity(c, T))] for T in (273.15, 298.15, 323.15)]
    assert peaks == sorted(peaks) and land.conductivity(1000.0, 323.15) > land.conductivity(1000.0, 273.15)
    # the clamp: beyond the trusted span the value at the bound
    assert land.conductivity(4000.0, 298.15) == land.conductivity(3000.0, 298.15)
    assert land.diffusivity(1000.0, 350.0) == land.diffusivity(1000.0, 323.15)


def test_ocp_monotone_decreasing_over_the_window_and_in_the_nmc811_range():
    pos = default_parameters().positive
    x = np.linspace(pos.sto_min, pos.sto_max, 2001)
    u = pos.ocp(x)
    assert np.all(np.diff(u) < 0)
    assert 3.5 < u.min() and u.max() < 4.45                     # NMC811 vs Li/Li+
    assert pos.ocp(pos.sto_min) == pytest.approx(4.40, abs=1e-3)  # the study's charge cut-off
    # the fit against the Chen2020 data it was made to (first and last measured points)
    assert pos.ocp(0.266145163492257) == pytest.approx(4.2935653, abs=0.015)
    assert pos.ocp(0.905926128940627) == pytest.approx(3.5672133, abs=0.015)
    # the window holds ~196 mAh/g at equilibrium: the study measured 192 mAh/g at C/10 (2.8-4.4 V)
    assert pos.capacity_per_sto_mAh_g * (pos.sto_max - pos.sto_min) == pytest.approx(192.0, rel=0.05)


def test_exchange_current_densities():
    p = default_parameters()
    cmax = p.positive.max_concentration_mol_m3
    cs = np.linspace(0.0, cmax, 101)
    i0 = p.positive_i0(1000.0, cs)
    assert i0.shape == cs.shape and i0[0] == 0 and i0[-1] == pytest.approx(0.0, abs=1e-12)
    assert np.argmax(i0) == 50 and i0[50] == pytest.approx(2.514, rel=1e-12)
    assert p.positive_i0(250.0, cmax / 2) == pytest.approx(2.514 * 0.5, rel=1e-12)           # sqrt(c_e / c_e0)
    assert p.positive_i0(1000.0, cmax / 2, 318.15) > p.positive_i0(1000.0, cmax / 2)        # Arrhenius
    li = 3.5e-8 * FARADAY * (1 / 1.3e-5) ** 0.7 * 1000.0 ** 0.3
    assert p.counter.exchange_current_density(1000.0) == pytest.approx(li, rel=1e-12)
    assert p.counter.exchange_current_density(np.array([500.0, 2000.0])) == pytest.approx(
        [li * 0.5 ** 0.3, li * 2 ** 0.3], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field", [
    ({"positive.sto_min": 1.2}, "positive.sto_min"),
    ({"positive.diffusivity_m2_s": -1e-15}, "positive.diffusivity_m2_s"),
    ({"positive.max_concentration_mol_m3": 0.0}, "positive.max_concentration_mol_m3"),
    ({"separator.porosity": 1.5}, "separator.porosity"),
    ({"cbd.conductivity_S_m": float("nan")}, "cbd.conductivity_S_m"),
    ({"cei.thickness_mode": "thick"}, "cei.thickness_mode"),
    ({"electrolyte.model": "Valoen2005"}, "electrolyte.model"),
    ({"positive.sto_min": 0.95}, "positive.sto_min"),                     # not below sto_max
    ({"positive.sto_min": 0.1}, "positive.sto_min"),                      # OCP 4.6 V above the 4.4 V cut-off
    ({"cell.lower_cutoff_V": 4.5}, "cell.lower_cutoff_V"),
    ({"cei.thickness_collector_m": 1e-9}, "cei.thickness_collector_m"),   # below the 3 nm clip
    ({"positive.active_fraction": 0.8}, "positive.active_fraction"),      # + porosity > 1
])
def test_check_names_the_field_and_the_fix(changes, field):
    p = default_parameters().with_values(changes)
    with pytest.raises(BadInput) as e:
        p.check()
    assert e.value.source == field
    assert e.value.fix and "Fix:" in e.value.one_line()


def test_with_values_rejects_unknown_names():
    with pytest.raises(BadInput, match="positive.nonsense"):
        default_parameters().with_values({"positive.nonsense": 1.0})
    p = default_parameters().with_values({"cei.thickness_mode": "gradient", "cei.thickness_scale": 2.0})
    assert p.cei.thickness_mode == "gradient" and p.cei.thickness_scale == 2.0 and p.check() is p
    assert default_parameters() == EchemParameters()


# ---------------------------------------------------------------------------------------------
# BPX
# ---------------------------------------------------------------------------------------------

VARIANTS = [
    {},
    {"electrolyte.model": "Nyman2008"},
    {"cei.thickness_mode": "gradient", "cei.thickness_scale": 2.0, "cell.temperature_K": 310.0},
    {"cei.thickness_mode": "uniform", "positive.alpha_anodic": 0.4, "positive.alpha_cathodic": 0.6,
     "electrolyte.initial_concentration_mol_m3": 1200},
]


@pytest.mark.parametrize("changes", VARIANTS)
def test_bpx_round_trip(changes):
    p = default_parameters().with_values(changes)
    d = json.loads(json.dumps(ebpx.to_bpx(p), allow_nan=False))
    q = ebpx.from_bpx(d)
    assert q == p
    c = np.linspace(0.0, 4000.0, 41)
    T = np.linspace(263.15, 333.15, 8)[:, None]
    for fn in ("conductivity", "diffusivity", "transference_number", "thermodynamic_factor"):
        a, b = getattr(p.electrolyte, fn)(c, T), getattr(q.electrolyte, fn)(c, T)
        assert np.allclose(a, b, rtol=1e-12, atol=0), fn
    x = np.linspace(0, 1, 101)
    assert np.allclose(p.positive.ocp(x), q.positive.ocp(x), rtol=1e-12, atol=0)


@pytest.mark.parametrize("model", sorted(ELECTROLYTE_MODELS))
def test_bpx_expressions_equal_the_functions(model):
    """What a BPX reader evaluates equals ElectroVox's functions at the reference temperature."""
    T = 298.15
    p = default_parameters().with_values({"electrolyte.model": model})
    d = ebpx.to_bpx(p)
    e, ud = d["Parameterisation"]["Electrolyte"], d["Parameterisation"]["User-defined"]
    m = ELECTROLYTE_MODELS[model]
    c = np.linspace(1.0, m.c_max, 200)
    for expr, fn in ((e["Conductivity [S.m-1]"], p.electrolyte.conductivity),
                     (e["Diffusivity [m2.s-1]"], p.electrolyte.diffusivity),
                     (ud["Electrolyte cation transference number at the reference temperature"],
                      p.electrolyte.transference_number),
                     (ud["Electrolyte thermodynamic factor at the reference temperature"],
                      p.electrolyte.thermodynamic_factor)):
        assert np.allclose(_eval(expr, c), fn(c, T), rtol=1e-12, atol=0), expr
    assert e["Cation transference number"] == p.electrolyte.transference_number(1000.0, T)
    x = np.linspace(0, 1, 201)
    ocp = d["Parameterisation"]["Positive electrode"]["OCP [V]"]
    assert np.allclose(_eval(ocp, x), p.positive.ocp(x), rtol=1e-12, atol=0)
    # the effective activation energy reproduces the fit 5 K away to within a few per cent
    if model == "Landesfeind2019":
        ea = e["Conductivity activation energy [J.mol-1]"]
        pred = p.electrolyte.conductivity(1000.0, T) * math.exp(ea / 8.314462618 * (1 / T - 1 / (T + 5)))
        assert pred == pytest.approx(p.electrolyte.conductivity(1000.0, T + 5), rel=0.02)


def test_bpx_follows_the_schema_rules():
    """BPX 1.1 DFN rules (FaradayInstitution/BPX bpx/schema.py), checked without the bpx package."""
    d = ebpx.to_bpx(default_parameters())
    assert d["Header"]["Model"] == "DFN" and d["Header"]["BPX"].count(".") == 2
    par = d["Parameterisation"]
    cell_required = ("Electrode area [m2]", "Number of electrode pairs connected in parallel to make a cell",
                     "Lower voltage cut-off [V]", "Upper voltage cut-off [V]", "Nominal cell capacity [A.h]")
    assert all(k in par["Cell"] for k in cell_required)
    assert not {"Initial temperature [K]", "Ambient temperature [K]", "Thermal conductivity [W.m-1.K-1]"} & set(
        par["Cell"])
    assert {"Cation transference number", "Diffusivity [m2.s-1]", "Conductivity [S.m-1]"} <= set(par["Electrolyte"])
    assert "Initial concentration [mol.m-3]" not in par["Electrolyte"]
    electrode = {"Thickness [m]", "Porosity", "Transport efficiency", "Conductivity [S.m-1]", "Minimum stoichiometry",
                 "Maximum stoichiometry", "Maximum concentration [mol.m-3]", "Particle radius [m]",
                 "Surface area per unit volume [m-1]", "Diffusivity [m2.s-1]", "OCP [V]",
                 "Reaction rate constant [mol.m-2.s-1]"}
    for side in ("Negative electrode", "Positive electrode"):
        assert electrode <= set(par[side]), side
    assert {"Thickness [m]", "Porosity", "Transport efficiency"} <= set(par["Separator"])
    for k, v in par["User-defined"].items():      # numbers or expressions in x
        assert (isinstance(v, (int, float)) and not isinstance(v, bool)) or isinstance(v, str), k
        if isinstance(v, str):
            _eval(v, np.linspace(0, 1, 3))
    # the sto-limit rule (1 mV): OCP_p(sto_min) - OCP_n <= upper cut-off, OCP_p(sto_max) >= lower cut-off
    pos, neg, cell = par["Positive electrode"], par["Negative electrode"], par["Cell"]
    u_n = float(_eval(neg["OCP [V]"], 1.0))
    assert float(_eval(pos["OCP [V]"], pos["Minimum stoichiometry"])) - u_n <= cell["Upper voltage cut-off [V]"] + 1e-3
    assert float(_eval(pos["OCP [V]"], pos["Maximum stoichiometry"])) - u_n >= cell["Lower voltage cut-off [V]"] - 1e-3
    assert d["State"]["Initial conditions"]["Initial state-of-charge"] == 1.0


def test_bpx_package_validates_it_where_installed():
    bpx = pytest.importorskip("bpx")
    obj = bpx.parse_bpx_obj(json.loads(json.dumps(ebpx.to_bpx(default_parameters()))))
    assert obj.header.model == "DFN"


def test_bpx_legacy_layout_is_read():
    p = default_parameters().with_values({"cell.temperature_K": 303.15})
    d = ebpx.to_bpx(p)
    d["Header"]["BPX"] = "0.4.0"
    state = d.pop("State")
    d["Parameterisation"]["Electrolyte"]["Initial concentration [mol.m-3]"] = \
        state["Initial conditions"]["Initial electrolyte concentration [mol.m-3]"]
    d["Parameterisation"]["Cell"]["Initial temperature [K]"] = 303.15
    d["Parameterisation"]["Cell"]["Ambient temperature [K]"] = 303.15
    assert ebpx.from_bpx(d) == p


def _mutated(path, value):
    d = ebpx.to_bpx(default_parameters())
    node = d
    for k in path[:-1]:
        node = node[k]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


POS = ("Parameterisation", "Positive electrode")


@pytest.mark.parametrize("path, value, expect", [
    ((*POS, "Thickness [m]"), KeyError, "Positive electrode/Thickness [m]: is missing"),
    ((*POS, "Minimum stoichiometry"), 1.5, "Positive electrode/Minimum stoichiometry: (positive.sto_min)"),
    ((*POS, "Porosity"), "0.3", "Positive electrode/Porosity: is '0.3', not a finite number"),
    ((*POS, "Surface area per unit volume [m-1]"), 1e5, "Surface area per unit volume [m-1]: is 100000.0, but"),
    ((*POS, "OCP [V]"), "4.2 - 0.5 * x", "Positive electrode/OCP [V]: is not one of ElectroVox's OCP fits"),
    (("Parameterisation", "Electrolyte", "Conductivity [S.m-1]"), "1.0 + 0 * x", "Conductivity [S.m-1]: is not one"),
    (("Parameterisation", "Cell", "Nominal cell capacity [A.h]"), 1.0, "Nominal cell capacity [A.h]: is 1.0, but"),
    (("Parameterisation", "User-defined", "CEI thickness field (0 none, 1 uniform, 2 gradient)"), 5,
     "CEI thickness field (0 none, 1 uniform, 2 gradient): is 5"),
    (("Parameterisation", "User-defined", "CBD micro-porosity"), -0.1, "CBD micro-porosity: (cbd.porosity)"),
    (("Parameterisation", "Separator", "Transport efficiency"), 0.0, "Separator/Transport efficiency"),
    (("Header", "Model"), "SPM", "Header/Model: is 'SPM'"),
])
def test_from_bpx_names_the_bad_field(path, value, expect):
    with pytest.raises(BadInput) as e:
        ebpx.from_bpx(_mutated(path, value), source="cell.json")
    assert expect in e.value.one_line() and e.value.one_line().startswith("cell.json: ")
    assert "Fix:" in e.value.one_line()


def test_write_bpx_is_atomic_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "p.json"
    ebpx.write_bpx(out, default_parameters())
    assert ebpx.read_bpx(out) == default_parameters()
    with pytest.raises(BadInput, match="exists"):
        ebpx.write_bpx(out, default_parameters())
    ebpx.write_bpx(out, default_parameters().with_values({"electrolyte.model": "Nyman2008"}), force=True)
    assert ebpx.read_bpx(out).electrolyte.model == "Nyman2008"
    assert [f.name for f in tmp_path.iterdir()] == ["p.json"]       # no temporary left
    with pytest.raises(BadInput, match="must lie"):
        ebpx.write_bpx(tmp_path / "bad.json", default_parameters().with_values({"separator.porosity": 2.0}))
    assert not (tmp_path / "bad.json").exists()


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def test_cli_params_show():
    r = run_cli("params", "show", check=0)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["name", "value", "unit", "source"]
    assert any(line.startswith("positive.capacity_basis_mAh_g ") and " 280 " in line and "mAh/g" in line
               for line in lines)
    r = run_cli("params", "show", "--json", check=0)
    out = json.loads(r.stdout)
    n = sum(1 for _ in default_parameters().fields())
    assert len(out["parameters"]) > n and all(row["source"] for row in out["parameters"])


def test_cli_params_export_and_check(tmp_path):
    out = tmp_path / "cell.json"
    r = run_cli("params", "export", out, check=0)
    assert "wrote" in r.stdout and ebpx.read_bpx(out) == default_parameters()
    r = run_cli("params", "export", out)
    assert r.returncode == 2 and "exists" in r.stderr and "--force" in r.stderr
    run_cli("params", "export", out, "--force", "--json", check=0)
    r = run_cli("params", "check", out, "--json", check=0)
    assert json.loads(r.stdout)["valid"] is True
    r = run_cli("params", "show", out, "--json", check=0)
    assert json.loads(r.stdout)["file"] == str(out)


def test_cli_params_check_bad_file_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_mutated((*POS, "Minimum stoichiometry"), 1.5)))
    r = run_cli("params", "check", bad)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "Minimum stoichiometry" in lines[0] and "Fix:" in lines[0]
    notjson = tmp_path / "notjson.json"
    notjson.write_text("{ not json")
    r = run_cli("params", "check", notjson)
    assert r.returncode == 2 and "is not JSON" in r.stderr
    r = run_cli("params", "check", tmp_path / "missing.json")
    assert r.returncode == 2 and "does not exist" in r.stderr
