"""The demo partnerships (Wirral, Herefordshire) from the seed documents, as one list of steps."""
