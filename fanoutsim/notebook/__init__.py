"""What the tutorial's notebooks show: live ipywidgets panels (:mod:`.widgets` over
:mod:`.live`), HTML table views (:mod:`.views`), matplotlib figures (:mod:`.viz`) and the
architecture picture (:mod:`.architecture`). Nothing here changes the pipeline; it reads the
:class:`~fanoutsim.simulator.Simulator`'s verbs and the report."""

__all__: list[str] = []
