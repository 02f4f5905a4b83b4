"""I/O adapters: the WebSocket gateway and management API, the function runtime, the event
bus dispatcher and the stream poller."""

__all__: list[str] = []
