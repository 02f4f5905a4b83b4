"""A server at its file-descriptor limit logs each kind of error once per interval, not once
per failed accept (asyncio logged ~1,400 lines a second before)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

from fanoutsim.runtime.log_limits import LIMITED_LOGGERS, RepeatFilter, install


def _record(msg: str, level: int = logging.ERROR, *args: object) -> logging.LogRecord:
    return logging.LogRecord("asyncio", level, __file__, 1, msg, args, None)


def test_a_repeated_error_passes_once_per_interval_and_then_says_how_many_were_held() -> None:
    now = [0.0]
    limiter = RepeatFilter(interval_s=10.0, clock=lambda: now[0])
    passed = [limiter.filter(_record("accept failed on %s", logging.ERROR, i)) for i in range(500)]
    assert passed.count(True) == 1
    now[0] = 10.0
    later = _record("accept failed on %s", logging.ERROR, 1)
    assert limiter.filter(later)
    assert "(499 more like this in the last 10 s)" in later.getMessage()


def test_distinct_errors_and_asked_for_debug_lines_are_not_held() -> None:
    limiter = RepeatFilter(interval_s=10.0, clock=lambda: 0.0)
    assert limiter.filter(_record("one kind"))
    assert limiter.filter(_record("another kind"))
    assert all(limiter.filter(_record("chatty", logging.DEBUG)) for _ in range(50))


def test_install_puts_one_filter_on_each_logger_once() -> None:
    first, second = install(), install()
    assert first is second
    for name in LIMITED_LOGGERS:
        assert sum(f is first for f in logging.getLogger(name).filters) == 1


_AT_THE_LIMIT = textwrap.dedent(
    """
    import logging, resource, socket, time
    from urllib.parse import urlsplit
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    warnings = []
    class Keep(logging.Handler):
        def emit(self, record):
            if record.levelno >= 30 and record.name.startswith(("asyncio", "websockets")):
                warnings.append(record.getMessage())
    logging.getLogger().addHandler(Keep())
    from fanoutsim import Simulator
    sim = Simulator()
    sim.clients.add(3)
    socks, refused = [], 0
    for key in ("websocket", "management"):
        url = urlsplit(sim.endpoints[key])
        for _ in range(150):
            try:
                socks.append(socket.create_connection((url.hostname, url.port), timeout=1))
            except OSError:
                refused += 1
    time.sleep(3)
    for s in socks:
        s.close()
    sim.clients.add(2)  # the limit is gone: the server accepts again
    print(refused > 0, len(warnings), len(sim.clients))
    sim.close()
    """
)


def test_a_simulator_out_of_descriptors_logs_a_few_lines_and_recovers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _AT_THE_LIMIT], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    hit_the_limit, warnings, subscribers = done.stdout.split()
    assert hit_the_limit == "True"  # the descriptors did run out
    assert int(warnings) <= 5  # one line per kind in the interval, not one per accept
    assert int(subscribers) == 5
