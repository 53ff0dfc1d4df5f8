"""Makes test modules importable by package path, so unit and integration tests may share basenames."""
