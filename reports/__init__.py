"""Read-only builders of statements: data -> HTML (Jinja) -> PDF (WeasyPrint)."""
