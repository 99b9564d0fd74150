"""Standards: frameworks imported from 1EdTech CASE packages and their items. Where things live: ``models``;
``case`` (parsing a CASE package); ``imports`` (importing and re-importing, the bundled frameworks); ``frameworks``
(reading, the tree, search, public URLs); ``schemas`` / ``api``, ``views`` + ``templates/``, ``cli``."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's API, pages, commands and demo step."""
    from standards import api, cli, import_views, models, views  # noqa: F401 (models: registers the tables)

    api.init_app(app)
    views.init_app(app)
    import_views.init_app(app)
    cli.init_app(app)
