"""Command-line value types: each refuses bad input with a plain sentence, which argparse
prints after the option's name (``argument --clients: must be a whole number, got 'abc'``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["count", "port", "positive", "seconds", "whole_at_least"]


def _number(text: str, kind: Callable[[str], float], what: str) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def whole_at_least(low: int) -> Callable[[str], int]:
    """A whole number of at least ``low``."""

    def convert(text: str) -> int:
        value = int(_number(text, int, "a whole number"))
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return convert


positive = whole_at_least(1)
count = whole_at_least(0)


def seconds(text: str) -> float:
    """A number of seconds above 0."""
    value = _number(text, float, "a number of seconds")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def port(text: str) -> int:
    """0 (any free port) or an unprivileged port."""
    value = int(_number(text, int, "a port number"))
    if not (value == 0 or 1024 <= value <= 65533):
        raise argparse.ArgumentTypeError(f"must be 0 (any free port) or 1024-65533, got {value}")
    return value
