"""Earners' web pages for their submissions (filled in below)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("portfolio", __name__, template_folder="templates", static_folder="static", url_prefix="/portfolio")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
