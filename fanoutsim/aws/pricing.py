"""The price table and the pure function that turns metered usage into dollars.

Prices live in a TOML data file (``fanoutsim/data/prices.toml`` by default), never in code,
and every entry names its region, source and as-of date so that every dollar figure shown
to a user can say where it comes from. :func:`cost_of` is shared by the virtual-time model
and the live simulator's report: both describe what they did as a :class:`Usage` (monthly
or per-update volumes in billing units) and get back USD per service.

Billing units follow AWS metering: WebSocket messages in 32 KB units, EventBridge events in
64 KB chunks, DynamoDB writes in 1 KB write units and reads in 4 KB read units (half a unit
when eventually consistent). The helpers at the end of this module do those conversions.
"""

from __future__ import annotations

import datetime
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from fanoutsim.datafiles import read_toml
from fanoutsim.errors import ConfigError, DataFileError

__all__ = [
    "ARCHITECTURES",
    "BASES",
    "DEFAULT_PRICES_PATH",
    "DYNAMODB_READ_UNIT_BYTES",
    "DYNAMODB_WRITE_UNIT_BYTES",
    "PRICED_SERVICES",
    "REQUIRED_PRICES",
    "SERVICES",
    "Price",
    "PriceTable",
    "Tier",
    "Usage",
    "cost_of",
    "dynamodb_read_units",
    "dynamodb_write_units",
    "load_prices",
    "normalise_architecture",
]

#: The services a cost breakdown of Pattern #3 reports, in display order.
SERVICES: Final = ("apigateway", "lambda", "dynamodb", "eventbridge", "kinesis")

#: Every service a price entry may name: Pattern #3's and those of the other push patterns
#: that ``fanoutsim compare`` prices (:mod:`fanoutsim.model.patterns`).
PRICED_SERVICES: Final = (
    *SERVICES,
    "appsync",
    "iot",
    "stepfunctions",
    "pipes",
    "datatransfer",
)

#: How sure a figure is, from the surest: what each price (and quota) entry's ``basis``
#: says. ``list price`` is read on the AWS page named; ``secondary`` is another source
#: quoting or deriving it; ``assumption`` is fanoutsim's own estimate, to be replaced.
BASES: Final = ("list price", "published quota", "published measurement", "secondary", "assumption")

#: Lambda architectures with a duration price.
ARCHITECTURES: Final = ("x86_64", "arm64")

#: Other spellings accepted for an architecture.
_ARCH_ALIASES: Final = {"x86": "x86_64", "x86-64": "x86_64", "amd64": "x86_64", "arm": "arm64"}

#: Price entries a price file must define (the keys of its ``[prices.*]`` tables).
REQUIRED_PRICES: Final = (
    "apigateway_websocket_messages",
    "apigateway_connection_minutes",
    "lambda_requests",
    "lambda_gb_seconds_x86_64",
    "lambda_gb_seconds_arm64",
    "dynamodb_write_request_units",
    "dynamodb_read_request_units",
    "eventbridge_custom_events",
)

DEFAULT_PRICES_PATH: Final = Path(__file__).resolve().parent.parent / "data" / "prices.toml"

DYNAMODB_WRITE_UNIT_BYTES: Final = 1024
DYNAMODB_READ_UNIT_BYTES: Final = 4 * 1024


@dataclass(frozen=True)
class Tier:
    """One price band: ``usd`` per ``per`` units for cumulative volume up to ``up_to``."""

    up_to: float
    usd: float


@dataclass(frozen=True)
class Price:
    """One priced meter (e.g. WebSocket messages) with its provenance."""

    key: str
    service: str
    unit: str
    per: float
    tiers: tuple[Tier, ...]
    region: str
    source: str
    as_of: str
    #: How the figure is known (one of :data:`BASES`).
    basis: str = "list price"
    #: Units a month the AWS Free Tier gives at no charge (0 when it gives none).
    free_units: float = 0.0

    def charge(self, quantity: float, *, free_tier: bool = False) -> float:
        """USD for ``quantity`` units used in one month, walking the tiers in order;
        with ``free_tier`` the first :attr:`free_units` are not charged."""
        if quantity < 0 or not math.isfinite(quantity):
            raise ConfigError(f"{self.key}: usage must be a finite number >= 0, got {quantity}")
        if free_tier:
            quantity = max(0.0, quantity - self.free_units)
        usd, floor = 0.0, 0.0
        for tier in self.tiers:
            if quantity <= floor:
                break
            band = min(quantity, tier.up_to) - floor
            usd += band * tier.usd / self.per
            floor = tier.up_to
        return usd

    def describe(self) -> str:
        """A one-line human description, e.g. for a notebook table."""
        per = "per million" if self.per == 1_000_000 else f"per {self.per:,.0f}"
        bands, floor = [], 0.0
        for tier in self.tiers:
            if math.isfinite(tier.up_to):
                band = f" ({floor:,.0f} to {tier.up_to:,.0f} a month)"
            else:
                band = f" (above {floor:,.0f} a month)" if floor else ""
            bands.append(f"${_usd(tier.usd)} {per}{band}")
            floor = tier.up_to
        return f"{'; '.join(bands)}: {self.unit}"


def _usd(value: float) -> str:
    """A dollar amount without exponent notation and with at least two decimals."""
    text = f"{value:.10f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


@dataclass(frozen=True)
class PriceTable:
    """All prices of one file, keyed as in :data:`REQUIRED_PRICES`."""

    region: str
    currency: str
    source: str
    as_of: str
    path: Path
    prices: Mapping[str, Price]

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]

    def describe(self) -> str:
        """One line naming region, date and source, to print next to any dollar figure."""
        return f"{self.region} {self.currency} prices as of {self.as_of} ({self.source})"

    def rows(self) -> list[dict[str, str]]:
        """One row per price with service, key, price text, source and as-of date."""
        return [
            {
                "service": p.service,
                "price": p.key,
                "usd": p.describe(),
                "region": p.region,
                "basis": p.basis,
                "source": p.source,
                "as_of": p.as_of,
            }
            for p in self.prices.values()
        ]


@dataclass(frozen=True)
class Usage:
    """Metered volumes in billing units, for one update, one run or one month.

    ``websocket_messages`` is already in 32 KB units and ``eventbridge_events`` in 64 KB
    chunks; ``dynamodb_read_units`` counts request units as billed (an eventually consistent
    4 KB read is 0.5). ``architecture`` selects the GB-s price.
    """

    websocket_messages: float = 0.0
    connection_minutes: float = 0.0
    lambda_requests: float = 0.0
    lambda_gb_seconds: float = 0.0
    architecture: str = "x86_64"
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0
    eventbridge_events: float = 0.0
    #: The seed's Kinesis feed: DynamoDB's change data capture units (one per KB of the
    #: larger image, as a write unit) and the on-demand stream's hours and GB in and out.
    dynamodb_cdc_units: float = 0.0
    kinesis_stream_hours: float = 0.0
    kinesis_gb_in: float = 0.0
    kinesis_gb_out: float = 0.0

    def scaled(self, factor: float) -> Usage:
        """Every volume multiplied by ``factor`` (e.g. per update -> per month)."""
        values = {f.name: getattr(self, f.name) * factor for f in _VOLUME_FIELDS}
        return Usage(architecture=self.architecture, **values)

    def __add__(self, other: Usage) -> Usage:
        if normalise_architecture(self.architecture) != normalise_architecture(other.architecture):
            raise ConfigError("cannot add Usage of two Lambda architectures")
        values = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in _VOLUME_FIELDS}
        return Usage(architecture=self.architecture, **values)

    def as_dict(self) -> dict[str, float | str]:
        """The fields as a plain dict (JSON friendly)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


_VOLUME_FIELDS: Final = tuple(f for f in fields(Usage) if f.name != "architecture")


def cost_of(usage: Usage, prices: PriceTable) -> dict[str, float]:
    """USD per service (:data:`SERVICES`) and ``total``.

    Tiers apply to the volumes as given, so pass monthly volumes to get tiered monthly
    prices (the message tier at 1 billion is a monthly threshold). The Kinesis feed's
    prices are needed only when the usage has some (a price file of the default stack may
    leave them out).
    """
    arch = normalise_architecture(usage.architecture)

    def optional(key: str, quantity: float) -> float:
        if not quantity:
            return 0.0
        if key not in prices.prices:
            raise DataFileError(
                f"{prices.path}: no price entry {key!r}, needed for the Kinesis feed"
            )
        return prices[key].charge(quantity)

    cost = {
        "apigateway": prices["apigateway_websocket_messages"].charge(usage.websocket_messages)
        + prices["apigateway_connection_minutes"].charge(usage.connection_minutes),
        "lambda": prices["lambda_requests"].charge(usage.lambda_requests)
        + prices[f"lambda_gb_seconds_{arch}"].charge(usage.lambda_gb_seconds),
        "dynamodb": prices["dynamodb_write_request_units"].charge(usage.dynamodb_write_units)
        + prices["dynamodb_read_request_units"].charge(usage.dynamodb_read_units)
        + optional("dynamodb_cdc_units", usage.dynamodb_cdc_units),
        "eventbridge": prices["eventbridge_custom_events"].charge(usage.eventbridge_events),
        "kinesis": optional("kinesis_stream_hours", usage.kinesis_stream_hours)
        + optional("kinesis_data_in_gb", usage.kinesis_gb_in)
        + optional("kinesis_data_out_gb", usage.kinesis_gb_out),
    }
    cost["total"] = sum(cost[s] for s in SERVICES)
    return cost


def normalise_architecture(name: str) -> str:
    """``x86_64`` or ``arm64`` for any accepted spelling (``x86``, ``arm``...)."""
    arch = _ARCH_ALIASES.get(name.lower(), name.lower())
    if arch not in ARCHITECTURES:
        raise ConfigError(
            f"unknown Lambda architecture {name!r}; use one of {', '.join(ARCHITECTURES)}"
        )
    return arch


# ---------------------------------------------------------------------------- loading


def load_prices(path: str | Path | None = None) -> PriceTable:
    """Read and validate a price file (default: the packaged ``prices.toml``, read once per
    process: a report never touches the disk, so it still works when the process has run
    out of file descriptors).

    Raises :class:`~fanoutsim.errors.DataFileError` if the file is missing, is not TOML,
    lacks a required price, or has an entry without ``source`` and ``as_of``.
    """
    if path is None:
        return _packaged_prices()
    return _read_prices(Path(path))


@functools.cache
def _packaged_prices() -> PriceTable:
    return _read_prices(DEFAULT_PRICES_PATH)


def _read_prices(file: Path) -> PriceTable:
    doc = read_toml(file, "price file")
    where = f"price file {file}"
    top = {k: _text(doc, k, where) for k in ("source", "as_of", "region", "currency")}
    table = doc.get("prices")
    if not isinstance(table, dict) or not table:
        raise DataFileError(f"{where}: no [prices.<name>] entries")
    missing = [k for k in REQUIRED_PRICES if k not in table]
    if missing:
        raise DataFileError(f"{where}: missing price entries {', '.join(missing)}")
    prices = {key: _price(key, entry, where) for key, entry in table.items()}
    return PriceTable(
        region=top["region"],
        currency=top["currency"],
        source=top["source"],
        as_of=top["as_of"],
        path=file,
        prices=MappingProxyType(prices),
    )


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, datetime.date):  # a bare TOML date such as as_of = 2025-01-01
        return value.isoformat()
    raise DataFileError(f"{where}: '{key}' is required (every price must say where it comes from)")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise DataFileError(f"{what} must be a number >= 0, got {value!r}")
    return float(value)


def _price(key: str, entry: Any, where: str) -> Price:
    where = f"{where}, entry [prices.{key}]"
    if not isinstance(entry, dict):
        raise DataFileError(f"{where}: must be a table")
    service = _text(entry, "service", where)
    if service not in PRICED_SERVICES:
        raise DataFileError(f"{where}: service must be one of {', '.join(PRICED_SERVICES)}")
    basis = entry.get("basis", "list price")
    if basis not in BASES:
        raise DataFileError(f"{where}: basis must be one of {', '.join(BASES)}")
    raw_tiers = entry.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise DataFileError(f"{where}: 'tiers' must be a non-empty list")
    tiers: list[Tier] = []
    for i, raw in enumerate(raw_tiers):
        if not isinstance(raw, dict) or "usd" not in raw:
            raise DataFileError(f"{where}: tier {i} needs 'usd'")
        last = i == len(raw_tiers) - 1
        up_to = math.inf if last else _number(raw.get("up_to"), f"{where}: tier {i} up_to")
        if last and "up_to" in raw:
            raise DataFileError(f"{where}: the last tier must not have 'up_to' (it is unbounded)")
        if tiers and up_to <= tiers[-1].up_to:
            raise DataFileError(f"{where}: tier 'up_to' values must increase")
        tiers.append(Tier(up_to=up_to, usd=_number(raw["usd"], f"{where}: tier {i} usd")))
    per = _number(entry.get("per", 1), f"{where}: per")
    if per == 0:
        raise DataFileError(f"{where}: 'per' must be > 0")
    return Price(
        key=key,
        service=service,
        unit=_text(entry, "unit", where),
        per=per,
        tiers=tuple(tiers),
        region=_text(entry, "region", where),
        source=_text(entry, "source", where),
        as_of=_text(entry, "as_of", where),
        basis=basis,
        free_units=_number(entry.get("free_tier", 0), f"{where}: free_tier"),
    )


# ---------------------------------------------------------------------------- metering units


def dynamodb_write_units(item_bytes: float) -> int:
    """Write request units for writing one item of ``item_bytes`` (1 KB units, min 1)."""
    return max(1, math.ceil(item_bytes / DYNAMODB_WRITE_UNIT_BYTES))


def dynamodb_read_units(bytes_read: float, *, strongly_consistent: bool = False) -> float:
    """Read request units for one read request returning ``bytes_read`` (4 KB units, min 1).

    Scan and Query sum the sizes of all items a page returns before rounding up; an
    eventually consistent read (the default for Scan, and the only kind on a GSI) costs
    half.
    """
    units = max(1, math.ceil(bytes_read / DYNAMODB_READ_UNIT_BYTES))
    return float(units) if strongly_consistent else units / 2
