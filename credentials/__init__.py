"""Credentials: what earners work towards, and their work towards it.

Two sub-domains, each a package with its own models, schemas, services, API, pages and templates:

* ``credentials.authoring``: micro-credentials, their immutable published versions, requirements, rubrics,
  alignments to standards, team review and publication, badge images, stacks and the public catalogue;
* ``credentials.portfolios``: earners' submissions (answers, evidence files and links, drafts, submit,
  withdraw, next attempt) and the feedback they receive.

Portfolios import authoring, never the other way round.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register both sub-domains' API, pages, commands and demo steps."""
    from credentials import authoring, portfolios

    authoring.init_app(app)
    portfolios.init_app(app)
