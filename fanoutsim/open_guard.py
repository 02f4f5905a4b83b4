"""The guard on every facade verb that reaches AWS or the sockets: on a closed simulator it
would otherwise reach real AWS, so it is refused with a sentence instead."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from fanoutsim.errors import SimulatorError

__all__ = ["Openable", "open_only"]

T = TypeVar("T")
P = ParamSpec("P")


class Openable(Protocol):
    """Anything that can say whether its simulator is still open."""

    @property
    def closed(self) -> bool: ...


S = TypeVar("S", bound=Openable)


def open_only(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Refuse the call once the simulator is closed."""

    @functools.wraps(method)
    def guarded(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.closed:
            raise SimulatorError(f"the simulator is closed: {method.__name__}() needs an open one")
        return method(self, *args, **kwargs)

    return guarded
