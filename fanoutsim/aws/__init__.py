"""Pure AWS semantics: event shapes, route selection, event patterns, the stream mapping
state machine, metering. No sockets, no threads, no boto3 calls."""

__all__: list[str] = []
