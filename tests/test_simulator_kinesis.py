"""The seed's stack exactly: ``stream="kinesis"`` puts the flights table's changes into a
Kinesis data stream read once a second, and ``preset="seed"`` applies every setting of the
seed's templates (``flight-status/sam/shared.yaml`` and ``3-apigw.yaml``) at once.

https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (the event, the once-a-second
poll, ReportBatchItemFailures keyed by sequence number),
https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html (retries until
the record expires by default), https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html,
https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html (an on-demand
stream starts with 4 MB/s of writes, a shard takes 1 MB/s: four shards),
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecord.html (a key's shard)
"""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from fanoutsim import provision, stack
from fanoutsim.errors import ConfigError
from fanoutsim.sample_flights import scripted_day
from fanoutsim.simulator import Simulator
from tests.test_simulator_functions import NODE_EXAMPLE, require_node_example
from tests.test_simulator_parallel import Overlap


def _day(sim: Simulator) -> None:
    sim.clients.add(3)
    sim.flights.load()
    sim.wait("delivered", timeout=60)
    sim.flights.publish("FS101", "BOARDING", "gate 4")
    sim.wait("delivered", timeout=60)
    outcome = sim.report().deliveries
    assert outcome.expected == outcome.delivered == 3 * 7


def test_changes_go_through_kinesis_and_arrive_in_its_shape() -> None:
    with Simulator(stream="kinesis") as sim:
        _day(sim)
        records = sim.stream.records()
        assert sim.stream.source == "kinesis"
    assert records and all(r["eventSource"] == "aws:kinesis" for r in records)
    change = json.loads(base64.b64decode(records[0]["kinesis"]["data"]))
    assert change["eventSource"] == "aws:dynamodb" and change["tableName"] == stack.FLIGHTS_TABLE
    assert records[0]["kinesis"]["partitionKey"] == change["dynamodb"]["Keys"]["flightId"]["S"]


def test_the_mapping_reads_kinesis_once_a_second_and_dynamodb_four_times() -> None:
    with Simulator(stream="kinesis", profile="aws") as kinesis:
        assert kinesis.stream.poll_interval_s == 1.0
    with Simulator(profile="aws") as dynamodb:
        assert dynamodb.stream.poll_interval_s == 0.25


def test_the_seed_preset_applies_each_of_the_seeds_settings() -> None:
    with Simulator(preset="seed") as sim:
        options = sim.options
        specs = options.function_specs()
        _day(sim)
        row = sim.connections()[0]
    assert options.stream == "kinesis" and options.kinesis_shards == 4
    assert options.mapping == stack.SEED_KINESIS_MAPPING
    assert options.mapping.batch_size == 1 and options.mapping.maximum_retry_attempts == -1
    assert options.routes == "seed"
    assert all(s.memory_mb == 256 and s.timeout_s == 10.0 for s in specs.values())
    assert options.connection_ttl_s == 3600
    assert int(row["ttl"]) - int(row["connectedAt"]) // 1000 == 3600


def test_a_setting_given_by_name_wins_over_the_preset() -> None:
    with Simulator(preset="seed", connection_ttl_s=600, routes="fanoutsim") as sim:
        assert sim.options.connection_ttl_s == 600 and sim.options.routes == "fanoutsim"
        assert sim.options.stream == "kinesis"


def test_unknown_streams_and_presets_are_refused() -> None:
    with pytest.raises(ConfigError, match="stream must be one of dynamodb, kinesis"):
        Simulator(stream="sqs")
    with pytest.raises(ConfigError, match="unknown preset 'prod'; known: seed"):
        Simulator(preset="prod")


def test_a_seed_style_node_handler_runs_unchanged_on_the_seeds_stack() -> None:
    """SDK v3, a Scan, Promise.all over PostToConnectionCommand, a Kinesis batch."""
    from fanoutsim import FunctionCode

    require_node_example()
    code = FunctionCode("nodejs22.x", NODE_EXAMPLE, "index.handler")
    with Simulator(preset="seed", functions={"stream_fanout": code}) as sim:
        _day(sim)
        runs = [i for i in sim.invocations() if i.function == "stream_fanout"]
    assert runs and all(i.ok for i in runs)
    assert all(r["eventSource"] == "aws:kinesis" for r in runs[-1].event["Records"])


def test_the_live_run_meters_the_kinesis_feed() -> None:
    """Each change is one record in (rounded up to 1 KB) and its change data capture units;
    the mapping's reads are data out; the stream is billed by the hour it exists
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/kds.html)."""
    with Simulator(stream="kinesis") as sim:
        _day(sim)
        sim.wait("idle", timeout=60)
        report = sim.report().to_dict()
        records = sim.stream.records()
    kinesis = report["kinesis"]
    changes = 6 + 1  # six flights scheduled, one status update
    assert kinesis["records"] == changes and kinesis["cdc_units"] >= changes
    assert kinesis["bytes_in"] % 1024 == 0 and kinesis["bytes_in"] >= kinesis["bytes_out"]
    assert kinesis["bytes_out"] == sum(len(base64.b64decode(r["kinesis"]["data"])) for r in records)
    assert 0 < kinesis["stream_hours"] < 1
    assert report["cost_usd"]["kinesis"] > 0
    with Simulator() as plain:
        assert plain.report().to_dict()["kinesis"] == {}


@pytest.mark.parametrize(("shards", "most"), [(1, 1), (4, 2)])
def test_the_on_demand_streams_four_shards_are_read_side_by_side(shards: int, most: int) -> None:
    """One batch in flight a shard (ParallelizationFactor 1): with four shards, flights
    whose keys hash to different shards are processed at once, each still in order."""
    with Simulator(stream="kinesis", kinesis_shards=shards) as sim:
        clients = sim.clients.add(2)
        sim.flights.load()
        sim.wait("delivered", timeout=60)
        described = boto3.client("kinesis", region_name=stack.REGION).describe_stream(
            StreamName=provision.CHANGE_STREAM
        )["StreamDescription"]
        handler = Overlap(partner_s=10.0 if shards > 1 else 0.05)
        sim.replace_function("stream_fanout", handler)
        script = scripted_day()[:12]
        for flight, status, details in script:
            sim.flights.publish(flight, status, details)
        sim.wait("delivered", timeout=120)
    assert len(described["Shards"]) == shards
    assert handler.most >= most if shards > 1 else handler.most == 1
    last = {flight: status for flight, status, _ in script}
    for client in clients:
        shown = {p["airlineCode"] + p["flightNum"]: p["event"] for p in client.board.values()}
        assert all(shown[flight] == status for flight, status in last.items())


def test_a_shard_count_out_of_range_is_refused() -> None:
    with pytest.raises(ConfigError, match="kinesis_shards must be from 1 to 16"):
        Simulator(stream="kinesis", kinesis_shards=0)
