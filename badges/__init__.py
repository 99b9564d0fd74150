"""Issuing (see DESIGN.md): Open Badges 3.0 credentials, from a passed assessment to the page anyone can check.

Each module is one room, named for what happens in it:

- ``issuing``: a version's badge (for a passed assessment or an imported award), its results and evidence; reading
  badges back; the earner's DID
- ``signing``: signing and storing one badge, the step every way of issuing ends in; ``Recipient``
- ``stacks``: the badge of a stack an earner has completed
- ``revocation``: revoking, suspending, reinstating a badge; ``renewal``: renewing one by evidence (or an admin's
  re-issue), its state; ``renewal_invitations``: inviting earners before ``validUntil``; ``renewal_views``: the
  earner's renewal page
- ``misconduct``: a recorded misconduct decision, the earner's appeal and its outcome
- ``imports``: bulk import of past awards from CSV
- ``status``: revocation status lists: each badge's index, the bitstring, the signed list
- ``issuers``: an issuer's signing keys (made, rotated, published), its did:web document and Profile
- ``keys``: key material: generating key pairs, encrypting them at rest, JWKs
- ``access``: who may revoke, renew, manage keys and import; the base URL and organisation lookup they share
- ``documents``: the OB 3.0 JSON; ``proofs``: Data Integrity and VC-JWT; ``jsonld``: the one document loader
- ``baking``: credentials in PNG and SVG images; ``presentation``: what the public pages show
- ``verifier`` (with ``fetching``): verifying anyone's badge; ``verify``: its page and API
- ``views``, ``admin_views``, ``api``, ``cli``, ``demo_data``: the edges, thin, calling the rooms above
- ``clr``: CLR 2.0 transcripts of an earner's badges; ``endorsements``: one organisation vouching for another's
  micro-credential or issuer profile (their tables: ``record_models``; signing: ``record_signing``)
- ``impact`` (with ``impact_views``, ``impact_api``, ``impact_schemas``): impact reports across the hierarchy
- ``host``: the OB 3.0 API (Host role): OAuth 2.0 for wallets and platforms, credentials and profile
- ``oid4vci``: "Add to wallet": OpenID4VCI offers with a pre-authorized code, the Learner Credential Wallet's exchange
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's pages, API, commands, demo step and the issuance handler."""
    from assessors import issuance
    from badges import (  # noqa: F401 (tables, jobs and routes)
        admin_views,
        api,
        cli,
        clr_views,
        dashboard,
        demo_data,
        endorsement_views,
        issuers,
        issuing,
        models,
        record_api,
        record_demo,
        record_models,
        renewal,
        renewal_invitations,
        renewal_views,
        verify,
        views,
    )

    issuance.register(issuing.issue_for_award)
    renewal.register()
    issuing.register_checklist_step()
    issuers.register_checklist_step()
    from badges import personal_data
    from core import privacy

    privacy.register_exporter("badges", personal_data.export)
    privacy.register_eraser("badges", personal_data.erase)
    privacy.register_ties("badges", personal_data.recipients_of)
    from badges import misconduct_api, misconduct_views

    views.init_app(app)
    admin_views.init_app(app)
    misconduct_views.init_app(app)
    misconduct_api.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    verify.init_app(app)
    clr_views.init_app(app)
    endorsement_views.init_app(app)
    record_api.init_app(app)
    dashboard.init_app()
    from badges import host, oid4vci

    host.init_app(app)
    oid4vci.init_app(app)
    from badges import impact_api, impact_demo, impact_views  # noqa: F401 (impact_demo: a demo step)

    impact_views.init_app(app)
    impact_api.init_app(app)
