"""The moto wing: the only code that imports moto or touches its internals.

- :mod:`~fanoutsim.moto.account`: moto's mock for the process, with the handlers'
  environment;
- :mod:`~fanoutsim.moto.capacity`: DynamoDB capacity of a call, from moto's stored items;
- :mod:`~fanoutsim.moto.hooks`: every patch of moto's internals, installed and removed as
  a pair.
"""

__all__: list[str] = []
