"""Benchmark: the ``@connections`` management API under concurrent outside posters, and
what a connection costs in memory, each against a floor measured in the same run.

    python bench/connections_post.py [--clients 200] [--posters 16] [--seconds 5]
                                     [--memory-clients 3000]

Phases, each in its own process (subscribers and posters live in processes of their own,
so the server's CPU and memory are its own):
  floor     fanoutsim's HTTP server answering 200 to every request: no signature check,
            no WebSocket send (what any request costs this server)
  gateway   the simulator's management API: each POST's SigV4 signature verified and its
            data sent to a live WebSocket client
  ws-floor  a bare ``websockets`` server holding --memory-clients connections
  memory    the simulator holding --memory-clients connections (each through $connect and
            its table write)
  connect   the simulator connecting --memory-clients clients with a $connect that writes
            nothing and AWS's 500 new connections a second lifted (the gateway's own cost
            a connection, as a peer whose $connect stores nothing and has no quota
            measures it)
  put-floor a bare boto3 put_item loop against moto in this process, --memory-clients
            rows of the connections table's shape: what $connect's one table write costs
            without a gateway around it
Floors run on the loop the simulator runs on (uvloop where installed).
The posters keep --posters keep-alive connections, each sending pre-signed POSTs (signed
once per connection id by botocore's SigV4: a signature stays valid 15 minutes) as fast
as the answers come. Printed: posts/s and server CPU per post for floor and gateway, memory
per connection for ws-floor and memory, and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from fanoutsim.runtime.loop_thread import LoopThread

HERE = Path(__file__).resolve().parent
PHASES = ("floor", "gateway", "ws-floor", "memory", "connect", "put-floor")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_kib() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024


def signed_requests(endpoint: str, ids: list[str], key: tuple[str, str]) -> list[bytes]:
    """One raw HTTP/1.1 POST per connection id, signed as boto3 signs it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps({"note": "bench", "n": 1}).encode()
    out = []
    for connection_id in ids:
        url = f"{endpoint}/@connections/{connection_id}"
        request = AWSRequest("POST", url, data=body, headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(*key), "execute-api", "us-east-1").add_auth(request)
        prepared = request.prepare()
        path = prepared.url.split("/", 3)[3]  # as signed (botocore quotes the id)
        host = url.split("/")[2]
        skip = ("host", "content-length")
        head = [f"POST /{path} HTTP/1.1", f"Host: {host}"]
        head += [f"{k}: {v}" for k, v in prepared.headers.items() if k.lower() not in skip]
        head.append(f"Content-Length: {len(body)}")
        out.append(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    return out


async def _post_loop(port: int, requests: list[bytes], deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(requests[index % len(requests)])
            index += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            counts[0 if 200 <= status < 300 else 1] += 1
    finally:
        writer.close()


def poster_main(port: int, posters: int, seconds: float, requests_file: str) -> None:
    """The poster process: ``posters`` connections for ``seconds``; prints the counts."""
    requests = json.loads(Path(requests_file).read_text())
    raw = [r.encode("latin-1") for r in requests]

    async def run() -> list[int]:
        counts = [0, 0]
        deadline = time.perf_counter() + seconds
        share = [raw[i::posters] or raw for i in range(posters)]
        await asyncio.gather(
            *(_post_loop(port, share[i], deadline, counts) for i in range(posters))
        )
        return counts

    ok, failed = asyncio.run(run())
    print(json.dumps({"ok": ok, "failed": failed}), flush=True)


def _post_against(
    port: int, requests: list[bytes], posters: int, seconds: float
) -> tuple[dict[str, Any], float]:
    """Run the poster process against ``port``; the answer counts and this process's CPU."""
    file = Path(f"/tmp/connections_post_{os.getpid()}.json")
    file.write_text(json.dumps([r.decode("latin-1") for r in requests]))
    cpu = _cpu_s()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--poster", str(port), str(posters), str(seconds), str(file)],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    cpu = _cpu_s() - cpu
    file.unlink()
    counts: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    counts["elapsed_s"] = elapsed
    return counts, cpu


def _result(counts: dict[str, Any], cpu_s: float, seconds: float) -> dict[str, Any]:
    return {
        "posts_per_s": counts["ok"] / seconds,
        "failed": counts["failed"],
        "cpu_us_per_post": cpu_s / max(1, counts["ok"]) * 1e6,
    }


def phase_floor(clients: int, posters: int, seconds: float) -> dict[str, Any]:
    from fanout_live import ok_server

    server = ok_server()
    endpoint = f"http://127.0.0.1:{server.port}/prod"
    ids = [f"c{i:05d}=" for i in range(clients)]
    requests = signed_requests(endpoint, ids, ("x", "y"))
    counts, cpu = _post_against(server.port, requests, posters, seconds)
    return _result(counts, cpu, seconds)


def phase_gateway(clients: int, posters: int, seconds: float) -> dict[str, Any]:
    from fanout_live import Subscribers

    from fanoutsim.simulator import Simulator

    with Simulator() as sim:
        subs = Subscribers(sim.endpoints["websocket"], clients)
        ids = [c["connectionId"] for c in sim.connections()]
        endpoint = sim.endpoints["management"]
        port = int(endpoint.split(":")[2].split("/")[0])
        requests = signed_requests(endpoint, ids, sim.options.credentials)
        counts, cpu = _post_against(port, requests, posters, seconds)
        subs.finish()
    return _result(counts, cpu, seconds)


def phase_ws_floor(clients: int) -> dict[str, Any]:
    from fanout_live import Subscribers
    from websockets.asyncio.server import ServerConnection, serve

    async def hold(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async def start() -> Any:
        return await serve(hold, "127.0.0.1", 0, ping_interval=None, compression=None)

    server = LoopThread("bench-ws-floor").run(start())
    port = next(iter(server.sockets)).getsockname()[1]
    before = _rss_kib()
    subs = Subscribers(f"ws://127.0.0.1:{port}", clients)
    held = _rss_kib()
    subs.finish()
    return {"kib_per_connection": (held - before) / clients, "connect_s": subs.connect_s}


def phase_memory(clients: int) -> dict[str, Any]:
    from fanout_live import Subscribers

    from fanoutsim.simulator import Simulator

    with Simulator() as sim:
        sim.wait("idle")
        before = _rss_kib()
        subs = Subscribers(sim.endpoints["websocket"], clients)
        held = _rss_kib()
        subs.finish()
    return {"kib_per_connection": (held - before) / clients, "connect_s": subs.connect_s}


def phase_connect(clients: int) -> dict[str, Any]:
    from fanout_live import Subscribers

    from fanoutsim.aws.quotas import GatewayQuotas
    from fanoutsim.simulator import Simulator

    def stores_nothing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200}

    unthrottled = GatewayQuotas(new_connections_per_s=1e9, new_connections_burst=1e9)
    with Simulator(quotas=unthrottled) as sim:
        sim.replace_function("on_connect", stores_nothing)
        sim.wait("idle")
        subs = Subscribers(sim.endpoints["websocket"], clients)
        subs.finish()
    return {"connect_s": subs.connect_s}


def phase_put_floor(rows: int) -> dict[str, Any]:
    import boto3

    from fanoutsim import provision, stack
    from fanoutsim.moto.account import MotoAccount

    account = MotoAccount(stack.REGION)
    try:
        provision.create_tables(boto3.client("dynamodb", region_name=stack.REGION))
        table = boto3.resource("dynamodb", region_name=stack.REGION).Table(stack.CONNECTIONS_TABLE)
        start = time.perf_counter()
        for i in range(rows):
            table.put_item(Item={"connectionId": f"c{i:06d}=", "connectedAt": i, "ttl": i})
        return {"put_s": time.perf_counter() - start}
    finally:
        account.stop()


def run_phase(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from fanout_live import phase_result

    options = ["--clients", str(args.clients), "--posters", str(args.posters)]
    options += ["--seconds", str(args.seconds), "--memory-clients", str(args.memory_clients)]
    return phase_result(__file__, name, options)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--poster":
        port, posters, seconds, file = sys.argv[2:6]
        poster_main(int(port), int(posters), float(seconds), file)
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--posters", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--memory-clients", type=int, default=3000)
    parser.add_argument("--phase", choices=PHASES)
    args = parser.parse_args()
    if args.phase:
        if args.phase == "floor":
            out = phase_floor(args.clients, args.posters, args.seconds)
        elif args.phase == "gateway":
            out = phase_gateway(args.clients, args.posters, args.seconds)
        elif args.phase == "ws-floor":
            out = phase_ws_floor(args.memory_clients)
        elif args.phase == "connect":
            out = phase_connect(args.memory_clients)
        elif args.phase == "put-floor":
            out = phase_put_floor(args.memory_clients)
        else:
            out = phase_memory(args.memory_clients)
        print(json.dumps(out))
        return
    r = {name: run_phase(name, args) for name in PHASES}
    floor, gateway = r["floor"], r["gateway"]
    print(
        f"connections_post: {args.posters} posters, {args.clients} connections, {args.seconds:g} s"
    )
    for name in ("floor", "gateway"):
        p = r[name]
        print(
            f"  {name:<8}: {p['posts_per_s']:8.0f} posts/s, {p['cpu_us_per_post']:6.1f} us server"
            f" CPU a post ({p['failed']} refused)"
        )
    print(
        f"  gateway / floor: {gateway['posts_per_s'] / floor['posts_per_s']:.2f}x the posts, "
        f"{gateway['cpu_us_per_post'] / floor['cpu_us_per_post']:.2f}x the CPU a post"
    )
    ws, mem = r["ws-floor"], r["memory"]
    print(
        f"  memory at {args.memory_clients} connections: simulator"
        f" {mem['kib_per_connection']:.1f} KiB each (connect {mem['connect_s']:.2f} s), bare"
        f" websockets {ws['kib_per_connection']:.1f} KiB (connect {ws['connect_s']:.2f} s):"
        f" {mem['kib_per_connection'] / ws['kib_per_connection']:.2f}x"
    )
    print(
        f"  connecting {args.memory_clients}: {mem['connect_s']:.2f} s with the table write,"
        f" {r['connect']['connect_s']:.2f} s with a $connect that stores nothing,"
        f" {ws['connect_s']:.2f} s to a bare websockets server; the table writes alone,"
        f" in a bare boto3 loop against moto: {r['put-floor']['put_s']:.2f} s"
    )
    print(json.dumps(r))


if __name__ == "__main__":
    main()
