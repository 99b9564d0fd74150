"""The badge image tab of a version's pages: see the image, upload a PNG or SVG, or go back to the generated
design. Its own module beside ``views`` (the editor's pages), on the same blueprint; the rules are
``credentials.authoring.images``."""

from __future__ import annotations

import uuid

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from core.db import db
from core.errors import ServiceError, ValidationFailed
from credentials.authoring import images
from credentials.authoring.views import Page, _render_version, _user, _version, bp


@bp.route("/versions/<uuid:version_id>/image", methods=["GET", "POST"])
def badge_image(version_id: uuid.UUID) -> Page:
    """The badge image: see it, upload a PNG or SVG (checked by content; an SVG is cleaned) or go back to the
    generated design. Only a draft's image changes."""
    version = _version(version_id)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "default":
                images.remove_image(actor=_user(), version_id=version.id)
                flash(_("The badge uses the generated design again."))
            else:
                upload = request.files.get("image")
                data = upload.read() if upload and upload.filename else b""
                if not data:
                    raise ValidationFailed.field("file", "Choose a PNG or SVG file to upload.")
                images.set_image(actor=_user(), version_id=version.id, data=data)
                flash(_("Badge image saved."))
            return redirect(url_for("authoring.badge_image", version_id=version.id))
        except ServiceError as exc:
            db.session.rollback()
            status = exc.status
            errors = {"image": [e["detail"] for e in exc.errors] or [exc.detail]}
            version = _version(version_id)
    html = _render_version(
        "credentials/authoring/image.html",
        version,
        "image",
        errors=errors,
        image_key=version.image_id or "default",
        max_image_kib=images.MAX_IMAGE_BYTES // 1024,
        max_pixels=images.MAX_PIXELS,
    )
    return (html, status) if errors else html
