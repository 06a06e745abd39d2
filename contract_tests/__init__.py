"""Contract-testing kit for PiAPI's task API: strategies, checks, state machine, client kit.

It knows only the schemas (through :mod:`mock_server.schema_registry`) and HTTP, never the
fake's domain, so the same checks run against the fake, the real PiAPI and any client.
"""
