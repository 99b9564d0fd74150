"""The earner's "Add to wallet" page: one badge offered to a wallet, as QR codes and links.

The QR codes are made here (segno, SVG inline): nothing leaves the service to draw them. The offer's secrets are
shown once, on the answer to the form, and never again (the database keeps their digests only).
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote, urlencode

import segno
from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from badges import issuing
from badges.oid4vci import services
from badges.oid4vci.api import absolute, issuer_identifier
from core.db import db
from core.errors import NotFound, ServiceError
from core.views import require_sign_in, signed_in_user

bp = Blueprint(
    "wallet_offer", __name__, template_folder="templates", static_folder="static", static_url_path="/oid4vci/static"
)
require_sign_in(bp)
OFFER_SCHEME = "openid-credential-offer://"
LCW_UNIVERSAL = "https://lcw.app/request.html"
LCW_SCHEME = "dccrequest://request"


def qr_svg(data: str, label: str) -> Markup:
    """An inline SVG QR code of ``data`` (error correction M: readable off a phone screen held at an angle)."""
    svg = segno.make(data, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff", omitsize=True)
    # segno writes the SVG from our own offer URL: markup we made, not text from anyone.
    return Markup('<span class="qr" role="img" aria-label="{}">{}</span>').format(label, Markup(svg))  # noqa: S704


def offer_links(new: services.NewOffer) -> dict[str, str]:
    """The ways a wallet receives this offer: OID4VCI by reference and by value, and the DCC's request link."""
    issuer = issuer_identifier()
    reference = absolute("oid4vci.offer", code=new.code)
    by_value = json.dumps(
        services.offer_object(issuer=issuer, code=new.code, pin_delivery=new.offer.pin_delivery),
        separators=(",", ":"),
    )
    lcw_request = json.dumps(
        {
            "credentialRequestOrigin": issuer,
            "protocols": {"vcapi": absolute("oid4vci.exchange", exchange=new.exchange)},
        },
        separators=(",", ":"),
    )
    return {
        "oid4vci": OFFER_SCHEME + "?" + urlencode({"credential_offer_uri": reference}, quote_via=quote),
        "oid4vci_by_value": OFFER_SCHEME + "?" + urlencode({"credential_offer": by_value}, quote_via=quote),
        "lcw": LCW_UNIVERSAL + "?" + urlencode({"request": lcw_request}, quote_via=quote),
        "lcw_app": LCW_SCHEME + "?" + urlencode({"request": lcw_request}, quote_via=quote),
    }


def _own_badge(badge_id: uuid.UUID) -> object:
    badge = issuing.get_badge(badge_id=badge_id)
    if badge.earner_id != signed_in_user().id:
        raise NotFound("No such badge.")
    return badge


@bp.route("/my/badges/<uuid:badge_id>/wallet", methods=["GET", "POST"])
def add_to_wallet(badge_id: uuid.UUID) -> str | WerkzeugResponse:
    """GET: what adding to a wallet means, and the button; POST: a new offer, its QR codes and links."""
    badge = _own_badge(badge_id)
    if request.method == "GET":
        return render_template("oid4vci/wallet.html", badge=badge, offer=None, ttl=services.OFFER_TTL)
    try:
        choice = request.form.get("pin", "email")
        new = services.create_offer(actor=signed_in_user(), badge_id=badge_id, pin=None if choice == "none" else choice)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.detail)
        return redirect(url_for("badges.my_badges") + f"#badge-{badge_id}")
    links = offer_links(new)
    response = render_template(
        "oid4vci/wallet.html",
        badge=badge,
        offer=new,
        offer_urls=links,
        ttl=services.OFFER_TTL,
        qr_oid4vci=qr_svg(links["oid4vci"], "QR code of the OpenID4VCI credential offer"),
        qr_lcw=qr_svg(links["lcw"], "QR code of the Learner Credential Wallet request"),
    )
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def _no_store_offers(response: WerkzeugResponse) -> WerkzeugResponse:
        # A page showing live codes must not be kept by the browser's cache or a proxy.
        if request.endpoint == "wallet_offer.add_to_wallet" and request.method == "POST":
            response.headers["Cache-Control"] = "no-store"
        return response
