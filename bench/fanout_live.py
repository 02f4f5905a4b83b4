"""Benchmark: the live pipeline against its two ceilings, measured side by side in one run.

    python bench/fanout_live.py [--clients 1000] [--updates 20]

Phases (each in its own process, so peak RSS is per phase; subscribers live in another
process and are measured apart):
  raw       websockets.broadcast of traced messages to the same subscribers (ceiling 1)
  boto3     a bare boto3 post_to_connection loop against a trivial local HTTP server (ceiling 2)
  http      the full pipeline, stream handler posting over HTTP to the gateway
  inproc    the full pipeline with the in-process management transport
  process   the full pipeline over HTTP, the stream handler (the project's own, unchanged)
            run as a user's function: a child process polling the Lambda Runtime API, so
            its posting runs on another core than the gateway
  process-pf2  the same with ParallelizationFactor 2: the burst's flights split over two
            lanes, two handler processes posting at once
Each pipeline phase first publishes the updates one after another (each waits until every
subscriber has it), which gives per-update end-to-end latency and a sequential rate; then
it publishes the same number of updates as one burst, which gives the saturated delivery
rate (the stream mapping batches records, as on AWS, so one Scan serves several updates).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Subscribers:
    """The subscriber process: connect, wait for updates, collect receipts."""

    def __init__(self, url: str, n: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "subscribers.py"), url, str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()
        self.connect_s = float(self._line("READY").split()[1])

    def _read_lines(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # the process ended

    def _line(self, prefix: str, timeout_s: float = 120.0) -> str:
        """The next line starting with ``prefix``; a delivery the pipeline gave up on (the
        mapping discards a record once its retries are used: the report says why) would
        otherwise be waited for forever."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(
                    f"no {prefix!r} line from the subscribers in {timeout_s:g} s"
                ) from None
            if not line:
                raise RuntimeError("subscriber process ended early")
            if line.startswith(prefix):
                return line.strip()

    def wait_for_any(self, traces: list[str]) -> str:
        trace = self._line("GOT ").split()[1]
        if trace not in traces:
            raise RuntimeError(f"unexpected update {trace}")
        return trace

    def wait_for(self, trace: str) -> None:
        line = self._line("GOT ")
        if line.split()[1] != trace:
            raise RuntimeError(f"expected {trace}, got {line}")

    def finish(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("STOP\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = json.loads(self._line("{"))
        self.proc.wait(timeout=60)
        return result


def _summary(
    sent: dict[str, float],
    receipts: dict[str, list[float]],
    busy_s: float,
    n: int,
    connect_s: float,
) -> dict[str, Any]:
    e2e = sorted(
        (t - sent[trace]) * 1000 for trace, ts in receipts.items() if trace in sent for t in ts
    )
    deliveries = len(e2e)
    q = statistics.quantiles(e2e, n=100) if len(e2e) > 1 else [0.0] * 99
    return {
        "deliveries": deliveries,
        "expected": n * len(sent),
        "deliveries_per_s": deliveries / busy_s,
        "p50_ms": q[49],
        "p99_ms": q[98],
        "connect_s": connect_s,
        "server_rss_mb": _rss_mb(),
    }


def phase_raw(n: int, updates: int) -> dict[str, Any]:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    connected: set[ServerConnection] = set()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def handler(ws: ServerConnection) -> None:
        connected.add(ws)
        await ws.wait_closed()

    async def start() -> Any:
        return await serve(handler, "127.0.0.1", 0, ping_interval=None, compression=None)

    server = asyncio.run_coroutine_threadsafe(start(), loop).result()
    port = next(iter(server.sockets)).getsockname()[1]
    subs = Subscribers(f"ws://127.0.0.1:{port}/prod", n)
    sent: dict[str, float] = {}
    busy = 0.0
    for i in range(updates):
        trace = uuid.uuid4().hex[:16]
        message = json.dumps({"flightId": "FS101", "event": "BOARDING", "n": i, "traceId": trace})
        sent[trace] = time.perf_counter()
        loop.call_soon_threadsafe(broadcast, list(connected), message)
        subs.wait_for(trace)
        busy += time.perf_counter() - sent[trace]
    result = subs.finish()
    return _summary(sent, result["receipts"], busy, n, subs.connect_s)


def ok_server() -> Any:
    """fanoutsim's HTTP server answering 200 to every request, on a loop of the kind the
    simulator runs (so a baseline is not handicapped); it runs until the process ends."""
    from fanoutsim.runtime.http_server import HttpServer, Request, Response
    from fanoutsim.runtime.loop_thread import LoopThread

    async def ok(_: Request) -> Response:
        return Response(200)

    server = HttpServer(ok)
    LoopThread("bench-floor").run(server.start())
    return server


def phase_boto3(calls: int) -> dict[str, Any]:
    import boto3

    server = ok_server()
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"http://127.0.0.1:{server.port}/prod",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    data = json.dumps({"flightId": "FS101", "event": "BOARDING"}).encode()
    for _ in range(100):
        client.post_to_connection(ConnectionId="warm=", Data=data)
    start = time.perf_counter()
    for i in range(calls):
        client.post_to_connection(ConnectionId=f"c{i}=", Data=data)
    elapsed = time.perf_counter() - start
    return {"posts_per_s": calls / elapsed, "server_rss_mb": _rss_mb()}


def phase_pipeline(
    n: int, updates: int, transport: str, process: bool = False, factor: int = 1
) -> dict[str, Any]:
    import fanoutsim
    from fanoutsim.aws.esm import MappingConfig
    from fanoutsim.aws.lambda_functions import FunctionCode
    from fanoutsim.sample_flights import scripted_day
    from fanoutsim.simulator import Simulator

    script = scripted_day()
    own = Path(fanoutsim.__file__).parent / "functions"
    functions = (
        {"stream_fanout": FunctionCode("python3.11", own, "stream_fanout.handler")}
        if process
        else {}
    )
    mapping = MappingConfig(parallelization_factor=factor)
    with Simulator(transport=transport, functions=functions, mapping=mapping) as sim:  # type: ignore[arg-type]
        sim.flights.load()
        subs = Subscribers(sim.endpoints["websocket"], n)
        sent: dict[str, float] = {}
        busy = 0.0
        for i in range(updates):
            flight_id, status, details = script[i % len(script)]
            start = time.perf_counter()
            trace = sim.flights.publish(flight_id, status, details)
            sent[trace] = sim.timeline(trace).points["put_events"]
            subs.wait_for(trace)
            busy += time.perf_counter() - start
        burst_start = time.perf_counter()
        burst = [sim.flights.publish(*script[i % len(script)]) for i in range(updates)]
        # EventBridge does not order events: a flight's older status arriving after a newer
        # one is superseded and sent to nobody (flight_events keeps the newest), so only
        # the updates the pipeline sent are waited for, once nothing is in flight (these
        # subscribers are outside clients: the simulator owes them nothing to wait for).
        sim.wait("idle", timeout=300)
        dropped = sim.report().to_dict().get("dropped_updates", {})
        for _ in [t for t in burst if t not in dropped]:
            subs.wait_for_any(burst)
        burst_s = time.perf_counter() - burst_start
        report = sim.report().to_dict()
        result = subs.finish()
    receipts = {t: v for t, v in result["receipts"].items() if t in sent}
    summary = _summary(sent, receipts, busy, n, subs.connect_s)
    # The fan-out alone (stream handler start to its last post: one moto Scan, then the
    # post loop the bare boto3 baseline measures); the rest is the upstream stages.
    loop_s = 0.0
    for trace in sent:
        timeline = sim.timeline(trace)
        loop_s += max(timeline.per_connection["post"].values()) - timeline.points["fanout_start"]
    summary["fanout_per_s"] = n * len(sent) / loop_s
    summary["burst_deliveries_per_s"] = n * updates / burst_s
    summary["posts"] = report["operations"].get("apigatewaymanagementapi:PostToConnection", 0)
    summary["client_rss_mb"] = result["rss_mb"]
    return summary


PHASES = ("raw", "boto3", "http", "inproc", "process", "process-pf2")


def phase_result(script: str, name: str, options: list[str]) -> dict[str, Any]:
    """Run phase ``name`` of a benchmark ``script`` in a process of its own; its result is
    the JSON object on the last line it prints."""
    argv = [sys.executable, script, "--phase", name, *options]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"phase {name} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_phase(name: str, args: argparse.Namespace) -> dict[str, Any]:
    return phase_result(
        __file__, name, ["--clients", str(args.clients), "--updates", str(args.updates)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--phase", choices=PHASES)
    args = parser.parse_args()
    if args.phase:
        if args.phase == "raw":
            out = phase_raw(args.clients, args.updates)
        elif args.phase == "boto3":
            out = phase_boto3(3000)
        else:
            transport = "in-process" if args.phase == "inproc" else "http"
            process = args.phase.startswith("process")
            factor = 2 if args.phase == "process-pf2" else 1
            out = phase_pipeline(args.clients, args.updates, transport, process, factor)
        print(json.dumps(out))
        return
    results = {name: run_phase(name, args) for name in PHASES}
    raw, bare = results["raw"]["deliveries_per_s"], results["boto3"]["posts_per_s"]
    print(f"fanout_live: {args.clients} subscribers x {args.updates} updates (one at a time)")
    print(f"  raw websockets broadcast : {raw:10.0f} deliveries/s   (ceiling 1)")
    print(f"  bare boto3 post loop     : {bare:10.0f} posts/s        (ceiling 2)")
    for name in PHASES[2:]:
        r = results[name]
        burst = r["burst_deliveries_per_s"]
        print(
            f"  pipeline {name:<11}: burst {burst:8.0f} deliveries/s = {burst / bare:.2f}x boto3,"
            f" {burst / raw:.3f}x raw; sequential {r['deliveries_per_s']:.0f}/s"
            f" ({r['deliveries_per_s'] / bare:.2f}x boto3); fan-out alone"
            f" {r['fanout_per_s']:.0f}/s ({r['fanout_per_s'] / bare:.2f}x boto3)"
        )
        print(
            f"  {'':<17}  delivered {r['deliveries']}/{r['expected']} (sequential);"
            f" e2e p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms;"
            f" connect {r['connect_s']:.2f} s; server RSS {r['server_rss_mb']:.0f} MB"
            f" (subscribers {r['client_rss_mb']:.0f} MB, measured apart)"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
