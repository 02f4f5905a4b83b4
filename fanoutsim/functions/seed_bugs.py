"""The seed's defects a deployment reproduces on purpose, named in ``SEED_BUGS`` (comma
separated; none by default), so a lesson can switch each one on:

- ``unpaginated-scan``: the stream handler reads one Scan page of connections;
- ``disconnect-wired-to-connect``: the template wires ``$disconnect`` to the connect handler
  (the stack applies it in its routes);
- ``unordered-status-writes``: the view model takes every status write as it comes, so a
  late delivery of an older event overwrites a newer one.
"""

from __future__ import annotations

import os
from typing import Final

from fanoutsim.errors import ConfigError

__all__ = ["SEED_BUGS", "UNORDERED_WRITES", "UNPAGINATED_SCAN", "active"]

UNPAGINATED_SCAN: Final = "unpaginated-scan"
UNORDERED_WRITES: Final = "unordered-status-writes"
SEED_BUGS: Final = (UNPAGINATED_SCAN, "disconnect-wired-to-connect", UNORDERED_WRITES)


def active() -> frozenset[str]:
    """The defects named in ``SEED_BUGS`` (unknown names are a configuration error)."""
    named = {b.strip() for b in os.environ.get("SEED_BUGS", "").split(",") if b.strip()}
    unknown = named - set(SEED_BUGS)
    if unknown:
        raise ConfigError(f"SEED_BUGS names unknown bugs: {', '.join(sorted(unknown))}")
    return frozenset(named)
