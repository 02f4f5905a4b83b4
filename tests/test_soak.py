"""The 30-second soak (``bench/soak.py``'s short variant): clients churn, a fifth of the
leavers vanish without a close, 1% of posts fail and 1% are throttled. Every pair is
accounted for, and after everyone leaves no row, socket or thread is left.

The full soak (10 minutes, 500 clients, 1 update a second) is a benchmark:
``python bench/soak.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parent.parent / "bench" / "soak.py"


def _soak_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_thirty_seconds_of_churn_account_for_every_pair_and_leave_nothing() -> None:
    result = _soak_module().run(30, clients=40, rate=2, period_s=10, show=False, fanout="broadcast")
    pairs = result.deliveries
    assert result.unaccounted == 0
    assert pairs["expected"] == pairs["delivered"] + pairs["left"] + pairs["undelivered"]
    # the churn really happened (whether a leaver was still owed an update, and so counts
    # as "left", depends on timing: counting the leavers does not)
    assert result.departed > 0 and pairs["expected"] > 1000
    assert result.rows_left == 0  # vanished clients' rows went on their 410
    assert result.fds[1] == result.fds[0]
    assert result.threads[1] == result.threads[0]
    assert len(result.rows) >= 2 and all(r["rows"] <= 40 + 1 for r in result.rows)
