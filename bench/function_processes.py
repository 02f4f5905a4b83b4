"""Benchmark: a user's function in an execution environment process, warm, per invocation.

    python bench/function_processes.py [--invocations 1000]

Times warm invocations of a no-op handler through the Lambda Runtime API (fanoutsim hands
the event over ``next`` and takes the result from ``response``) for Node.js and Python, and
cold starts (a new process up to its first ``next``). The baseline, measured in the same
run, is the least such a round trip can cost: the same two HTTP requests (a GET answered
with the event, a POST of the result) made by a Python client to the same kind of server
on loopback, with nothing else around them. Ratios are to that baseline.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from fanoutsim.aws.lambda_functions import FunctionCode, FunctionSpec
from fanoutsim.runtime.http_server import HttpServer, Request, Response
from fanoutsim.runtime.loop_thread import LoopThread
from fanoutsim.runtime.process_functions import ProcessFunctions

NODE = "export const handler = async (event) => ({ ok: true });\n"
PYTHON = "def main(event, context):\n    return {'ok': True}\n"


def _times(run: object, count: int) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def baseline(count: int) -> list[float]:
    """Two loopback HTTP requests on one kept-alive connection, per 'invocation'."""
    loop = LoopThread("bench-baseline")

    def answer(request: Request) -> Response:
        return Response(200 if request.method == "GET" else 202, b'{"ok": true}')

    server = HttpServer(answer)
    loop.run(server.start())
    client = http.client.HTTPConnection("127.0.0.1", server.port)

    def round_trip() -> None:
        client.request("GET", "/next")
        client.getresponse().read()
        client.request("POST", "/response", body=b'{"ok": true}')
        client.getresponse().read()

    try:
        return _times(round_trip, count)
    finally:
        client.close()
        loop.run(server.close())
        loop.stop()


def processes(code: FunctionCode, count: int) -> tuple[list[float], list[float]]:
    """Warm invocation times, and the INIT times of a few cold starts."""
    spec = FunctionSpec("fn", "unused:unused", timeout_s=30)
    pool = ProcessFunctions({"fn": code}, {"fn": spec}, dict, region="us-east-1", account="1")
    try:
        colds = []
        for _ in range(5):
            result = pool.invoke("fn", {}, str(uuid.uuid4()), "Root=1-bench")
            colds.append(result.init_ms)
            pool.close()
            pool = ProcessFunctions(
                {"fn": code}, {"fn": spec}, dict, region="us-east-1", account="1"
            )
        pool.invoke("fn", {}, str(uuid.uuid4()), "Root=1-bench")  # warm it
        warm = _times(lambda: pool.invoke("fn", {}, str(uuid.uuid4()), "Root=1-bench"), count)
        return warm, sorted(colds)
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=1000)
    args = parser.parse_args()
    base = statistics.median(baseline(args.invocations))
    print(f"baseline: two loopback HTTP requests, median {base:.3f} ms")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "app.py").write_text(PYTHON)
        (root / "index.mjs").write_text(NODE)
        codes = {"python": FunctionCode("python3.12", root, "app.main")}
        if shutil.which("node"):
            codes["node"] = FunctionCode("nodejs22.x", root, "index.handler")
        for language, code in codes.items():
            warm, cold = processes(code, args.invocations)
            median, p99 = statistics.median(warm), warm[int(len(warm) * 0.99) - 1]
            print(
                f"{language:<7} warm median {median:.3f} ms, p99 {p99:.3f} ms "
                f"({median / base:.2f}x the baseline); cold INIT median "
                f"{statistics.median(cold):.0f} ms"
            )


if __name__ == "__main__":
    main()
