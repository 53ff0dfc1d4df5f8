"""Pure rules and events of open-book homecare commissioning (stdlib, pydantic, eventsourcing.domain only)."""
