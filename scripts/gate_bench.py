"""Time the steps of the gate (scripts/test.sh) as CI meets them on a fresh clone: mypy with an empty cache
(in a temporary directory, so the developer's own cache is left alone), then pytest serially (`-n 0`) and on
every core (`-n auto`). Wall times depend on the machine's load: compare the two pytest rows of one run.
Usage: venv/bin/python scripts/gate_bench.py [pytest arguments, e.g. tests/environment]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / "venv" / "bin" / "python")


def timed(command: Sequence[str], cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def cold_mypy() -> float:
    """The three mypy runs of scripts/test.sh, each with an empty cache of its own."""
    total = 0.0
    runs = ((ROOT, ["components", "tests", "tools"]), (ROOT, ["__main__.py"]),
            (ROOT / "policy", ["--config-file", "../pyproject.toml", "__main__.py", "dreamscape_policy"]))
    for cwd, args in runs:
        with tempfile.TemporaryDirectory(prefix="dreamscape-mypy-") as cache:
            total += timed([PYTHON, "-m", "mypy", "--strict", "--cache-dir", cache, *args], cwd)
    return total


def main(pytest_args: list[str]) -> None:
    rows = [("mypy --strict (cold cache)", cold_mypy())]
    for workers in ("0", "auto"):
        rows.append((f"pytest -n {workers}", timed([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                                    "-n", workers, *pytest_args])))
    for step, seconds in rows:
        print(f"{step:<28}{seconds:>9.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
