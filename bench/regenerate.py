"""How long regeneration takes: `nox -R -s generate` beside the two generators run directly.

    python bench/regenerate.py [--runs N] [--no-cold]

Prints, for the same spec and templates:
- the median wall time of the two generators run directly (openapi-python-client, then
  datamodel-code-generator), the baseline;
- the median of `python -m toolchain.generate` (generators + ruff + headers, no nox);
- the median of a warm `nox -R -s generate` (existing venv, installs skipped), and its ratio to
  the baseline;
- one cold `nox -s generate` into a fresh, empty nox env folder (venv creation and installs
  from the local uv cache included).

Every run writes into a temporary folder (`-- --output`): generated/ is not touched.
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from contract.spec import ROOT, SPEC_PATH
from toolchain import generate


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (default 5)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold nox run")
    args = parser.parse_args()
    nox = shutil.which("nox")
    if nox is None:
        raise SystemExit("nox is not on PATH: pip install -c constraints.txt 'nox[uv]'")
    info = generate.read_spec(SPEC_PATH)
    config = generate.Config()

    with tempfile.TemporaryDirectory(prefix="bench-regenerate-") as tmp:
        work = Path(tmp)
        counter = iter(range(10**6))

        def fresh(name: str) -> Path:
            return work / f"{name}-{next(counter)}"

        def generators() -> None:
            dest = fresh("direct")
            dest.mkdir()
            generate.generate_client(info, dest / "client", config)
            generate.generate_models(info, dest / "models", config)

        def pipeline() -> None:
            run([sys.executable, "-m", "toolchain.generate", "--into", str(fresh("pipeline"))])

        def warm_nox() -> None:
            output = fresh("nox") / "generated"
            run([nox, "-R", "-s", "generate", "--", "--output", str(output)])

        run([nox, "-s", "generate", "--", "--output", str(fresh("warmup") / "generated")])
        generators()  # warm the file system cache for the direct runs too

        # Interleaved rounds, so that load from other processes hits all three alike.
        figures: dict[str, list[float]] = {"generators": [], "pipeline": [], "warm": []}
        for _ in range(args.runs):
            figures["generators"].append(timed(generators))
            figures["pipeline"].append(timed(pipeline))
            figures["warm"].append(timed(warm_nox))
        cold = None
        if not args.no_cold:
            envdir = work / "cold-envs"
            output = fresh("cold") / "generated"
            cold = timed(
                lambda: run(
                    [nox, "--envdir", str(envdir), "-s", "generate", "--", "--output", str(output)]
                )
            )

    medians = {name: statistics.median(values) for name, values in figures.items()}
    base = medians["generators"]
    print(f"regenerate: spec version {info.version}, {args.runs} runs each, median wall time")
    print(f"  generators run directly (baseline)   {base:6.2f} s")
    print(
        f"  python -m toolchain.generate         {medians['pipeline']:6.2f} s"
        f"  ({medians['pipeline'] / base:.2f}x baseline)"
    )
    print(
        f"  nox -R -s generate (warm)            {medians['warm']:6.2f} s"
        f"  ({medians['warm'] / base:.2f}x baseline; target <= 1.5x)"
    )
    if cold is not None:
        print(f"  nox -s generate, fresh envdir (cold) {cold:6.2f} s  (target < 30 s)")
    for name, values in figures.items():
        print(f"  {name:10} runs: " + " ".join(f"{value:.2f}" for value in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
