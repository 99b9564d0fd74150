"""Authoring micro-credentials. Where things live:

* ``models``: micro-credentials, versions, requirements, rubric criteria and levels, alignments, tags, draft
  comments, badge images, stacks;
* ``versions``: who may read and edit a version, the content document and its validation, creating and
  editing drafts, starting version N+1, differences between versions;
* ``publication``: team review (request, approve, request changes), publishing, retiring, comments;
* ``team_models`` / ``teams``: design teams that own micro-credentials, their members, who drafts and who
  reviews; ``changes``: a version's changes history; ``programme``: every team's progress for a programme lead;
* ``checklist``: the first-run checklist's authoring steps;
* ``catalogue``: the public catalogue's search and a version's aligned standards;
* ``images``: badge image uploads (PNG, sanitised SVG), the default design, a version's image;
* ``stacks``: groups of micro-credentials that earn a badge of their own;
* ``adoption`` (+ ``offerings``, ``adoption_models``, ``adoption_schemas``, ``adoption_api``, ``adoption_views``,
  ``adoption_demo``): shared definitions, a parent's micro-credential adopted by its units or issued centrally;
* ``requirement_sets``: a version's award and renewal sets (requirements, rubric, passing rule);
* ``schemas`` / ``api``: the REST API; ``views`` + ``forms`` (the editor form ↔ content document) and
  ``catalogue_views``, ``renewal_views`` (the renewal page): the web pages; ``cli`` and ``demo_data``: the demo step.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the authoring API, pages and demo step."""
    # stack_views and team_views add their routes to views' blueprint, so they are imported before
    # views.init_app registers it; team_demo registers a demo step.
    from credentials.authoring import (  # noqa: F401 (tables, routes, demo step)
        api,
        checklist,
        cli,
        dashboard,
        models,
        stack_views,
        team_api,
        team_demo,
        team_views,
        views,
    )

    checklist.register()
    api.init_app(app)
    from credentials.authoring import adoption_api, adoption_demo, adoption_views  # noqa: F401 (demo step)

    adoption_api.init_app(app)
    adoption_views.init_app(app)
    team_api.init_app(app)
    from credentials.authoring import (
        image_views,  # noqa: F401 (adds the badge image page to the views' blueprint)
        renewal_views,  # noqa: F401 (adds the renewal page to the views' blueprint)
    )

    cli.init_app(app)
    views.init_app(app)
    dashboard.init_app()
    team_views.init_app()
    from core import privacy
    from credentials.authoring import personal_data

    privacy.register_exporter("authoring", personal_data.export)
