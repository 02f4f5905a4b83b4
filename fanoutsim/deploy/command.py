"""The real stack from the command line::

    fanoutsim template [--fanout per-flight] [--authorizer] [--routes seed] > stack.json
    fanoutsim deploy --stack NAME [--region R] [--aws-profile P] [--fanout ...] [--authorizer]
                     [--subscribers N] [--yes]
    fanoutsim calibrate --stack NAME [--updates 30] [--out calibrated.toml]
    fanoutsim teardown --stack NAME [--yes]

``template`` touches nothing; the others use the AWS credentials of ``--aws-profile`` (or the
usual AWS environment) and say what they do as they go. ``deploy`` and ``teardown`` first
show the account, region, changes and costs, then ask (``--yes`` answers for scripts; without
a terminal to ask at, they only show).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fanoutsim import arguments, stack
from fanoutsim.deploy.template import StackOptions, build_template

__all__ = ["COMMANDS", "add_parsers", "run"]

COMMANDS = ("template", "deploy", "teardown", "calibrate")


def _stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fanout", choices=stack.FANOUT_MODES, default="broadcast", help="fan-out mode"
    )
    parser.add_argument(
        "--authorizer", action="store_true", help="put the token authorizer on $connect"
    )
    parser.add_argument(
        "--routes", choices=tuple(stack.ROUTE_SETS), default="fanoutsim", help="route set"
    )


def _aws_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="CloudFormation stack name")
    parser.add_argument("--region", help="AWS region (default: the profile's)")
    arguments.add_aws_profile(parser)


def _consent_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes", action="store_true", help="go ahead without asking (after showing the changes)"
    )


def _confirm(args: argparse.Namespace) -> Any:
    """``--yes``, else a question at the terminal, else no (the changes are only shown)."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        return False
    return lambda question: input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``template``, ``deploy``, ``teardown`` and ``calibrate``."""
    template = subparsers.add_parser(
        "template",
        help="print the CloudFormation template",
        description="Print the stack's CloudFormation template (JSON); touches nothing.",
    )
    _stack_options(template)
    deploy = subparsers.add_parser(
        "deploy",
        help="deploy the real stack to AWS",
        description="Package the handlers and deploy the stack to AWS with CloudFormation "
        "(creates or updates it; costs money while it runs: tear it down after).",
    )
    _aws_options(deploy)
    _stack_options(deploy)
    _consent_option(deploy)
    deploy.add_argument("--bucket", help="an existing S3 bucket for the code (default: own)")
    deploy.add_argument(
        "--subscribers",
        type=arguments.whole_at_least(1),
        default=100,
        help="audience to price one update for in the preview (100)",
    )
    teardown = subparsers.add_parser(
        "teardown",
        help="delete the deployed stack",
        description="Delete the deployed stack and the code bucket fanoutsim made for it "
        "(only a stack fanoutsim made; it shows what will go and asks first).",
    )
    _aws_options(teardown)
    _consent_option(teardown)
    calibrate = subparsers.add_parser(
        "calibrate",
        help="measure the deployed stack and write a timing profile",
        description="Publish updates through the deployed stack, time each stage and write "
        "a timing profile (.toml) the simulator and the model can use with --timing.",
    )
    _aws_options(calibrate)
    calibrate.add_argument(
        "--updates", type=arguments.whole_at_least(10), default=30, help="updates to time (30)"
    )
    calibrate.add_argument(
        "--out", type=Path, help="profile file (default: STACK-REGION.toml here)"
    )


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; 0 on success."""
    options = None
    if args.command in ("template", "deploy"):
        options = StackOptions(fanout=args.fanout, authorizer=args.authorizer, routes=args.routes)
    if args.command == "template":
        print(json.dumps(build_template(options), indent=2))
        return 0
    from fanoutsim.deploy import cloudformation

    if args.command == "deploy":
        done = cloudformation.deploy(
            args.stack,
            args.region,
            args.aws_profile,
            options=options,
            bucket=args.bucket,
            confirm=_confirm(args),
            subscribers=args.subscribers,
        )
        return 0 if done.applied else 1
    if args.command == "teardown":
        removed = cloudformation.teardown(
            args.stack, args.region, args.aws_profile, confirm=_confirm(args)
        )
        if removed.applied and not removed:
            print(f"{args.stack}: nothing to tear down")
        return 0 if removed.applied else 1
    return _calibrate(args)


def _calibrate(args: argparse.Namespace) -> int:
    import boto3

    from fanoutsim.deploy.calibrate import calibrate, default_out
    from fanoutsim.deploy.remote import DeployedStack

    session = boto3.Session(profile_name=args.aws_profile, region_name=args.region)
    region = args.region or session.region_name or stack.REGION
    with DeployedStack.from_stack(args.stack, region, session=session) as remote:
        out = args.out or default_out(args.stack, region)
        calibrate(remote, region, out, updates=args.updates)
    return 0
