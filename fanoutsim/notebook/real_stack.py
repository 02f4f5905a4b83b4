"""Helpers for notebook 07 (the real stack): what the template creates, what cfn-lint says,
what the stack costs idle and per 1,000 updates, and what a deploy would do (the dry run).

Costs come from the price file (:func:`fanoutsim.aws.pricing.load_prices`) and the model;
nothing here calls AWS.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from fanoutsim.aws.pricing import load_prices
from fanoutsim.deploy.cloudformation import bucket_name
from fanoutsim.deploy.package import build_package
from fanoutsim.deploy.template import StackOptions, build_template, functions_of
from fanoutsim.model.engine import simulate
from fanoutsim.model.scenario import Scenario

__all__ = ["cost_rows", "dry_run", "lint_findings", "lint_summary", "resource_rows"]


def resource_rows(template: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per resource type: how many, and their logical ids."""
    by_type: dict[str, list[str]] = {}
    for logical, resource in template["Resources"].items():
        by_type.setdefault(resource["Type"], []).append(logical)
    return [
        {"type": kind, "count": len(ids), "logical ids": ", ".join(sorted(ids))}
        for kind, ids in sorted(by_type.items())
    ]


def lint_summary(template: dict[str, Any]) -> str:
    """cfn-lint's verdict as lines to print, or how to install it (it is an extra: about
    100 MB with sympy and networkx, which running the simulator does not need)."""
    try:
        findings = lint_findings(template)
    except ImportError:
        return "cfn-lint is not installed here: pip install 'fanoutsim[lint]' (make test has it)"
    return "\n".join([f"cfn-lint: {len(findings)} errors or warnings", *findings])


def lint_findings(template: dict[str, Any]) -> list[str]:
    """cfn-lint's errors and warnings for ``template`` (its command line's default set)."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    return [f"{m.rule.id} {m.message}" for m in matches]


def cost_rows(subscribers: int, options: StackOptions | None = None) -> list[dict[str, str]]:
    """What the stack costs: idle for an hour (nothing is billed per hour but connected
    clients' connection minutes), and per 1,000 updates to ``subscribers`` (the model)."""
    options = options or StackOptions()
    prices = load_prices()
    minute = prices["apigateway_connection_minutes"]
    idle = minute.charge(subscribers * 60)
    strategy = "per-flight" if options.fanout == "per-flight" else "broadcast"
    result = simulate(
        Scenario(subscribers=max(1, subscribers), strategy=strategy, architecture="arm64")
    )
    per_thousand = 1000 * sum(result.cost_per_update.values())
    source = f"price file ({prices.describe()})"
    return [
        {"what": "idle hour, nobody connected", "USD": "0.00", "source": "pay per request"},
        {
            "what": f"idle hour, {subscribers} clients connected",
            "USD": f"{idle:.4f}",
            "source": f"{subscribers} x 60 connection minutes, {source}",
        },
        {
            "what": f"1,000 updates to {subscribers} clients ({strategy})",
            "USD": f"{per_thousand:.4f}",
            "source": f"the model, arm64, {source}",
        },
        {
            "what": "code zip in S3, log storage",
            "USD": "not priced",
            "source": "not in the price file (about 20 KB of code; logs kept 7 days)",
        },
    ]


def dry_run(stack_name: str, region: str, options: StackOptions | None = None) -> str:
    """What ``deploy(stack_name, region, options=options)`` would do, without AWS."""
    options = options or StackOptions()
    package = build_package(functions_of(options))
    template = build_template(options)
    body = json.dumps(template, separators=(",", ":"))
    kinds = Counter(r["Type"].split("::")[1] for r in template["Resources"].values())
    bucket = bucket_name(stack_name, "<account>", region)
    return "\n".join(
        [
            f"dry run: deploy({stack_name!r}, region={region!r}) would",
            "  1. check the credentials (sts:GetCallerIdentity) and that a stack of that name,",
            "     if any, carries fanoutsim's tag (it refuses one that does not)",
            f"  2. create a change set for {stack_name} from a {len(body):,}-byte template:",
            f"     {len(template['Resources'])} resources ("
            + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            + ")",
            "  3. show the account, region, partition, each change and what the stack costs,",
            "     and go on only with confirm=True (--yes, or yes at the prompt, from a terminal)",
            f"  4. make s3://{bucket} (private, tagged) and upload {package.key}",
            f"     ({len(package.data):,} bytes, {len(package.files)} files)",
            "  5. execute the change set, print each new event, then the outputs",
            "set FANOUTSIM_DEPLOY=1 (and AWS credentials) before starting Jupyter to do it.",
        ]
    )
