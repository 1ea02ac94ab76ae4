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
    from electrovox.solvers.phantoms import params as phantoms
    from electrovox.solvers.transport import params as transport
    sets = [io.READ, phantoms.ELECTRODE, phantoms.CYCLING, phantoms.IMAGING, image.SEGMENT, image.IMAGE_STEP,
            image.RESAMPLE, image.CRACKS, quantify.QUANTIFY, quantify.COMPONENTS, quantify.REV,
            transport.TORTUOSITY, transport.FLOW_TORTUOSITY]
    return {ps.concept: ps for ps in sets}


def _usage(parser: argparse.ArgumentParser) -> str:
    return parser.format_help().replace("\r", "")


def cli_markdown() -> str:
    """``docs/cli.md``: every command's ``--help``, generated from the parser."""
    from electrovox.cli import build_parser
    parser = build_parser()
    out = ["# `electrovox` command line", "",
           "Generated from the parser by `python -m electrovox.docs` (do not edit by hand; "
           "`tests/test_docs.py` checks it is current). Exit status: 0 success, 2 bad input (one line on "
           "stderr: the file, the problem, the fix), 1 internal error.", "",
           "```text", _usage(parser).rstrip(), "```", ""]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        inner = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if inner:
            for kind, q in inner[0].choices.items():
                out += [f"## `electrovox {name} {kind}`", "", "```text", _usage(q).rstrip(), "```", ""]
        else:
            out += [f"## `electrovox {name}`", "", "```text", _usage(p).rstrip(), "```", ""]
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
