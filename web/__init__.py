"""The outermost layer: composition root, CLI, Flask app, blueprints per kind of user."""
