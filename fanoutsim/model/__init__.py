"""The virtual-time cost and latency model for fan-outs too large to run live.

Entry points: :func:`fanoutsim.model.engine.simulate` (a :class:`~fanoutsim.model.scenario.
Scenario` in, a :class:`~fanoutsim.model.result.ModelResult` out), the timing profiles it
shares with the live simulator (:func:`fanoutsim.timing.profiles.load_profile`), the
``fanoutsim model`` command (:mod:`fanoutsim.model.command`) and the notebook helpers
(:mod:`fanoutsim.model.explore`, :mod:`fanoutsim.model.plots`,
:mod:`fanoutsim.model.dashboard`). Modules are imported on demand so that the live runtime,
which only needs the profiles (now in :mod:`fanoutsim.timing`), does not load the model.
"""

__all__: list[str] = []
