"""I/O adapters: the WebSocket gateway and its HTTP side (``@connections`` and REST, over
:mod:`fanoutsim.aws.management`'s rules), the function runtime, the event bus dispatcher,
the stream poller and the subscribers, all on one loop thread."""

__all__: list[str] = []
