"""Views outside any one kind of user's blueprint: ``/healthz`` and ``/status``, and the PDF statements."""
