"""Run ElectroVox benchmarks and record their figures in benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py                 # all benchmarks
    .venv/bin/python benchmarks/run.py io_throughput   # one, by module name
    .venv/bin/python benchmarks/run.py io_throughput -- --size-mb 256   # pass arguments

Each benchmark is a script in this folder that prints its figures as markdown.  The runner
prints them too and replaces that benchmark's section of RESULTS.md (other sections are kept),
stamped with the machine and the date.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
BENCHMARKS = ["io_throughput", "phantom_generation", "quantify_metrics", "segmentation", "tortuosity", "flow"]


def machine() -> str:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line)
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    osr = dict(line.rstrip().split("=", 1) for line in open("/etc/os-release") if "=" in line)
    import numpy
    return (f"{osr.get('PRETTY_NAME', '').strip(chr(34))}, {cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GiB; "
            f"Python {platform.python_version()}, numpy {numpy.__version__}")


def update_section(name: str, body: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nLatest figures of each " \
        "benchmark (`.venv/bin/python benchmarks/run.py NAME` rewrites its section).\n"
    section = f"## {name}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + section
    tmp = RESULTS.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, RESULTS)


def main(argv):
    names, extra = argv, []
    if "--" in argv:
        i = argv.index("--")
        names, extra = argv[:i], argv[i + 1:]
    for name in names or BENCHMARKS:
        print(f"== {name}", file=sys.stderr)
        out = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *extra], check=True,
                             stdout=subprocess.PIPE, text=True).stdout  # stderr: progress, errors
        print(out)
        stamp = f"Run {datetime.date.today().isoformat()} on {machine()}."
        args = " -- " + " ".join(extra) if extra else ""
        cmd = f"Command: `.venv/bin/python benchmarks/run.py {name}{args}`"
        update_section(name, f"{stamp}\n{cmd}\n\n{out}")


if __name__ == "__main__":
    main(sys.argv[1:])
