"""A process of WebSocket subscribers for the benchmarks (measured apart from the server).

Usage: python bench/subscribers.py URL N
Connects N clients, prints ``READY <seconds to connect>``; then for each traced message
prints ``GOT <traceId>`` once all N clients have it; on stdin EOF or ``STOP`` prints one JSON
line ``{"receipts": {traceId: [perf_counter times]}, "rss_mb": ...}`` and exits.
perf_counter is CLOCK_MONOTONIC on Linux, shared with the server process.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import defaultdict

from websockets.asyncio.client import ClientConnection, connect


async def main(url: str, n: int) -> None:
    receipts: dict[str, list[float]] = defaultdict(list)
    semaphore = asyncio.Semaphore(100)

    async def one(i: int) -> ClientConnection:
        async with semaphore:
            sep = "&" if "?" in url else "?"
            return await connect(
                f"{url}{sep}client=b{i:05d}",
                ping_interval=None,
                compression=None,
                max_size=None,
                open_timeout=60,
            )

    start = time.perf_counter()
    clients = await asyncio.gather(*(one(i) for i in range(n)))
    print(f"READY {time.perf_counter() - start:.4f}", flush=True)

    async def listen(ws: ClientConnection) -> None:
        async for message in ws:
            at = time.perf_counter()
            trace = json.loads(message).get("traceId")
            if trace is None:
                continue
            times = receipts[trace]
            times.append(at)
            if len(times) == n:
                print(f"GOT {trace}", flush=True)

    tasks = [asyncio.ensure_future(listen(ws)) for ws in clients]
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "STOP":
            break
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"receipts": receipts, "rss_mb": rss_mb}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
