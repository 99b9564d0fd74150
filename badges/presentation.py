"""What the public pages show, worked out from the stored (signed) credential — so the page and the
credential can never disagree — and the baked images. Reading only (but for ``kept_image``, which stores a badge's
baked image on its first download); no rules about who may do what."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from badges import baking, consent, documents
from badges.models import Badge, BakedImage
from core import clock
from core.db import db
from core.errors import NotFound
from core.models import Organisation, User
from credentials.authoring import images
from credentials.authoring.catalogue import aligned_items
from credentials.authoring.models import CredentialVersion, Stack, StackState, VersionState

CONTEXTS_FOR_FRAGMENTS = documents.CONTEXTS[:2]
STATUS_TEXT = {
    "valid": _l("VALID"),
    "revoked": _l("REVOKED"),
    "suspended": _l("SUSPENDED"),
    "expired": _l("EXPIRED"),
    "not_yet_valid": _l("NOT YET VALID"),
}


def linkedin_url(credential: dict[str, Any], url: str) -> str:
    """LinkedIn's "add licence or certification" link, pre-filled."""
    valid_from = credential["validFrom"]
    fields = {
        "startTask": "CERTIFICATION_NAME",
        "name": credential["credentialSubject"]["achievement"]["name"],
        "organizationName": credential["issuer"].get("name", ""),
        "issueYear": valid_from[:4],
        "issueMonth": str(int(valid_from[5:7])),
        "certUrl": url,
        "certId": url.rsplit("/", 1)[-1],
    }
    if credential.get("validUntil"):
        fields["expirationYear"] = credential["validUntil"][:4]
        fields["expirationMonth"] = str(int(credential["validUntil"][5:7]))
    return "https://www.linkedin.com/profile/add?" + urlencode(fields)


def badge_view(badge: Badge, base: str) -> dict[str, Any]:
    credential = badge.credential
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    url = f"{base}/badges/{badge.id}"
    descriptions = {rd["id"]: rd for rd in achievement.get("resultDescription", [])}
    results = []
    for result in subject.get("result", []):
        rd = descriptions.get(result.get("resultDescription", ""), {})
        levels = rd.get("rubricCriterionLevel", [])
        results.append(
            {
                "criterion": rd.get("name", ""),
                "level": result.get("value", ""),
                "of": [lv["name"] for lv in levels],
                "required": next((lv["name"] for lv in levels if lv["id"] == rd.get("requiredLevel")), None),
            }
        )
    status = badge.status()
    visibility = consent.visibility(badge)
    # Until the earner accepts (or once they hide it) the page names nobody and repeats no results or evidence.
    private = visibility != consent.PUBLIC
    return {
        "id": badge.id,
        "visibility": visibility,
        "acceptance": badge.acceptance,
        "hidden_at": badge.hidden_at,
        "url": url,
        "status": status,
        "status_text": STATUS_TEXT[status],
        "title": achievement["name"],
        "description": achievement.get("description", ""),
        "criteria": achievement.get("criteria", {}),
        "achievement_url": achievement["id"],
        "achievement_type": achievement.get("achievementType", ""),
        "image": achievement.get("image", {}).get("id"),
        "alignments": achievement.get("alignment", []),
        "results": [] if private else results,
        # An erased earner's badge stays valid, but its page no longer repeats the evidence it carries.
        "evidence": [] if private or _earner_erased(badge) else credential.get("evidence", []),
        "issuer": credential["issuer"],
        "issuer_page": documents.issuer_url(base, badge.organisation_id),
        "recipient_name": "" if private else badge.recipient_name,
        "awarded": credential.get("awardedDate", credential["validFrom"])[:10],
        "valid_from": credential["validFrom"][:10],
        "valid_until": credential.get("validUntil", "")[:10] or None,
        "revoked_at": badge.revoked_at,
        "revocation_reason": badge.revocation_reason,
        "suspended_at": badge.suspended_at,
        "suspension_reason": badge.suspension_reason,
        "linkedin": linkedin_url(credential, url),
        "downloads": {kind: f"{url}.{kind}" for kind in ("json", "jwt", "png", "svg")},
        "png_available": True,  # an SVG-only badge gets the default design as its PNG
        "checked_at": clock.now(),
    } | {"preview": link_preview(status, credential, badge, url, named=not private)}


_ERASED_AT = select(User.erased_at).where(User.id == bindparam("user_id"))


def _earner_erased(badge: Badge) -> bool:
    if badge.earner_id is None:
        return False
    # One column of one row (every page view asks): not the whole account as an ORM object.
    return db.session.scalar(_ERASED_AT, {"user_id": badge.earner_id}) is not None


def link_preview(
    status: str, credential: dict[str, Any], badge: Badge, url: str, *, named: bool = True
) -> dict[str, str]:
    """What a link preview (LinkedIn, Facebook, X, chat apps) shows: the baked PNG (none of them draws SVG) and a
    sentence that never claims a revoked, suspended, expired or not-yet-valid badge is simply "earned"; the
    earner's name only when ``named`` (a pending or hidden badge names nobody)."""
    achievement = credential["credentialSubject"]["achievement"]
    issuer = credential["issuer"].get("name", "")
    who = (badge.recipient_name if named else "") or "An educator"
    if status == "valid":
        sentence = f"{who} earned this micro-credential from {issuer}: {achievement.get('description', '')}"
    elif status == "revoked":
        when = badge.revoked_at.strftime("%Y-%m-%d") if badge.revoked_at else ""
        sentence = f"{issuer} revoked this badge{f' on {when}' if when else ''}. It is no longer valid."
    elif status == "suspended":
        when = badge.suspended_at.strftime("%Y-%m-%d") if badge.suspended_at else ""
        sentence = f"{issuer} suspended this badge{f' on {when}' if when else ''}. It is not valid while suspended."
    elif status == "expired":
        sentence = f"This badge from {issuer} expired on {credential.get('validUntil', '')[:10]}."
    else:
        sentence = f"This badge from {issuer} becomes valid on {credential['validFrom'][:10]}."
    return {
        "title": f"{achievement['name']} — {issuer}" + ("" if status == "valid" else f" ({STATUS_TEXT[status]})"),
        "description": sentence.strip()[:300],
        "image": f"{url}.png" if named else "",  # a pending or hidden badge's image is not downloadable
        "image_alt": f"Badge image of {achievement['name']}",
    }


# Media type of each version's badge image: published versions are immutable, and the page only needs to know
# whether a baked PNG exists (loading the image row would read the whole image on every page view).
def _default_design(badge: Badge) -> tuple[str, str]:
    """Title and colour seed of the generated default image (stable per micro-credential or stack)."""
    if badge.version_id is not None:
        version = db.session.get(CredentialVersion, badge.version_id)
        assert version is not None
        return version.title, str(version.micro_credential_id)
    return badge.title, str(badge.stack_id or badge.id)


def _image(badge: Badge) -> tuple[bytes, str]:
    """The image to bake: the version's uploaded badge image, else the generated default (SVG)."""
    if badge.version_id is not None:
        version = db.session.get(CredentialVersion, badge.version_id)
        assert version is not None
        if version.image is not None:
            return version.image.data, version.image.media_type
    title, seed = _default_design(badge)
    return images.default_badge_svg(title, seed=seed), "image/svg+xml"


def kept_image(badge: Badge, kind: str) -> BakedImage:
    """The baked image, made on its first download and kept (the VC-JWT inside never changes); a concurrent
    first download that loses the insert reads the winner's identical row."""
    row = db.session.get(BakedImage, (badge.id, kind))
    if row is not None:
        return row
    data = baked(badge, kind)
    row = BakedImage(badge_id=badge.id, kind=kind, sha256=hashlib.sha256(data).hexdigest(), data=data)
    try:
        db.session.add(row)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        kept = db.session.get(BakedImage, (badge.id, kind))
        assert kept is not None
        return kept
    return row


def baked(badge: Badge, kind: str) -> bytes:
    """The badge image with the VC-JWT baked in. For PNG: the uploaded PNG, else (an SVG image, which we do not
    rasterise) the default design drawn as a PNG. For SVG: the SVG, or a PNG image wrapped in an SVG."""
    data, media_type = _image(badge)
    if kind == "png":
        if media_type != "image/png":
            title, seed = _default_design(badge)
            data = images.default_badge_png(title, seed=seed)
        return baking.bake_png(data, badge.jwt)
    if media_type == "image/png":
        encoded = base64.b64encode(data).decode()
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="256" height="256" viewBox="0 0 256 256"><image width="256" height="256" '
            f'xlink:href="data:image/png;base64,{encoded}"/></svg>'
        )
    else:
        svg = data.decode("utf-8")
    return baking.bake_svg(svg, jws=badge.jwt).encode("utf-8")


def achievement(achievement_id: uuid.UUID, base: str) -> dict[str, Any]:
    """The ``Achievement`` of a published (or retired) version, or of a published stack."""
    version = db.session.get(CredentialVersion, achievement_id)
    if version is not None and version.state in (VersionState.PUBLISHED.value, VersionState.RETIRED.value):
        organisation = db.session.get(Organisation, version.organisation_id)
        assert organisation is not None
        return documents.achievement_for_version(version, organisation, base, aligned_items(version))
    stack = db.session.get(Stack, achievement_id)
    if stack is not None and stack.state != StackState.DRAFT.value:
        organisation = db.session.get(Organisation, stack.organisation_id)
        assert organisation is not None
        titles = []
        for member in stack.members:
            versions = [v for v in member.micro_credential.versions if v.state == VersionState.PUBLISHED.value]
            titles.append(versions[-1].title if versions else "(retired micro-credential)")
        return documents.achievement_for_stack(stack, organisation, base, titles)
    raise NotFound("No such published achievement.")
