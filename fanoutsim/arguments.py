"""Command-line value types: each refuses bad input with a plain sentence, which argparse
prints after the option's name (``argument --clients: must be a whole number, got 'abc'``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "add_aws_profile",
    "add_function",
    "add_timing",
    "count",
    "port",
    "positive",
    "seconds",
    "whole_at_least",
]


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


class _Renamed(argparse.Action):
    """An old spelling that still works, with a note saying what it is now called."""

    def __init__(self, *args: Any, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(*args, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(
            f"fanoutsim: {option_string} is deprecated here; use {self.new} (same value)",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def add_timing(parser: argparse.ArgumentParser, default: str = "instant") -> None:
    """``--timing PROFILE``: the timing profile (``--profile`` still works, with a note:
    it names an AWS named profile in deploy, calibrate and teardown)."""
    parser.add_argument(
        "--timing",
        default=default,
        metavar="PROFILE",
        help=f"timing profile: instant, aws or a .toml path (default {default})",
    )
    parser.add_argument(
        "--profile", dest="timing", action=_Renamed, new="--timing", help=argparse.SUPPRESS
    )


def add_aws_profile(parser: argparse.ArgumentParser) -> None:
    """``--aws-profile NAME``: an AWS named profile (``--profile`` still works, with a note)."""
    parser.add_argument(
        "--aws-profile", metavar="NAME", help="AWS named profile (default: the environment's)"
    )
    parser.add_argument(
        "--profile",
        dest="aws_profile",
        action=_Renamed,
        new="--aws-profile",
        help=argparse.SUPPRESS,
    )


def add_function(parser: argparse.ArgumentParser) -> None:
    """``--function NAME=RUNTIME:PATH:HANDLER`` (repeatable): a user's own code in place of
    one of the stack's functions (read with ``FunctionCode.parse``)."""
    parser.add_argument(
        "--function",
        dest="functions",
        action="append",
        default=[],
        metavar="NAME=RUNTIME:PATH:HANDLER",
        help="run your own code as one of the stack's functions, e.g. "
        "stream_fanout=nodejs22.x:./fanout:index.handler (repeatable)",
    )
