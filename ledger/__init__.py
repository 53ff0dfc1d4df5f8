"""The application: event store, hash chain, projections, import, export, verifier."""
