"""What a simulator is built with: one frozen, validated record of every setting.

:class:`Options` turns the settings the handlers read into the environment a template
would set (:meth:`Options.environment`), so the simulator and a deployment agree.
"""

from __future__ import annotations

import difflib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Literal

from fanoutsim import stack
from fanoutsim.addresses import is_exposed
from fanoutsim.aws.authorizer import AuthorizerConfig
from fanoutsim.aws.esm import MappingConfig
from fanoutsim.aws.lambda_functions import FunctionCode, FunctionSpec
from fanoutsim.aws.quotas import GatewayQuotas
from fanoutsim.errors import ConfigError
from fanoutsim.faults import FaultPlan
from fanoutsim.functions.stream_fanout import (
    DEFAULT_POST_ATTEMPTS,
    DEFAULT_POST_CONCURRENCY,
    MAX_POST_ATTEMPTS,
    MAX_POST_CONCURRENCY,
)
from fanoutsim.timing.profiles import TimingProfile, load_profile

__all__ = ["PRESETS", "Options", "Ports", "RestAuth", "Transport", "bind_host", "reaches_others"]

Transport = Literal["http", "in-process"]
RestAuth = Literal["none", "iam"]


def bind_host(host: str | None, room: bool) -> str:
    """Where to listen: ``host`` if given, else every interface for a room, else loopback."""
    return host or ("0.0.0.0" if room else "127.0.0.1")


def reaches_others(host: str, room: bool) -> bool:
    """Whether other devices are meant to reach a stack bound to ``host`` (a room, or a bind
    beyond loopback): then every listener checks ``Host`` and the keys are the run's own."""
    return room or is_exposed(host)


def _credentials_for(host: str, room: bool) -> tuple[str, str]:
    """The well-known testing keys on loopback; a pair made for this run otherwise."""
    if reaches_others(host, room):
        return ("AKFS" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
    return stack.DEFAULT_CREDENTIALS


@dataclass(frozen=True)
class Ports:
    """Where to listen (0: any free port)."""

    websocket: int = 0
    http: int = 0
    aws: int = 0


#: At most this many Kinesis shards (each a poller's worth of reads in one process).
MAX_KINESIS_SHARDS: Final = 16

#: Named sets of settings. ``seed``: the seed's stack setting for setting
#: (``flight-status/sam/shared.yaml`` and ``3-apigw.yaml``): changes through a Kinesis data
#: stream read one record at a time from TRIM_HORIZON with its two-part filter and retries
#: until the record expires, every function 256 MB with a 10 s timeout, connection rows
#: living an hour, and its routes (``$connect`` and ``$disconnect`` only).
PRESETS: Final[dict[str, dict[str, Any]]] = {
    "seed": {
        "stream": "kinesis",
        "mapping": stack.SEED_KINESIS_MAPPING,
        "routes": "seed",
        "timeouts": dict.fromkeys(stack.FUNCTIONS, 10.0),
        "memory": dict.fromkeys(stack.FUNCTIONS, 256),
        "connection_ttl_s": 3600,
    },
}


@dataclass(frozen=True)
class Options:
    """What a simulator is built with: every setting, declared once.

    ``Simulator(**settings)`` takes these fields by name (:meth:`of` reads the short
    forms). ``profile``: the timing profile (``"instant"``, ``"aws"`` or a
    :class:`TimingProfile`). ``transport``: how the stream handler reaches ``@connections``
    (``"http"``, or ``"in-process"`` without sockets). ``mapping``: the event source
    mapping's settings. ``seed``: the random seed of injected delays. ``routes``:
    ``"fanoutsim"`` (``subscribe``/``unsubscribe`` and ``$default``), ``"seed"`` (only
    ``$connect``/``$disconnect``, as the seed's API) or a mapping route key -> function.
    ``host`` and ``ports``: where to listen (loopback and free ports unless told
    otherwise). ``aws_endpoint``: also serve moto as an AWS endpoint for SDKs and the CLI.
    ``fanout``: ``"broadcast"`` (everyone hears every flight, as the seed) or
    ``"per-flight"`` (a flight's followers only). ``post_concurrency``: how many posts the
    stream handler keeps in flight. The rest are described where they are declared.
    """

    profile: TimingProfile
    transport: Transport = "http"
    mapping: MappingConfig = stack.DEFAULT_MAPPING
    seed: int | None = 0
    region: str = stack.REGION
    #: A shared token ``$connect`` requires in the query string (None: none required).
    connect_token: str | None = None
    host: str = "127.0.0.1"
    routes: str | Mapping[str, str] = "fanoutsim"
    ports: Ports = Ports()
    aws_endpoint: bool = False
    fanout: str = "broadcast"
    post_concurrency: int = DEFAULT_POST_CONCURRENCY
    #: Tries per post before the stream handler's record fails (the SDK's retry budget).
    post_attempts: int = DEFAULT_POST_ATTEMPTS
    #: The access key and secret the management API accepts (and the handlers sign with).
    credentials: tuple[str, str] = stack.DEFAULT_CREDENTIALS
    #: A REQUEST authorizer on ``$connect`` (None: the connection is open to all, as the
    #: seed's is), the secret its tokens are signed with, and users it answers with Deny.
    authorizer: AuthorizerConfig | None = None
    auth_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    denied_users: tuple[str, ...] = ()
    #: Connection lifetime and throttling (AWS's quotas unless shrunk for a lesson).
    quotas: GatewayQuotas = field(default_factory=GatewayQuotas)
    #: Function timeouts in seconds that differ from the stack's (1 to 900, as Lambda).
    timeouts: Mapping[str, float] = field(default_factory=dict)
    #: Function memory sizes in MB that differ from the stack's (128 to 10,240).
    memory: Mapping[str, int] = field(default_factory=dict)
    #: Where the flights table's changes are read from: its DynamoDB stream (the default)
    #: or a Kinesis data stream, as the seed's templates do (``stack.STREAMS``).
    stream: str = "dynamodb"
    #: The Kinesis stream's shards (``stream="kinesis"``): four, as an on-demand stream has
    #: when it is created; the mapping reads each, with its ParallelizationFactor a shard.
    kinesis_shards: int = 4
    #: How long a connection's rows live (their TTL), in seconds.
    connection_ttl_s: int = 7200
    #: A named set of settings applied at once (``"seed"``: the seed's stack, :data:`PRESETS`);
    #: a setting given by name wins over the preset's.
    preset: str | None = None
    #: A user's own code in place of some of the stack's functions, by function name
    #: (:class:`FunctionCode`: a runtime, a folder or zip, a handler); each runs in child
    #: processes speaking the Lambda Runtime API, and reaches AWS through the AWS endpoint.
    functions: Mapping[str, FunctionCode] = field(default_factory=dict)
    #: What to break (nothing by default); the simulator can swap it while running.
    faults: FaultPlan = field(default_factory=FaultPlan)
    #: The seed's defects to reproduce, by name (``stack.SEED_BUGS``); none by default.
    seed_bugs: tuple[str, ...] = ()
    #: Serve the room page and take the devices' acks (:mod:`fanoutsim.room`).
    room: bool = False
    #: The name or address to give other devices instead of the one found.
    public_host: str | None = None
    #: ``"iam"``: ``GET /flights`` takes only SigV4-signed requests, as the seed's REST API
    #: (``AWS_IAM``); ``"none"`` (the default): anyone may read the board.
    rest_auth: RestAuth = "none"

    def __post_init__(self) -> None:
        if self.transport not in ("http", "in-process"):
            raise ConfigError(f"transport must be 'http' or 'in-process', not {self.transport!r}")
        if self.fanout not in stack.FANOUT_MODES:
            raise ConfigError(
                f"fanout must be one of {', '.join(stack.FANOUT_MODES)}, not {self.fanout!r}"
            )
        if self.rest_auth not in ("none", "iam"):
            raise ConfigError(f"rest_auth must be 'none' or 'iam', not {self.rest_auth!r}")
        if not 1 <= self.post_concurrency <= MAX_POST_CONCURRENCY:
            raise ConfigError(f"post_concurrency must be from 1 to {MAX_POST_CONCURRENCY}")
        if not 1 <= self.post_attempts <= MAX_POST_ATTEMPTS:
            raise ConfigError(f"post_attempts must be from 1 to {MAX_POST_ATTEMPTS}")
        if len(self.credentials) != 2 or not all(self.credentials):
            raise ConfigError("credentials must be (access key id, secret access key)")
        if self.guarded and tuple(self.credentials) == stack.DEFAULT_CREDENTIALS:
            raise ConfigError(
                f"the well-known keys {stack.DEFAULT_CREDENTIALS[0]}/"
                f"{stack.DEFAULT_CREDENTIALS[1]} cannot guard a server other devices can "
                "reach; leave credentials unset and a random pair is made for this run"
            )
        if self.stream not in stack.STREAMS:
            raise ConfigError(
                f"stream must be one of {', '.join(stack.STREAMS)}, not {self.stream!r}"
            )
        if not 1 <= self.kinesis_shards <= MAX_KINESIS_SHARDS:
            raise ConfigError(f"kinesis_shards must be from 1 to {MAX_KINESIS_SHARDS}")
        if self.preset is not None and self.preset not in PRESETS:
            raise ConfigError(f"unknown preset {self.preset!r}; known: {', '.join(PRESETS)}")
        if not 60 <= self.connection_ttl_s <= 7 * 24 * 3600:
            raise ConfigError("connection_ttl_s must be from 60 s to 7 days")
        self.function_specs()  # unknown names and out-of-range timeouts fail here
        unknown = sorted(set(self.functions) - set(stack.FUNCTIONS))
        if unknown:
            raise ConfigError(
                f"functions name unknown functions {', '.join(unknown)}; the stack's are "
                f"{', '.join(stack.FUNCTIONS)}"
            )
        for name, code in self.functions.items():
            if not isinstance(code, FunctionCode):
                raise ConfigError(f"functions[{name!r}] must be a FunctionCode, not {code!r}")
        unknown = sorted(set(self.seed_bugs) - set(stack.SEED_BUGS))
        if unknown:
            raise ConfigError(
                f"unknown seed bugs {', '.join(unknown)}; known: {', '.join(stack.SEED_BUGS)}"
            )

    @classmethod
    def of(cls, **settings: Any) -> Options:
        """Options from a simulator's settings, each named once here as a field, in the
        short forms people type: ``profile`` by name, ``authorizer=True``,
        ``seed_bugs=True`` for all, ``host`` unset (loopback, or every interface with a
        room), ``credentials`` unset (the testing keys on loopback, a pair made for this
        run when others can reach it), None for any default. An unknown name is refused
        with the list of known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        preset = settings.get("preset")
        if preset is not None:
            if preset not in PRESETS:
                raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
            given_by_name = {k for k, v in settings.items() if v is not None}
            settings = {
                **{k: v for k, v in PRESETS[preset].items() if k not in given_by_name},
                **settings,
            }
        if unknown:
            near = {u: difflib.get_close_matches(u, known, n=1) for u in unknown}
            hints = [
                f"{u!r}" + (f" (did you mean {m[0]!r}?)" if m else "") for u, m in near.items()
            ]
            raise ConfigError(
                f"unknown setting {', '.join(hints)}; the settings are: {', '.join(sorted(known))}"
            )
        given = {k: v for k, v in settings.items() if v is not None}
        if given.get("stream") == "kinesis" and "mapping" not in given:
            given["mapping"] = stack.KINESIS_MAPPING  # the filter reads the decoded data
        profile = given.get("profile", "instant")
        profile = load_profile(profile) if isinstance(profile, str) else profile
        given["profile"] = profile.for_stream(given.get("stream", "dynamodb"))
        room = bool(given.get("room", False))
        given["host"] = bind_host(given.get("host"), room)
        if "credentials" not in given:
            given["credentials"] = _credentials_for(given["host"], room)
        authorizer = given.get("authorizer")
        if isinstance(authorizer, bool):
            given["authorizer"] = AuthorizerConfig() if authorizer else None
        bugs = given.get("seed_bugs", ())
        given["seed_bugs"] = stack.SEED_BUGS if bugs is True else tuple(bugs or ())
        for name in ("denied_users", "timeouts", "functions", "memory"):
            if name in given:
                given[name] = (tuple if name == "denied_users" else dict)(given[name])
        return cls(**given)

    @property
    def guarded(self) -> bool:
        """Whether other devices are meant to reach this stack (:func:`reaches_others`)."""
        return reaches_others(self.host, self.room)

    def routes_wired(self) -> dict[str, str]:
        """The route set with the seed's ``$disconnect`` bug applied if asked for."""
        return stack.with_seed_bugs(stack.routes_named(self.routes), self.seed_bugs)

    def function_specs(self) -> dict[str, FunctionSpec]:
        """The stack's functions with these options' timeouts and memory sizes."""
        for setting in ("timeouts", "memory"):
            unknown = sorted(set(getattr(self, setting)) - set(stack.FUNCTIONS))
            if unknown:
                raise ConfigError(f"{setting} name unknown functions: {', '.join(unknown)}")
        return {
            name: replace(
                spec,
                timeout_s=float(self.timeouts.get(name, spec.timeout_s)),
                memory_mb=int(self.memory.get(name, spec.memory_mb)),
            )
            for name, spec in stack.FUNCTIONS.items()
        }

    def environment(self) -> dict[str, str]:
        """The handlers' settings from these options, as a template would set them."""
        env = {
            "FANOUT_MODE": self.fanout,
            "POST_CONCURRENCY": str(self.post_concurrency),
            "POST_MAX_ATTEMPTS": str(self.post_attempts),
            "AWS_ACCESS_KEY_ID": self.credentials[0],
            "AWS_SECRET_ACCESS_KEY": self.credentials[1],
            "CONNECTION_TTL_SECONDS": str(self.connection_ttl_s),
        }
        if self.connect_token:
            env["CONNECT_TOKEN"] = self.connect_token
        if self.seed_bugs:
            env["SEED_BUGS"] = ",".join(self.seed_bugs)
        if self.authorizer is not None:
            env["AUTH_SECRET"] = self.auth_secret
            env["DENIED_USERS"] = ",".join(self.denied_users)
        return env
