"""Generated documentation: ``docs/cli.md`` from the parser, parameter tables from the declarations.

``python -m electrovox.docs`` rewrites ``docs/cli.md`` and the tables between
``<!-- params: CONCEPT -->`` and ``<!-- /params -->`` in ``docs/*.md``; ``tests/test_docs.py``
checks that the files on disk equal what this module generates, so the docs cannot drift from
the code.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def param_sets() -> dict:
    """Every concept's :class:`~electrovox.params.ParamSet`, by concept name."""
    from electrovox.filters.image import params as image
    from electrovox.filters.quantify import params as quantify
    from electrovox.io import params as io
    from electrovox.solvers.echem import params as echem
    from electrovox.solvers.flow import params as flow
    from electrovox.solvers.phantoms import params as phantoms
    from electrovox.solvers.transport import params as transport
    sets = [io.READ, phantoms.ELECTRODE, phantoms.CYCLING, phantoms.IMAGING, image.SEGMENT, image.IMAGE_STEP,
            image.RESAMPLE, image.CRACKS, quantify.QUANTIFY, quantify.COMPONENTS, quantify.REV,
            transport.TORTUOSITY, transport.FLOW_TORTUOSITY, flow.PERMEABILITY, echem.DISCHARGE]
    return {ps.concept: ps for ps in sets}


def _command_markdown(title: str, parser: argparse.ArgumentParser) -> list[str]:
    """One command as Markdown, from the parser's actions.

    One command as Markdown: description, arguments and options (a table), from the parser's
    actions (not from ``format_help``, whose layout changes between Python versions).
    """
    out = [f"## `{title}`", ""]
    if parser.description:
        out += [" ".join(parser.description.split()), ""]
    pos = [a for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]
    if pos:
        out += ["Arguments: " + ", ".join(f"`{a.metavar or a.dest}`" for a in pos), ""]
    rows = ["| option | value | meaning |", "|---|---|---|"]
    for a in parser._actions:
        if not a.option_strings or a.help == argparse.SUPPRESS or isinstance(a, argparse._HelpAction):
            continue
        if a.nargs == 0 or isinstance(a, (argparse._StoreTrueAction, argparse.BooleanOptionalAction)):
            value = ""
        elif a.choices:
            value = " \\| ".join(str(c) for c in a.choices)
        else:
            mv = a.metavar if a.metavar is not None else a.dest.upper()
            value = " ".join(mv) if isinstance(mv, tuple) else str(mv)
            if a.nargs == "+":
                value += " ..."
        flags = ", ".join(f"`{o}`" for o in a.option_strings)
        req = " (required)" if a.required else ""
        rows.append(f"| {flags} | {value} | {' '.join(str(a.help or '').split()).replace('|', '/')}{req} |")
    return out + rows + [""]


def cli_markdown() -> str:
    """``docs/cli.md``: every command and option, generated from the parser."""
    from electrovox.cli import build_parser
    parser = build_parser()
    out = ["# `electrovox` command line", "",
           "Generated from the parser by `python -m electrovox.docs` (do not edit by hand; "
           "`tests/test_docs.py` checks it is current). Every command also takes `--help`. Exit status: 0 "
           "success, 2 bad input (one line on stderr: the file, the problem, the fix), 1 internal error.", ""]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out += ["| command | what it does |", "|---|---|"]
    helps = {c.dest: c.help for c in sub._choices_actions}
    out += [f"| `{name}` | {helps.get(name, '')} |" for name in sub.choices] + [""]
    for name, p in sub.choices.items():
        inner = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if inner:
            for kind, q in inner[0].choices.items():
                out += _command_markdown(f"electrovox {name} {kind}", q)
        else:
            out += _command_markdown(f"electrovox {name}", p)
    return "\n".join(out)


_MARK = re.compile(r"(<!-- params: (\w+) -->\n)(.*?)(<!-- /params -->\n)?(?=\n#|\Z|<!-- params)", re.S)


def fill_params(text: str) -> str:
    """``text`` with a parameter table after each ``<!-- params: CONCEPT -->`` marker."""
    sets = param_sets()

    def table(m):
        concept = m.group(2)
        if concept not in sets:
            raise KeyError(f"unknown concept {concept!r} in a params marker (known: {', '.join(sets)})")
        return f"{m.group(1)}{sets[concept].markdown()}\n<!-- /params -->\n"
    return _MARK.sub(table, text)


def generate(root: Path = ROOT) -> dict[Path, str]:
    """{path: content} of every generated file (nothing written)."""
    files = {root / "docs" / "cli.md": cli_markdown() + "\n"}
    for page in sorted((root / "docs").glob("*.md")):
        if page.name == "cli.md":
            continue
        text = page.read_text()
        if "<!-- params:" in text:
            files[page] = fill_params(text)
    return files


def main() -> None:
    """Write the generated files (atomically)."""
    from electrovox.io.atomic import atomic_output
    for path, content in generate().items():
        with atomic_output(path, force=True) as tmp:
            Path(tmp).write_text(content)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
