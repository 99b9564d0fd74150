"""The public verifier: ``POST /api/v1/verify`` and the "verify a badge" page (DESIGN.md "Public URLs")."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the verify API and page."""
