"""Long fuzzing run of the network edges (``tests/runtime/test_fuzz_edges.py``):

    python bench/fuzz_edges.py [--examples 2000]

Runs the same three properties (WebSocket frames, raw HTTP requests, PutEvents entries)
and the request parser's comparison with h11 (15 heads per example) with many more
examples, and prints pytest's summary and the time per example. The baseline, measured
in the same run, is 1 example per property (the fixture's start-up).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

RUNTIME_TESTS = Path(__file__).resolve().parent.parent / "tests" / "runtime"
TESTS = [RUNTIME_TESTS / "test_fuzz_edges.py", RUNTIME_TESTS / "test_http_parser_vs_h11.py"]


def run(examples: int) -> tuple[float, str]:
    env = {**os.environ, "FANOUTSIM_FUZZ_EXAMPLES": str(examples)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, TESTS)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    return time.perf_counter() - started, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    args = parser.parse_args()
    base_s, _ = run(1)
    seconds, summary = run(args.examples)
    per = (seconds - base_s) / (3 * args.examples) * 1000
    print(f"{args.examples} examples per property: {summary}")
    print(
        f"{seconds:.1f} s ({seconds / base_s:.1f}x the 1-example baseline of {base_s:.1f} s); "
        f"{per:.1f} ms per example"
    )


if __name__ == "__main__":
    main()
