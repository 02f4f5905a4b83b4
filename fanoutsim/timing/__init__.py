"""Timing profiles and their delay distributions: the one description of "how long each
step takes" that both the live run (which sleeps it) and the model (which draws it) read."""

__all__: list[str] = []
