"""The price table: loading, validation, tiers and the per-service breakdown."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from fanoutsim.aws import pricing
from fanoutsim.aws.apigw import message_units as websocket_message_units
from fanoutsim.aws.eventbridge import event_units as eventbridge_event_units
from fanoutsim.aws.pricing import (
    REQUIRED_PRICES,
    SERVICES,
    PriceTable,
    Usage,
    cost_of,
    dynamodb_read_units,
    dynamodb_write_units,
    load_prices,
)
from fanoutsim.errors import ConfigError, DataFileError

DEFAULT = Path(__file__).resolve().parents[2] / "fanoutsim" / "data" / "prices.toml"


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return load_prices()


def test_packaged_table_has_every_price_with_provenance(prices: PriceTable) -> None:
    assert set(REQUIRED_PRICES) <= set(prices.prices)
    for row in prices.rows():
        assert row["source"] and row["as_of"] and row["region"] == "us-east-1"
    assert prices.currency == "USD"


def test_published_unit_prices(prices: PriceTable) -> None:
    one: dict[str, float] = {
        "websocket_messages": 1e6,
        "connection_minutes": 1e6,
        "lambda_requests": 1e6,
        "lambda_gb_seconds": 1.0,
        "dynamodb_write_units": 1e6,
        "dynamodb_read_units": 1e6,
        "eventbridge_events": 1e6,
    }
    for field, expected in [
        ("websocket_messages", {"apigateway": 1.00}),
        ("connection_minutes", {"apigateway": 0.25}),
        ("lambda_requests", {"lambda": 0.20}),
        ("lambda_gb_seconds", {"lambda": 0.0000166667}),
        ("dynamodb_write_units", {"dynamodb": 0.625}),
        ("dynamodb_read_units", {"dynamodb": 0.125}),
        ("eventbridge_events", {"eventbridge": 1.00}),
    ]:
        cost = cost_of(Usage(**{field: one[field]}), prices)  # type: ignore[arg-type]
        for service, usd in expected.items():
            assert cost[service] == pytest.approx(usd)
        assert cost["total"] == pytest.approx(sum(expected.values()))


def test_arm64_duration_is_cheaper(prices: PriceTable) -> None:
    x86 = cost_of(Usage(lambda_gb_seconds=1e6), prices)["lambda"]
    arm = cost_of(Usage(lambda_gb_seconds=1e6, architecture="arm64"), prices)["lambda"]
    assert arm == pytest.approx(13.3334) and x86 == pytest.approx(16.6667)
    assert cost_of(Usage(lambda_gb_seconds=1e6, architecture="x86"), prices)["lambda"] == x86
    with pytest.raises(ConfigError):
        cost_of(Usage(architecture="sparc"), prices)


def test_message_tier_applies_above_one_billion_a_month(prices: PriceTable) -> None:
    cost = cost_of(Usage(websocket_messages=3e9), prices)["apigateway"]
    assert cost == pytest.approx(1_000 * 1.00 + 2_000 * 0.80)
    # below the threshold every message costs the first-tier price
    assert cost_of(Usage(websocket_messages=5e8), prices)["apigateway"] == pytest.approx(500)


def test_breakdown_has_every_service_and_total(prices: PriceTable) -> None:
    usage = Usage(1e6, 1e6, 1e6, 1e6, "x86_64", 1e6, 1e6, 1e6)
    cost = cost_of(usage, prices)
    assert list(cost) == [*SERVICES, "total"]
    assert cost["total"] == pytest.approx(sum(cost[s] for s in SERVICES))


def test_usage_arithmetic() -> None:
    u = Usage(websocket_messages=2, lambda_requests=3)
    assert (u + u).websocket_messages == 4
    assert u.scaled(10).lambda_requests == 30
    with pytest.raises(ConfigError):
        u + Usage(architecture="arm64")


def test_negative_usage_is_rejected(prices: PriceTable) -> None:
    with pytest.raises(ConfigError):
        cost_of(Usage(websocket_messages=-1), prices)
    with pytest.raises(ConfigError):
        cost_of(Usage(eventbridge_events=math.nan), prices)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_price_without_source_is_rejected(tmp_path: Path) -> None:
    text = DEFAULT.read_text(encoding="utf-8")
    start = text.index("[prices.lambda_requests]")
    end = text.index("[prices.lambda_gb_seconds_x86_64]")
    section = "\n".join(
        line for line in text[start:end].splitlines() if not line.startswith("source")
    )
    path = _write(tmp_path, text[:start] + section + "\n\n" + text[end:])
    with pytest.raises(DataFileError, match=r"lambda_requests.*'source' is required"):
        load_prices(path)


def test_price_without_as_of_is_rejected(tmp_path: Path) -> None:
    text = DEFAULT.read_text(encoding="utf-8").replace('as_of = "2026-11-28"\n', "", 1)
    with pytest.raises(DataFileError, match="as_of"):
        load_prices(_write(tmp_path, text))


def test_user_price_file_is_used(tmp_path: Path) -> None:
    text = DEFAULT.read_text(encoding="utf-8").replace(
        "tiers = [{ usd = 1.00 }]", "tiers = [{ usd = 2.00 }]"
    )  # EventBridge is the only single-tier $1.00 entry
    prices = load_prices(_write(tmp_path, text))
    assert cost_of(Usage(eventbridge_events=1e6), prices)["eventbridge"] == pytest.approx(2.0)


def test_a_toml_date_is_accepted_as_as_of(tmp_path: Path) -> None:
    text = DEFAULT.read_text(encoding="utf-8").replace('as_of = "2026-11-28"', "as_of = 2026-11-28")
    assert load_prices(_write(tmp_path, text)).as_of == "2026-11-28"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not [toml", "not valid TOML"),
        ('source = "x"\nas_of = "y"\nregion = "r"\ncurrency = "USD"\n', "no \\[prices"),
    ],
)
def test_broken_files_raise_data_file_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataFileError, match=message):
        load_prices(_write(tmp_path, text))


def test_missing_file_and_missing_entry(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read"):
        load_prices(tmp_path / "nope.toml")
    text = DEFAULT.read_text(encoding="utf-8").replace(
        "[prices.eventbridge_custom_events]", "[prices.something_else]"
    )
    with pytest.raises(DataFileError, match="missing price entries eventbridge_custom_events"):
        load_prices(_write(tmp_path, text))


def test_tiers_must_increase(tmp_path: Path) -> None:
    text = DEFAULT.read_text(encoding="utf-8").replace(
        "{ up_to = 15_000_000_000, usd = 0.0000150000 }",
        "{ up_to = 1_000, usd = 0.0000150000 }",
    )
    with pytest.raises(DataFileError, match="increase"):
        load_prices(_write(tmp_path, text))


def test_metering_units() -> None:
    assert websocket_message_units(1024) == 1
    assert websocket_message_units(32 * 1024 + 1) == 2
    assert eventbridge_event_units(64 * 1024) == 1
    assert eventbridge_event_units(64 * 1024 + 1) == 2
    assert dynamodb_write_units(1024) == 1 and dynamodb_write_units(1025) == 2
    assert dynamodb_read_units(1) == 0.5
    assert dynamodb_read_units(1 << 20) == 128.0
    assert dynamodb_read_units(4097, strongly_consistent=True) == 2.0


def test_table_describes_its_provenance(prices: PriceTable) -> None:
    text = prices.describe()
    assert "us-east-1" in text and prices.as_of in text and "pricing" in text


def test_a_report_reads_no_file_so_it_works_out_of_descriptors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With every descriptor taken, opening prices.toml fails with EMFILE: the packaged
    prices are read once per process, never at report time."""
    from fanoutsim.simulator import Simulator

    with Simulator() as sim:
        sim.clients.add(1)
        sim.flights.load()

        def out_of_descriptors(*_: object, **__: object) -> None:
            raise OSError(24, "Too many open files")

        monkeypatch.setattr(pricing, "read_toml", out_of_descriptors)
        monkeypatch.setattr("builtins.open", out_of_descriptors)
        report = sim.report().to_dict()
    assert report["cost_usd"]["total"] > 0 and report["deliveries"]["missing"] == 0
