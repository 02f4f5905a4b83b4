"""Ownership and consent: fanoutsim changes only what it made, and only after showing what
it will do.

Every stack and code bucket fanoutsim creates carries :data:`MADE_BY` (with the version and
options); deploy and teardown refuse a stack without it, whatever its name. Before acting
they show the account, region and partition, the change set as a short table and what the
stack costs, and go on only with consent: ``--yes`` or an answer at the prompt on the
command line, an explicit ``confirm=True`` from Python (a notebook cell).
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

from fanoutsim.deploy.template import StackOptions
from fanoutsim.errors import DeployError

__all__ = [
    "MADE_BY",
    "STACK_TAG",
    "Change",
    "Confirm",
    "agreed",
    "change_table",
    "changes_of",
    "cost_lines",
    "made_by_fanoutsim",
    "partition_of",
    "preview",
    "refuse_unless_ours",
    "tags",
]

#: The tag on everything fanoutsim makes (its value: ``fanoutsim <version>``).
MADE_BY: Final = "fanoutsim:made-by"
#: The stack a code bucket belongs to (teardown finds the bucket by it).
STACK_TAG: Final = "fanoutsim:stack"
_OPTIONS_TAG: Final = "fanoutsim:options"
_TAG_VALUE_LIMIT: Final = 256  # characters, CloudFormation's and S3's

#: ``True`` (go ahead), ``False`` (preview only), or a question to ask a person.
Confirm = bool | Callable[[str], bool]


def _version() -> str:
    try:
        return version("fanoutsim")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def tags(stack_name: str, options: StackOptions | None = None) -> list[dict[str, str]]:
    """The tags on a stack (or bucket) fanoutsim makes for ``stack_name``."""
    made = [
        {"Key": MADE_BY, "Value": f"fanoutsim {_version()}"},
        {"Key": STACK_TAG, "Value": stack_name},
    ]
    if options is not None:
        chosen = {
            "fanout": options.fanout,
            "authorizer": options.authorizer,
            "routes": options.routes,
            "post_concurrency": options.post_concurrency,
        }
        made.append({"Key": _OPTIONS_TAG, "Value": json.dumps(chosen)[:_TAG_VALUE_LIMIT]})
    return made


def made_by_fanoutsim(tag_list: Iterable[Mapping[str, str]]) -> bool:
    """Whether ``tag_list`` (CloudFormation's or S3's ``[{"Key", "Value"}]``) marks a
    resource fanoutsim made."""
    return any(tag.get("Key") == MADE_BY for tag in tag_list)


def refuse_unless_ours(described: Mapping[str, Any] | None, stack_name: str, doing: str) -> None:
    """Raise unless the stack is absent or carries :data:`MADE_BY`."""
    if described is not None and not made_by_fanoutsim(described.get("Tags", [])):
        raise DeployError(
            f"stack {stack_name} exists and fanoutsim did not make it (it has no {MADE_BY} "
            f"tag): fanoutsim will not {doing} it. Choose another stack name."
        )


@dataclass(frozen=True)
class Change:
    """One row of a change set: what happens to which resource."""

    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""  # "True", "Conditional" or "" (Modify only)

    @property
    def verb(self) -> str:
        return "replace" if self.replacement == "True" else self.action.lower()

    def line(self) -> str:
        return f"  {self.verb:<8} {self.logical_id:<32} {self.resource_type}"


#: Past this many changes of one kind, they are counted by type rather than listed
#: (replacements are always listed: a replaced table loses its items).
_LISTED: Final = 8


def change_table(changes: list[Change]) -> list[str]:
    """The change set as short lines: each change, or a count by type when there are many."""
    lines: list[str] = []
    for verb in ("remove", "replace", "modify", "add", "import", "dynamic"):
        mine = [c for c in changes if c.verb == verb]
        if len(mine) <= _LISTED or verb == "replace":
            lines.extend(c.line() for c in mine)
            continue
        kinds = Counter(c.resource_type.removeprefix("AWS::") for c in mine)
        counted = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        lines.extend(
            textwrap.wrap(
                f"{verb:<8} {len(mine)} resources: {counted}",
                96,
                initial_indent="  ",
                subsequent_indent=" " * 11,
            )
        )
    return lines


def changes_of(change_set: Mapping[str, Any]) -> list[Change]:
    """The resource changes of a ``DescribeChangeSet`` answer, in a stable order."""
    rows = []
    for item in change_set.get("Changes", []):
        change = item.get("ResourceChange", {})
        if not change.get("LogicalResourceId"):
            continue
        rows.append(
            Change(
                str(change.get("Action", "")),
                str(change.get("LogicalResourceId", "")),
                str(change.get("ResourceType", "")),
                str(change.get("Replacement", "")),
            )
        )
    order = {"Remove": 0, "Add": 2}
    return sorted(rows, key=lambda c: (order.get(c.action, 1), c.logical_id))


def partition_of(arn: str) -> str:
    """The partition of an ARN (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise DeployError(f"not an ARN: {arn!r}")
    return parts[1]


def cost_lines(options: StackOptions, subscribers: int) -> list[str]:
    """What the stack costs: idle (every meter in prices.toml is per use) and one update at
    ``subscribers`` (the model, priced from the packaged prices.toml, named with its date)."""
    from fanoutsim.aws.pricing import load_prices
    from fanoutsim.model.engine import simulate
    from fanoutsim.model.scenario import Scenario

    prices = load_prices()
    strategy = "per-flight" if options.fanout == "per-flight" else "broadcast"
    scenario = Scenario(
        subscribers=subscribers,
        strategy=strategy,
        concurrency=options.post_concurrency,
        updates=100,
        architecture="arm64",
    )
    update = simulate(scenario, prices=prices).cost_per_update["total"]
    return [
        "idle: $0.00 a month on the priced meters (API Gateway, Lambda, DynamoDB on-demand, "
        "EventBridge all bill per use); storage of the code zip, logs and table items is "
        "not priced here",
        f"one update to {subscribers:,} subscribers ({strategy}): about ${update:.6f} "
        f"(prices.toml, {prices.as_of})",
    ]


def preview(
    *,
    action: str,
    stack_name: str,
    account: str,
    region: str,
    partition: str,
    changes: list[Change],
    notes: list[str],
) -> str:
    """The text shown before acting: where, each change (:func:`change_table`), then
    ``notes`` (what it costs, what else goes)."""
    lines = [
        f"{action} stack {stack_name} in account {account}, region {region} "
        f"(partition {partition}):",
        *change_table(changes),
        *(f"  {line}" for line in notes),
    ]
    return "\n".join(lines)


def agreed(confirm: Confirm, question: str) -> bool:
    """Whether to go ahead: ``confirm`` itself when a bool, else its answer to ``question``."""
    if isinstance(confirm, bool):
        return confirm
    return bool(confirm(question))
