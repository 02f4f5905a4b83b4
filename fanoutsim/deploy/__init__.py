"""The real stack: a CloudFormation template generated from :mod:`fanoutsim.stack`, the
functions' zip, deploy and teardown, driving the deployed stack with the simulator's verbs,
and calibrating the timing model from it. Nothing here touches AWS unless asked."""

__all__: list[str] = []
