"""Hand arithmetic shared by the pattern tests: the test reads prices from the price file
and counts the usage itself, so a model's own counting is what is checked."""

from __future__ import annotations

import math

import pytest

from fanoutsim.aws.pricing import PriceTable, load_prices
from fanoutsim.model.compare import context
from fanoutsim.model.patterns.base import Context
from fanoutsim.model.scenario import MINUTES_PER_MONTH, stack_memory
from fanoutsim.timing.profiles import load_profile

MONTH = MINUTES_PER_MONTH


@pytest.fixture(scope="session")
def ctx() -> Context:
    return context()


@pytest.fixture(scope="session")
def prices() -> PriceTable:
    return load_prices()


def usd(prices: PriceTable, key: str, quantity: float) -> float:
    return prices[key].charge(quantity)


def ingest_by_hand(prices: PriceTable, updates_per_minute: float) -> float:
    """PutEvents, the view-model function and its write, for 1 KB updates."""
    d = updates_per_minute * MONTH
    write_ms = math.ceil(load_profile("aws").distribution("dynamodb_write").mean())
    gb_s = d * write_ms * stack_memory()["flight_events"] / 1024 / 1000
    return (
        usd(prices, "eventbridge_custom_events", d)
        + usd(prices, "lambda_requests", d)
        + usd(prices, "lambda_gb_seconds_x86_64", gb_s)
        + usd(prices, "dynamodb_write_request_units", d)
    )


def stream_function_by_hand(prices: PriceTable, invocations: float, call_ms: float) -> float:
    gb_s = invocations * max(1, round(call_ms)) * stack_memory()["stream_fanout"] / 1024 / 1000
    return usd(prices, "lambda_requests", invocations) + usd(
        prices, "lambda_gb_seconds_x86_64", gb_s
    )


def sessions(n: int) -> float:
    """Connections a month with a reconnect every 2 hours."""
    return n * MONTH / 120
