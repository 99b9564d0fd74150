"""Public URLs (DESIGN.md "Public URLs"): badge pages and downloads, issuer, keys, did:web, status lists,
achievement pages; and the earner's "my badges" page. Every answer has a strong ETag (304 on If-None-Match) and
a Cache-Control for a CDN: downloads 5 min (never change), status lists/keys 1 min, the HTML page no-cache."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotAcceptable
from werkzeug.wrappers import Response as WerkzeugResponse

from badges import clr, consent, endorsements, issuers, issuing, presentation, renewal, status
from badges.models import Badge
from core.auth import current_user
from core.db import db
from core.errors import Forbidden, NotFound, ServiceError
from core.views import sign_in_redirect, signed_in_user

bp = Blueprint(
    "badges", __name__, template_folder="templates", static_folder="static", static_url_path="/badges/static"
)

JSON_TYPES = ("application/vc+ld+json", "application/ld+json", "application/json")
JWT_TYPES = ("application/vc+jwt", "application/jwt")
SHORT_CACHE = "public, max-age=0, must-revalidate"
DOWNLOAD_CACHE = "public, max-age=300"  # signed once, never changed: revocation is a status-list bit
STATUS_CACHE = "public, max-age=60"  # a revocation or key rotation shows within a minute


class DownloadMemo:
    """The bytes and ETag of badge downloads (credential JSON, VC-JWT, baked PNG/SVG) kept in this process, least
    recently used first out within ``budget`` bytes. Safe because a badge's signed credential, its VC-JWT and so its
    baked images never change and a badge row is never deleted (revocation is a status-list bit; an erased earner's
    badge stays valid): a hit is exactly what the database would give, without reading it."""

    def __init__(self, budget: int) -> None:
        self.budget, self.size = budget, 0
        self._items: OrderedDict[tuple[uuid.UUID, str], tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, badge_id: uuid.UUID, kind: str, make: Callable[[], tuple[bytes, str]]) -> tuple[bytes, str]:
        key = (badge_id, kind)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = make()  # outside the lock: a miss reads the database (and may bake the image once)
        with self._lock:
            if key not in self._items and len(found[0]) <= self.budget:
                self._items[key] = found
                self.size += len(found[0])
                while self.size > self.budget:
                    _key, (body, _type) = self._items.popitem(last=False)
                    self.size -= len(body)
        return found


DOWNLOAD_MEMO_BYTES = 32 * 1024 * 1024


def _memo() -> DownloadMemo:
    memo = current_app.extensions.get("badge_downloads")
    if memo is None:
        memo = current_app.extensions["badge_downloads"] = DownloadMemo(DOWNLOAD_MEMO_BYTES)
    return memo


def _download(badge_id: uuid.UUID, kind: str) -> tuple[bytes, str]:
    """(body, strong ETag) of a badge's ``json``, ``jwt``, ``png`` or ``svg``; 404 for an unknown badge."""

    def make() -> tuple[bytes, str]:
        badge = issuing.get_badge(badge_id=badge_id)
        if kind in ("png", "svg"):
            image = presentation.kept_image(badge, kind)
            return image.data, image.sha256
        body = (json.dumps(badge.credential, ensure_ascii=False) if kind == "json" else badge.jwt).encode()
        return body, hashlib.sha256(body).hexdigest()

    return _memo().get(badge_id, kind, make)


def _conditional(response: Response, cache: str, etag: str | None = None) -> Response:
    """A strong ETag (the SHA-256 of the bytes unless given) and ``cache``; a matching If-None-Match is a 304."""
    response.headers["Cache-Control"] = cache
    response.set_etag(etag or hashlib.sha256(response.get_data()).hexdigest())
    return response.make_conditional(request)


def _negotiate(*offers: str) -> str:
    """The best of ``offers`` for the request's Accept header (HTML when there is none); 406 if none fits."""
    if not request.accept_mimetypes:
        return offers[0]
    best = request.accept_mimetypes.best_match(offers)
    if best is None:
        raise NotAcceptable(f"This resource is available as {', '.join(offers)}.")
    return best


def _json(body: Any, mimetype: str = "application/json", cache: str = SHORT_CACHE) -> Response:
    return _text(json.dumps(body, ensure_ascii=False), mimetype, cache)


def _text(body: str | bytes, mimetype: str, cache: str = SHORT_CACHE, etag: str | None = None) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public documents: wallets and verifiers fetch them
    response.vary.add("Accept")
    return _conditional(response, cache, etag)


def _badge_document(badge_id: uuid.UUID, kind: str, mimetype: str, cache: str) -> Response:
    body, etag = _download(badge_id, kind)
    return _text(body, mimetype, cache, etag)


def _is_earner(badge: Badge) -> bool:
    user = current_user()
    return user is not None and badge.earner_id is not None and user.id == badge.earner_id


def _downloadable(badge_id: uuid.UUID) -> tuple[Badge, str]:
    """The badge and the Cache-Control of its downloads, if its earner's consent allows them (``badges.consent``):
    none while it is pending; a hidden badge only to its earner (and never through a shared cache); a declined
    one is not there at all."""
    badge = issuing.get_badge(badge_id=badge_id)
    visibility = consent.visibility(badge)
    if visibility == consent.PUBLIC:
        return badge, DOWNLOAD_CACHE
    if visibility == consent.DECLINED:
        raise NotFound("No such badge.")
    if visibility == consent.HIDDEN and _is_earner(badge):
        return badge, "private, no-store"
    if visibility == consent.PENDING:
        raise Forbidden("This badge waits for its earner's acceptance; it cannot be downloaded until they accept it.")
    raise Forbidden("The earner has hidden this badge from public view; whoever holds it can still verify it.")


@bp.get("/badges/<uuid:badge_id>")
def badge_page(badge_id: uuid.UUID) -> Response | str:
    wanted = _negotiate("text/html", *JSON_TYPES, *JWT_TYPES)
    if wanted in JSON_TYPES or wanted in JWT_TYPES:
        _badge, cache = _downloadable(badge_id)
        cache = SHORT_CACHE if cache == DOWNLOAD_CACHE else cache
        return _badge_document(badge_id, "json" if wanted in JSON_TYPES else "jwt", wanted, cache)
    badge = issuing.get_badge(badge_id=badge_id)
    mine = _is_earner(badge)
    if consent.visibility(badge) == consent.DECLINED and not mine:
        raise NotFound("No such badge.")
    view = presentation.badge_view(badge, current_app.config["BASE_URL"])
    endorsed = endorsements.shown([t for t in (badge.version_id, badge.organisation_id) if t is not None])
    chain = renewal.state(badge, public=not mine)
    response = Response(render_template("badges/badge.html", v=view, mine=mine, endorsed=endorsed, renewal=chain))
    response.vary.add("Accept")
    # The earner's own view carries their controls: never kept by a shared cache.
    return _conditional(response, "private, no-cache" if mine else "no-cache")


@bp.get("/badges/<uuid:badge_id>.json")
def badge_json(badge_id: uuid.UUID) -> Response:
    _badge, cache = _downloadable(badge_id)  # who may download (acceptance, hiding) is checked every time
    return _badge_document(badge_id, "json", "application/vc+ld+json", cache)


@bp.get("/badges/<uuid:badge_id>.jwt")
def badge_jwt(badge_id: uuid.UUID) -> Response:
    # NOTES §3: VC-JWT files served on the web as text/plain.
    _badge, cache = _downloadable(badge_id)
    return _badge_document(badge_id, "jwt", "text/plain", cache)


@bp.get("/badges/<uuid:badge_id>.png")
def badge_png(badge_id: uuid.UUID) -> Response:
    _badge, cache = _downloadable(badge_id)
    data, etag = _download(badge_id, "png")
    response = Response(data, mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="badge-{badge_id}.png"'
    return _conditional(response, cache, etag)


@bp.get("/badges/<uuid:badge_id>.svg")
def badge_svg(badge_id: uuid.UUID) -> Response:
    _badge, cache = _downloadable(badge_id)
    data, etag = _download(badge_id, "svg")
    response = Response(data, mimetype="image/svg+xml")
    # Download, never render inline from our origin (an SVG is a document that could carry script).
    response.headers["Content-Disposition"] = f'attachment; filename="badge-{badge_id}.svg"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return _conditional(response, cache, etag)


@bp.get("/achievements/<uuid:achievement_id>")
def achievement(achievement_id: uuid.UUID) -> Response | str:
    achievement = presentation.achievement(achievement_id, current_app.config["BASE_URL"])
    wanted = _negotiate("text/html", *JSON_TYPES)
    if wanted in JSON_TYPES:
        endorsed = endorsements.embedded(achievement_id)
        body = {"@context": presentation.CONTEXTS_FOR_FRAGMENTS, **achievement}
        return _json({**body, "endorsement": endorsed} if endorsed else body, wanted)
    endorsed_by = endorsements.shown([achievement_id])
    return render_template(
        "badges/achievement.html", a=achievement, achievement_id=achievement_id, endorsed=endorsed_by
    )


@bp.get("/issuers/<uuid:organisation_id>")
def issuer(organisation_id: uuid.UUID) -> Response | str:
    organisation, profile = issuers.issuer_profile(organisation_id=organisation_id)
    wanted = _negotiate("text/html", *JSON_TYPES)
    if wanted in JSON_TYPES:
        endorsed = endorsements.embedded(organisation_id)
        return _json({**profile, "endorsement": endorsed} if endorsed else profile, wanted)
    endorsed_by = endorsements.shown([organisation_id])
    return render_template("badges/issuer.html", organisation=organisation, profile=profile, endorsed=endorsed_by)


@bp.get("/issuers/<uuid:organisation_id>/image")
def issuer_image(organisation_id: uuid.UUID) -> Response:
    """The issuer's logo (the ``image`` of its Profile): shown as a picture, never run as a document."""
    row = issuers.issuer_image(organisation_id=organisation_id)
    response = Response(row.data, mimetype=row.media_type)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return _conditional(response, STATUS_CACHE, row.sha256)


@bp.get("/issuers/<uuid:organisation_id>/keys/<kid>")
def issuer_key(organisation_id: uuid.UUID, kid: str) -> Response:
    row = issuers.get_key(organisation_id=organisation_id, kid=kid)
    # A kid names one key pair, but the key set changes on rotation: cached like the JWKS and the DID document.
    return _json(row.public_jwk, "application/jwk+json", STATUS_CACHE)


@bp.get("/issuers/<uuid:organisation_id>/did.json")
def did_document(organisation_id: uuid.UUID) -> Response:
    return _json(issuers.did_document(organisation_id=organisation_id), "application/did+json", STATUS_CACHE)


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    return _json({"keys": [row.public_jwk for row in issuers.list_keys()]}, "application/jwk-set+json", STATUS_CACHE)


@bp.get("/status-lists/<uuid:status_list_id>")
def status_list(status_list_id: uuid.UUID) -> Response:
    """RS256 VC-JWT by default (NOTES §6: both the 1EdTech validator and openbadgeslib check it); the JSON
    credential with a Data Integrity proof for clients asking for JSON-LD."""
    wanted = _negotiate(*JWT_TYPES, "text/plain", *JSON_TYPES)
    if wanted in JSON_TYPES:
        body = status.status_list_credential(status_list_id=status_list_id, form="json")
        return _json(body, wanted, STATUS_CACHE)
    token = status.status_list_credential(status_list_id=status_list_id, form="jwt")
    return _text(token, wanted if wanted != "text/plain" else "application/vc+jwt", STATUS_CACHE)


@bp.get("/my/badges")
def my_badges() -> WerkzeugResponse | str:
    if (redirect_to_sign_in := sign_in_redirect()) is not None:
        return redirect_to_sign_in
    user = signed_in_user()
    page = issuing.list_my_badges(actor=user, page=1, page_size=100)
    base = current_app.config["BASE_URL"]
    views = [presentation.badge_view(b, base) | {"renewal": renewal.state(b)} for b in page.items]
    pending = [v for v in views if v["visibility"] in (consent.PENDING, consent.DECLINED)]
    others = [v for v in views if v["visibility"] not in (consent.PENDING, consent.DECLINED)]
    from badges import misconduct

    cases = misconduct.active_cases_of(user.id)
    transcripts = clr.offers(actor=user)
    return render_template(
        "badges/my_badges.html",
        badges=others,
        pending=pending,
        total=page.total,
        misconduct_cases=cases,
        transcripts=transcripts,
    )


_DONE = {
    "accept": _l("Badge accepted: it is public now, and you can share it."),
    "decline": _l("Badge declined: it is not public. You can still accept it later."),
    "hide": _l("Badge hidden: its page now says only whether it is valid, without your name or evidence."),
    "show": _l("Badge shown: its page is public again."),
}


@bp.post("/my/badges/<uuid:badge_id>/<any(accept, decline, hide, show):change>")
def change_my_badge(badge_id: uuid.UUID, change: str) -> WerkzeugResponse:
    """The earner accepts, declines, hides or shows one of their badges (someone else's answers 404)."""
    if (redirect_to_sign_in := sign_in_redirect()) is not None:
        return redirect_to_sign_in
    try:
        badge = consent.CHANGES[change](actor=signed_in_user(), badge_id=badge_id)
    except NotFound:
        raise  # another person's badge: the same 404 page as an unknown id
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.detail)
    else:
        flash(_("%(done)s (%(title)s)", done=_DONE[change], title=badge.title))
    return redirect(url_for("badges.my_badges") + f"#badge-{badge_id}")


def badge_page_for_submission(submission_id: uuid.UUID) -> str | None:
    """The badge page a passed submission links to (registered with the earner's submission page)."""
    badge_id = issuing.badge_id_for_submission(submission_id)
    return url_for("badges.badge_page", badge_id=badge_id) if badge_id else None


def init_app(app: Flask) -> None:
    from core.views import register_nav
    from credentials.portfolios.views import on_badge_lookup

    app.register_blueprint(bp)
    register_nav(_l("My badges"), "badges.my_badges", visible=lambda user: user is not None, order=17)
    on_badge_lookup(badge_page_for_submission)
