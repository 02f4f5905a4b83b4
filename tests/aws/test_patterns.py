"""Event patterns: validation, matching, and a cross-check against moto's matcher.

AWS pages this module checks:

- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from fanoutsim.aws.patterns import (
    filter_criteria_matches,
    matches,
    parse_filter_criteria,
    validate_pattern,
)
from fanoutsim.errors import ConfigError, InvalidEventPattern
from tests.aws.records import make_record

FLIGHT = {
    "source": "flights.operations",
    "detail-type": "FlightStatusChanged",
    "detail": {
        "flightId": "BA123",
        "status": "DELAYED",
        "delayMinutes": 45,
        "onTime": False,
        "gate": None,
        "tags": ["long-haul", "star"],
        "legs": [{"to": "CDG"}, {"to": "LHR"}],
        "crew": {"captain": "Ada"},
        "empty": [],
        "ip": "10.1.2.3",
        "note": "gate*change",
    },
}

# (pattern, expected, does moto agree?)
CASES: list[tuple[dict[str, Any], bool, bool]] = [
    ({"source": ["flights.operations"]}, True, True),
    ({"source": ["Flights.Operations"]}, False, True),
    ({"source": ["other", "flights.operations"]}, True, True),
    ({"detail": {"status": ["DELAYED"]}, "source": ["nope"]}, False, True),
    ({"detail": {"missing": ["x"]}}, False, True),
    ({"detail": {"tags": ["star"]}}, True, True),
    ({"detail": {"delayMinutes": [45.0]}}, True, True),
    ({"detail": {"delayMinutes": ["45"]}}, False, True),
    ({"detail": {"onTime": [False]}}, True, True),
    ({"detail": {"onTime": [0]}}, False, False),  # moto: 0 == False
    ({"detail": {"gate": [None]}}, True, True),
    ({"detail": {"missing": [None]}}, False, True),
    ({"detail": {"crew": ["Ada"]}}, False, True),
    ({"detail": {"crew": {"captain": ["Ada"]}}}, True, True),
    ({"detail": {"legs": {"to": ["LHR"]}}}, True, False),  # moto does not look into arrays
    ({"detail": {"flightId": [{"prefix": "BA"}]}}, True, True),
    ({"detail": {"flightId": [{"prefix": "ba"}]}}, False, True),
    ({"detail": {"flightId": [{"prefix": {"equals-ignore-case": "ba"}}]}}, True, True),
    ({"detail": {"delayMinutes": [{"prefix": "4"}]}}, False, True),
    ({"detail": {"flightId": [{"suffix": "123"}]}}, True, True),
    ({"detail": {"flightId": [{"suffix": {"equals-ignore-case": "X123"}}]}}, False, True),
    ({"detail": {"status": [{"equals-ignore-case": "delayed"}]}}, True, True),
    ({"detail": {"status": [{"anything-but": "ON_TIME"}]}}, True, True),
    ({"detail": {"status": [{"anything-but": ["DELAYED", "CANCELLED"]}]}}, False, True),
    ({"detail": {"status": [{"anything-but": {"prefix": "DEL"}}]}}, False, True),
    ({"detail": {"delayMinutes": [{"anything-but": [10, 20]}]}}, True, True),
    ({"detail": {"missing": [{"anything-but": "x"}]}}, False, True),
    ({"detail": {"delayMinutes": [{"numeric": [">", 0, "<=", 45]}]}}, True, True),
    ({"detail": {"delayMinutes": [{"numeric": [">", 45]}]}}, False, True),
    ({"detail": {"delayMinutes": [{"numeric": ["=", 45]}]}}, True, True),
    ({"detail": {"flightId": [{"numeric": [">", 0]}]}}, False, True),
    ({"detail": {"gate": [{"exists": True}]}}, True, True),
    ({"detail": {"missing": [{"exists": True}]}}, False, True),
    ({"detail": {"missing": [{"exists": False}]}}, True, True),
    ({"detail": {"status": [{"exists": False}]}}, False, True),
    ({"detail": {"crew": [{"exists": True}]}}, False, True),  # objects are not leaves
    ({"detail": {"crew": [{"exists": False}]}}, True, True),
    ({"detail": {"empty": [{"exists": False}]}}, True, False),  # moto: [] exists
    ({"detail": {"flightId": [{"wildcard": "BA*3"}]}}, True, True),
    ({"detail": {"flightId": [{"wildcard": "BA*4"}]}}, False, True),
    ({"detail": {"note": [{"wildcard": "gate\\*change"}]}}, True, True),
    ({"detail": {"flightId": [{"wildcard": "BA\\*"}]}}, False, True),
    ({"detail": {"ip": [{"cidr": "10.0.0.0/8"}]}}, True, True),
    ({"detail": {"ip": [{"cidr": "192.168.0.0/16"}]}}, False, True),
    ({"$or": [{"source": ["x"]}, {"detail": {"status": ["DELAYED"]}}]}, True, True),
    ({"$or": [{"source": ["x"]}, {"detail": {"status": ["ON_TIME"]}}]}, False, True),
    ({"detail": {"$or": [{"gate": ["A1"]}, {"tags": ["star"]}]}}, True, True),
]


@pytest.mark.parametrize(("pattern", "expected", "moto_agrees"), CASES)
def test_matching_table(pattern: dict[str, Any], expected: bool, moto_agrees: bool) -> None:
    validate_pattern(pattern)
    assert matches(pattern, FLIGHT) is expected
    moto_says = EventPattern.load(json.dumps(pattern)).matches_event(FLIGHT)
    assert (moto_says == expected) is moto_agrees


def test_unknown_operator_matches_in_moto_but_is_rejected_here() -> None:
    pattern = {"source": [{"foo": 1}]}
    assert EventPattern.load(json.dumps(pattern)).matches_event(FLIGHT)
    with pytest.raises(InvalidEventPattern, match="foo"):
        validate_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "not an object",
        ["source"],
        {"source": "flights"},
        {"source": 5},
        {"source": []},
        {"detail": {}},
        {"source": [["nested"]]},
        {"source": [{"foo": 1}]},
        {"source": [{"prefix": "a", "suffix": "b"}]},
        {"source": [{}]},
        {"source": [{"prefix": 5}]},
        {"source": [{"prefix": {"foo": "a"}}]},
        {"source": [{"suffix": ["a"]}]},
        {"source": [{"equals-ignore-case": 1}]},
        {"n": [{"numeric": ["!=", 5]}]},
        {"n": [{"numeric": [">", 5, "<"]}]},
        {"n": [{"numeric": [">", "5"]}]},
        {"n": [{"numeric": [">", True]}]},
        {"n": [{"numeric": [">", 1, ">=", 2]}]},
        {"n": [{"numeric": [">", 5, "<", 5]}]},
        {"n": [{"numeric": ["=", 1, "<", 5]}]},
        {"n": [{"numeric": [">", 6e9]}]},
        {"n": [{"numeric": "> 5"}]},
        {"n": [{"exists": "true"}]},
        {"n": [{"anything-but": []}]},
        {"n": [{"anything-but": ["a", 1]}]},
        {"n": [{"anything-but": None}]},
        {"n": [{"anything-but": {"numeric": [">", 1]}}]},
        {"n": [{"wildcard": "a**b"}]},
        {"n": [{"wildcard": 3}]},
        {"n": [{"cidr": "10.0.0.0/33"}]},
        {"$or": {"a": ["x"]}},
        {"$or": []},
        {"$or": [{"a": ["x"]}, "b"]},
        {"$or": [{"a": ["x"]}, {}]},
    ],
)
def test_invalid_patterns_are_rejected(pattern: Any) -> None:
    with pytest.raises(InvalidEventPattern, match="Event pattern is not valid"):
        validate_pattern(pattern)


def test_non_object_events_never_match() -> None:
    assert not matches({"a": ["x"]}, ["x"])  # type: ignore[arg-type]


def test_filter_criteria_or_up_to_five() -> None:
    insert, modify = make_record(1, "INSERT"), make_record(2, "MODIFY", status="DELAYED")
    delayed = {"dynamodb": {"NewImage": {"status": {"S": ["DELAYED"]}}}}
    inserts = {"eventName": ["INSERT"]}
    assert filter_criteria_matches([], modify)
    assert filter_criteria_matches([delayed, inserts], insert)
    assert filter_criteria_matches([delayed, inserts], modify)
    assert not filter_criteria_matches([delayed], insert)
    with pytest.raises(ConfigError):
        filter_criteria_matches([inserts] * 6, insert)


def test_parse_filter_criteria() -> None:
    criteria = {"Filters": [{"Pattern": json.dumps({"eventName": ["MODIFY"]})}]}
    assert parse_filter_criteria(criteria) == ({"eventName": ["MODIFY"]},)
    assert parse_filter_criteria({}) == ()
    with pytest.raises(InvalidEventPattern):
        parse_filter_criteria({"Filters": [{"Pattern": "{bad"}]})
    with pytest.raises(InvalidEventPattern):
        parse_filter_criteria({"Filters": [{"Pattern": json.dumps({"eventName": "MODIFY"})}]})
    with pytest.raises(ConfigError):
        parse_filter_criteria({"Filters": [{"Pattern": "{}"}] * 6})
