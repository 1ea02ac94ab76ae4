"""One declaration per parameter: the CLI options, ParaView properties and docs come from it.

Each concept (a phantom, the segmentation, a solver, ...) declares its parameters once, beside
its numerical core, as a :class:`ParamSet` of :class:`Param`: the core keyword, type, unit,
default, range, choices and help.  From that one declaration

- :mod:`electrovox.cli` builds the command's options (``--voxel-um``, ``--cbd/--no-cbd``) and
  turns the parsed arguments back into the core's keywords (:meth:`ParamSet.from_cli`);
- the VTK algorithm base (:mod:`electrovox.filters.vtk.base`) gets its ``Set<Name>`` methods,
  defaults and change detection;
- the ParaView plugin gets each property's XML: label with unit, range domain, enumeration,
  tooltip, advanced flag (:meth:`Param.pv_xml`);
- ``docs/`` tables come from :meth:`ParamSet.markdown`;

so names, defaults and help texts cannot drift apart.  Nothing here imports VTK or argparse
state: this module is safe on every path.

Examples
--------
>>> ps = ParamSet("demo", [Param("voxel_um", "float", 0.5, "Voxel size.", unit="um", range=(1e-4, None))])
>>> ps.defaults()
{'voxel_um': 0.5}
>>> ps["voxel_um"].cli_flag, ps["voxel_um"].pv_name, ps["voxel_um"].py_name
('--voxel-um', 'VoxelUm', 'Voxel')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from electrovox.errors import BadInput

#: how units read in labels (ParaView shows "Voxel Size (µm)")
_UNIT_TEXT = {"um": "µm", "nm": "nm", "m": "m", "s": "s", "1": "", "": ""}
#: ParaView's Python names a property by its label with every character but [A-Za-z0-9_] removed,
#: so a unit written in ASCII would end up in the name ("Voxel size (um)" -> Voxelsizeum).  In
#: labels the unit's letters are their non-ASCII look-alikes (DejaVu Sans, ParaView's font, has
#: them): the panel reads "Voxel Size (µm)" and the Python name stays "VoxelSize".
_LOOKALIKE = str.maketrans({"m": "\u217f", "n": "\u043f", "s": "\u0455", "V": "\u2164"})
KINDS = ("float", "int", "bool", "str", "choice", "vec3", "phases")


def _camel(name: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in name.split("_"))


def _esc(text: str) -> str:
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace('"', "&quot;")


@dataclass(frozen=True)
class Param:
    """One parameter of a numerical core, as every front end shows it.

    Parameters
    ----------
    name : str
        The core's keyword argument (``cbd_factor``).  Errors raised by the core name it.
    kind : str
        ``float``, ``int``, ``bool``, ``str``, ``choice`` (one of ``choices``), ``vec3`` (three
        floats, X Y Z) or ``phases`` (a subset of ``choices``, given as comma-separated names).
    default : Any
        Default value, the same in the CLI, ParaView and Python.  ``None`` for "not set" (CLI
        only; ParaView then needs ``pv_default``).
    help : str
        One or two sentences: what it means, unit, typical values.  The tooltip and ``--help``.
    unit : str
        Unit of the value (``um``, ``nm``, ``1``); shown in labels and help.
    label : str, optional
        The ParaView label without unit; default: the name with spaces.
    range : tuple of (float or None, float or None), optional
        Inclusive bounds; None for an open side.  Checked by :meth:`check`; a range domain in
        ParaView.
    choices : tuple of str
        Allowed values for ``choice`` and ``phases``.
    advanced : bool
        Shown under ParaView's advanced gear.
    required : bool
        Required on the command line (ParaView always has a value).
    cli : str or None
        The long option without dashes; default: the name with dashes.  ``""``: not a CLI option.
    pv : str or None
        The ParaView property name; default: the name in CamelCase.  ``""``: not in ParaView.
    pv_default : Any
        ParaView's default when it must differ from ``default`` (e.g. ``default`` None).
    metavar : str, optional
        CLI metavar.
    pv_values : tuple, optional
        ParaView enumeration values of ``choices`` (default: the choices themselves when they are
        integers, else 0, 1, ...); kept so that older scripts and state files still load.
    aliases : tuple of str
        Other keywords of lower-level cores that this parameter feeds (``spacing`` for
        ``voxel_um``): errors naming them (as ``spacing=`` or as their source) are translated too.
    """

    name: str
    kind: str
    default: Any
    help: str
    unit: str = ""
    label: str | None = None
    range: tuple | None = None
    choices: tuple = ()
    advanced: bool = False
    required: bool = False
    cli: str | None = None
    pv: str | None = None
    pv_default: Any = None
    metavar: str | None = None
    pv_values: tuple | None = None
    aliases: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name}: kind {self.kind!r} is not one of {KINDS}")

    # -- names -------------------------------------------------------------------------------
    @property
    def cli_flag(self) -> str | None:
        """The long option (``--voxel-um``), or None when the parameter is not on the CLI."""
        if self.cli == "":
            return None
        return "--" + (self.cli or self.name.replace("_", "-"))

    @property
    def pv_name(self) -> str | None:
        """The ParaView property (and Python attribute) name, or None when not in ParaView."""
        if self.pv == "":
            return None
        return self.pv or _camel(self.name)

    @property
    def title(self) -> str:
        """The label's words, Title Case (``Voxel Size``); the Python name is them without spaces."""
        if self.label:
            return " ".join(w[:1].upper() + w[1:] for w in self.label.split())
        return " ".join(w[:1].upper() + w[1:] for w in self.name.split("_") if w not in ("um", "nm"))

    @property
    def pv_label(self) -> str:
        """The panel label with its unit, e.g. ``Voxel Size (µm)`` (unit letters: look-alikes)."""
        unit = _UNIT_TEXT.get(self.unit, self.unit).translate(_LOOKALIKE)
        return f"{self.title} ({unit})" if unit else self.title

    @property
    def py_name(self) -> str:
        """The attribute name in ``paraview.simple`` (ParaView derives it from the label)."""
        return re.sub(r"[^A-Za-z0-9_]", "", self.pv_label)

    @property
    def setter(self) -> str:
        """The VTK algorithm's setter: ``Set`` + the Python name (``SetVoxelSize``), as in ParaView."""
        return "Set" + (self.py_name if self.pv_name else _camel(self.name))

    # -- values ------------------------------------------------------------------------------
    def coerce(self, value):
        """The value in the core's type (ParaView passes ints for enumerations and booleans)."""
        if value is None:  # ParaView passes an empty string property as None
            return "" if self.kind == "str" and self.default is not None else None
        k = self.kind
        if k == "float":
            return float(value)
        if k == "int":
            return int(value)
        if k == "bool":
            if self.default is None and not isinstance(value, (str, bool)) and int(value) == -1:
                return None  # ParaView's "auto" of a three-state switch
            return bool(int(value)) if not isinstance(value, str) else value.lower() in ("1", "true", "yes", "on")
        if k == "vec3":
            vals = tuple(float(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
            return vals * 3 if len(vals) == 1 else vals
        if k == "choice":
            return self._choice(value)
        if k == "phases":
            if isinstance(value, str):
                return tuple(t.strip() for t in value.split(",") if t.strip())
            return tuple(str(v) for v in value)
        return "" if value is None else str(value)

    def _enum_values(self) -> tuple:
        if self.pv_values is not None:
            return tuple(self.pv_values)
        if self.choices and all(isinstance(c, int) for c in self.choices):
            return tuple(self.choices)
        return tuple(range(len(self.choices)))

    def _choice(self, value):
        ints = bool(self.choices) and all(isinstance(c, int) for c in self.choices)
        if isinstance(value, str) and not ints:
            return value
        try:
            iv = int(value)
        except (TypeError, ValueError):
            return str(value)
        vals = self._enum_values()
        if ints:
            return iv if iv in self.choices else (self.choices[vals.index(iv)] if iv in vals else iv)
        return self.choices[vals.index(iv)] if iv in vals else str(value)

    def check(self, value) -> None:
        """Raise :class:`BadInput` (source: the keyword) when ``value`` is out of range or not a choice."""
        if value is None:
            return
        if self.kind == "choice" and self.choices and value not in self.choices:
            raise BadInput(self.name, f"{value!r} is not one of {', '.join(self.choices)}",
                           f"choose one of {', '.join(self.choices)}")
        if self.kind == "phases" and self.choices:
            bad = [v for v in value if v not in self.choices]
            if bad:
                raise BadInput(self.name, f"{', '.join(bad)} not a phase name",
                               f"choose among {', '.join(self.choices)}")
        if self.range and self.kind in ("float", "int", "vec3"):
            lo, hi = self.range
            for v in (value if self.kind == "vec3" else (value,)):
                if (lo is not None and v < lo) or (hi is not None and v > hi):
                    span = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
                    unit = f" {self.unit}" if self.unit not in ("", "1") else ""
                    raise BadInput(self.name, f"{v} is outside {span}{unit}",
                                   f"give a value in {span}")

    # -- ParaView ----------------------------------------------------------------------------
    def pv_xml(self) -> str:
        """The ServerManager XML of this parameter's ParaView property."""
        name, label = self.pv_name, _esc(self.pv_label)
        default = self.pv_default if self.pv_default is not None else self.default
        doc = f"<Documentation>{_esc(self.help)}{' Unit: ' + self.unit + '.' if self.unit not in ('', '1') else ''}" \
              "</Documentation>"
        adv = ' panel_visibility="advanced"' if self.advanced else ""
        k = self.kind
        if k in ("float", "vec3"):
            vals = default if k == "vec3" else [default]
            rng = ""
            if self.range:
                lo, hi = self.range
                attrs = (f' min="{lo}"' if lo is not None else "") + (f' max="{hi}"' if hi is not None else "")
                rng = f'<DoubleRangeDomain name="range"{attrs}/>'
            return (f'<DoubleVectorProperty name="{name}" label="{label}" command="{self.setter}" '
                    f'number_of_elements="{len(vals)}" default_values="{" ".join(repr(float(v)) for v in vals)}"'
                    f'{adv}>{rng}{doc}</DoubleVectorProperty>')
        if k == "int":
            rng = ""
            if self.range:
                lo, hi = self.range
                attrs = (f' min="{lo}"' if lo is not None else "") + (f' max="{hi}"' if hi is not None else "")
                rng = f'<IntRangeDomain name="range"{attrs}/>'
            return (f'<IntVectorProperty name="{name}" label="{label}" command="{self.setter}" '
                    f'number_of_elements="1" default_values="{int(default)}"{adv}>{rng}{doc}</IntVectorProperty>')
        if k == "bool" and default is None:  # three states: auto (the core decides), on, off
            return (f'<IntVectorProperty name="{name}" label="{label}" command="{self.setter}" '
                    f'number_of_elements="1" default_values="-1"{adv}><EnumerationDomain name="enum">'
                    '<Entry value="-1" text="auto"/><Entry value="1" text="on"/><Entry value="0" text="off"/>'
                    f'</EnumerationDomain>{doc}</IntVectorProperty>')
        if k == "bool":
            return (f'<IntVectorProperty name="{name}" label="{label}" command="{self.setter}" '
                    f'number_of_elements="1" default_values="{int(bool(default))}"{adv}>'
                    f'<BooleanDomain name="bool"/>{doc}</IntVectorProperty>')
        if k == "choice":
            vals = self._enum_values()
            entries = "".join(f'<Entry value="{v}" text="{_esc(c)}"/>' for v, c in zip(vals, self.choices, strict=True))
            idx = vals[self.choices.index(default)]
            return (f'<IntVectorProperty name="{name}" label="{label}" command="{self.setter}" '
                    f'number_of_elements="1" default_values="{idx}"{adv}>'
                    f'<EnumerationDomain name="enum">{entries}</EnumerationDomain>{doc}</IntVectorProperty>')
        if k == "phases":
            # a check-box list of phase names (ParaView's array-selection widget)
            return (f'<StringVectorProperty name="{name}Info" command="Get{name}Selection" '
                    'number_of_elements_per_command="2" information_only="1" '
                    'si_class="vtkSIDataArraySelectionProperty"/>'
                    f'<StringVectorProperty name="{name}" label="{label}" information_property="{name}Info" '
                    f'command="Get{name}Selection" number_of_elements_per_command="2" element_types="2 0" '
                    f'repeat_command="1" si_class="vtkSIDataArraySelectionProperty"{adv}>'
                    f'<ArraySelectionDomain name="array_list"><RequiredProperties>'
                    f'<Property function="ArrayList" name="{name}Info"/></RequiredProperties>'
                    f'</ArraySelectionDomain>{doc}</StringVectorProperty>')
        return (f'<StringVectorProperty name="{name}" label="{label}" command="{self.setter}" '
                f'number_of_elements="1" default_values="{_esc(default or "")}"{adv}>{doc}</StringVectorProperty>')

    # -- CLI ---------------------------------------------------------------------------------
    def add_to(self, parser) -> None:
        """Add this parameter's option to an argparse parser (or group)."""
        flag = self.cli_flag
        if flag is None:
            return
        unit = f" [{self.unit}]" if self.unit not in ("", "1") else ""
        shown = self.default
        if self.kind == "phases" and shown:
            shown = ",".join(shown)
        if isinstance(shown, tuple):
            shown = " ".join(map(str, shown))
        dflt = "" if self.required or shown is None else f" (default: {shown})"
        text = f"{self.help}{unit}{dflt}"
        dest = self.name
        k = self.kind
        kw = {"dest": dest, "help": text.replace("%", "%%"), "default": self.default}
        if self.required:
            kw["required"] = True
        if k == "bool":
            import argparse
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
            return
        if k == "vec3":
            parser.add_argument(flag, nargs="+", type=float, metavar=self.metavar or "V", **kw)
            return
        if k == "choice":
            ints = all(isinstance(c, int) for c in self.choices)
            parser.add_argument(flag, choices=list(self.choices), type=int if ints else str, **kw)
            return
        if k == "phases":
            parser.add_argument(flag, metavar=self.metavar or "NAME,...", **kw)
            return
        typ = {"float": float, "int": int}.get(k, str)
        parser.add_argument(flag, type=typ, metavar=self.metavar, **kw)


@dataclass
class ParamSet:
    """The parameters of one concept, in the order panels and ``--help`` show them.

    Parameters
    ----------
    concept : str
        Short name (``electrode_phantom``).
    params : list of Param
        Required and main parameters first; ``advanced`` ones are shown under the gear.
    """

    concept: str
    params: list = field(default_factory=list)

    def __post_init__(self):
        self.params = list(self.params)
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"ParamSet {self.concept}: duplicate names in {names}")

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def __iter__(self):
        return iter(self.params)

    def __contains__(self, name) -> bool:
        return any(p.name == name for p in self.params)

    def __add__(self, other: ParamSet) -> ParamSet:
        return ParamSet(self.concept, self.params + [p for p in other.params if p.name not in self])

    def only(self, *names: str) -> ParamSet:
        """A sub-set, in the given order."""
        return ParamSet(self.concept, [self[n] for n in names])

    def without(self, *names: str) -> ParamSet:
        """A sub-set without ``names``."""
        return ParamSet(self.concept, [p for p in self.params if p.name not in names])

    def defaults(self) -> dict:
        """{name: default} of every parameter."""
        return {p.name: p.default for p in self.params}

    def check(self, values: dict) -> dict:
        """Coerce and range-check ``values`` (a dict by keyword); returns the coerced dict."""
        out = {}
        for p in self.params:
            if p.name in values:
                v = p.coerce(values[p.name])
                p.check(v)
                out[p.name] = v
        return out

    # -- CLI ---------------------------------------------------------------------------------
    def add_to(self, parser, title: str | None = None) -> None:
        """Add every CLI option to ``parser`` (in an argument group when ``title`` is given)."""
        target = parser.add_argument_group(title) if title else parser
        for p in self.params:
            p.add_to(target)

    def from_cli(self, args) -> dict:
        """The core keywords from parsed arguments (coerced and checked; errors name the flags)."""
        values = {p.name: getattr(args, p.name) for p in self.params if p.cli_flag and hasattr(args, p.name)}
        try:
            return self.check(values)
        except BadInput as e:
            raise self.translate(e, "cli") from None

    # -- error translation -------------------------------------------------------------------
    def translate(self, exc: BadInput, front: str) -> BadInput:
        """``exc`` with this set's keywords spelled as ``front`` spells them.

        ``front`` is ``"cli"`` (``--cbd-factor``) or ``"paraview"`` (``CBD factor (CBDFactor)``).
        """
        def spell(p: Param) -> str:
            if front == "cli":
                return p.cli_flag or p.name
            return p.py_name if p.pv_name else p.name

        text = {"source": exc.source, "problem": exc.problem, "fix": exc.fix}
        for p in sorted(self.params, key=lambda q: -len(q.name)):
            if text["source"] in (p.name, *p.aliases):
                text["source"] = spell(p)
            for alias in (p.name, *p.aliases):  # prose writes a keyword's value as name=...
                pat = re.compile(rf"(?<![\w-]){re.escape(alias)}=")
                for k in ("problem", "fix"):
                    text[k] = pat.sub(spell(p) + (" " if front == "cli" else " = "), text[k])
            if front == "paraview" and p.cli_flag and p.pv_name:  # a lower layer worded for the CLI
                flag = re.compile(rf"(?<![\w-]){re.escape(p.cli_flag)}(?![\w-])")
                for k in ("problem", "fix"):
                    text[k] = flag.sub(p.py_name, text[k])
            if "_" not in p.name:
                continue  # a one-word keyword ("legend", "axis") is also an ordinary word in prose
            pat = re.compile(rf"(?<![\w-]){re.escape(p.name)}(?!\w)")
            for k in ("problem", "fix"):
                text[k] = pat.sub(spell(p), text[k])
        return BadInput(text["source"], text["problem"], text["fix"])

    # -- docs --------------------------------------------------------------------------------
    def markdown(self) -> str:
        """A Markdown table: keyword, CLI flag, ParaView property, unit, default, range, meaning."""
        rows = ["| keyword | CLI | ParaView (Python name) | unit | default | range / choices | meaning |",
                "|---|---|---|---|---|---|---|"]
        for p in self.params:
            rng = ", ".join(map(str, p.choices)) if p.choices else (
                "" if not p.range else f"[{'' if p.range[0] is None else p.range[0]}, "
                                       f"{'' if p.range[1] is None else p.range[1]}]")
            dflt = ",".join(p.default) if p.kind == "phases" and p.default else p.default
            rows.append(f"| `{p.name}` | `{p.cli_flag or '-'}` | {p.py_name if p.pv_name else '-'}"
                        f"{' (advanced)' if p.advanced else ''} | {p.unit} | {dflt} | {rng} | "
                        f"{p.help.replace('|', '/')} |")
        return "\n".join(rows)
