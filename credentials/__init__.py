"""The credentials domain (see DESIGN.md); filled in by its own issue."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, commands and demo steps."""
