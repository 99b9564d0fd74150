"""A verification report in plain words, for people: the verdict sentence and its reason first, the claims of
the badge only as far as they can be trusted, dates as dates, and a check that a badge names a given person.

``badges.verifier`` decides; this module only explains. It knows every status the verifier can give and
falls back to the check details for anything new, so a new status is never shown as "valid".
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from badges.verifier import Report

LABELS = {
    "valid": _l("VALID"),
    "revoked": _l("REVOKED"),
    "suspended": _l("SUSPENDED"),
    "expired": _l("EXPIRED"),
    "not_yet_valid": _l("NOT YET VALID"),
    "invalid": _l("NOT GENUINE"),
}

# What a failed step means for the person holding the badge; the technical detail follows in the table.
FAILED_STEP = {
    "parse": _l("It could not be read as a badge."),
    "fetch": _l("It could not be fetched from the address given."),
    "context": _l("It is not a well-formed Open Badge (its JSON-LD context is wrong)."),
    "type": _l("It is not a well-formed Open Badge (its type is wrong)."),
    "schema": _l("It is not a well-formed Open Badge (required parts are missing or malformed)."),
    "subject": _l("It does not say properly whom it was awarded to."),
    "issuer": _l("The issuer it names could not be confirmed."),
    "proof": _l(
        "The signature does not match the content: the badge was changed after it was issued, or it was not "
        "signed by the issuer it names."
    ),
    "status": _l("Whether it has been revoked could not be checked."),
    "validity": _l("Its dates are not readable."),
    "credentials": _l(
        "A credential this learner record (CLR) holds is not genuine, so the record cannot be relied on."
    ),
}


@dataclass(frozen=True)
class Verdict:
    status: str
    label: str
    headline: str
    reasons: list[str]
    trusted: bool  # the badge's claims (name, issuer, dates) can be relied on
    badge: str | None
    issuer: str | None
    valid_from: datetime | None
    valid_until: datetime | None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_date(value: Any) -> datetime | None:
    """An ISO 8601 date-time as the credential gives it, or None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def long_date(moment: datetime | None) -> str:
    """The date in words in the page's language ("December 3, 2026", "3 de diciembre de 2026")."""
    return "" if moment is None else format_date(moment, "long")


def explain(report: Report) -> Verdict:
    credential = report.credential or {}
    subject = _mapping(credential.get("credentialSubject"))
    achievement = _mapping(subject.get("achievement"))
    issuer = _mapping(credential.get("issuer"))
    badge = achievement.get("name") or credential.get("name")
    issuer_name = (
        issuer.get("name")
        or issuer.get("id")
        or (credential.get("issuer") if isinstance(credential.get("issuer"), str) else None)
    )
    valid_from = parse_date(credential.get("validFrom") or credential.get("issuanceDate"))
    valid_until = parse_date(credential.get("validUntil") or credential.get("expirationDate"))
    status = report.status
    who = issuer_name or _("The issuer")
    what = f"“{badge}”" if badge else _("this badge")
    failed = [c for c in report.checks if not c["passed"] and c.get("severity") != "warning"]  # warnings: shown apart
    reasons = list(dict.fromkeys(str(FAILED_STEP.get(c["step"], c["detail"])) for c in failed))
    if status == "valid":
        headline = _(
            "Genuine and valid: %(who)s issued %(what)s, and it has not been changed since.", who=who, what=what
        )
    elif status == "revoked":
        headline = _("Revoked: %(who)s issued %(what)s but has withdrawn it. It no longer counts.", who=who, what=what)
        reasons = [_status_detail(report, "revoked")]
    elif status == "suspended":
        headline = _(
            "Suspended: %(who)s issued %(what)s but has put it on hold. It does not count until %(who)s lifts it.",
            who=who,
            what=what,
        )
        reasons = [_status_detail(report, "suspended")]
    elif status == "expired":
        headline = _(
            "Expired: %(who)s issued %(what)s, genuinely, but it was valid only until %(until)s.",
            who=who,
            what=what,
            until=long_date(valid_until),
        )
    elif status == "not_yet_valid":
        headline = _(
            "Not valid yet: %(who)s issued %(what)s, genuinely, but it counts only from %(since)s.",
            who=who,
            what=what,
            since=long_date(valid_from),
        )
    elif status == "invalid":
        headline = _("Not genuine: do not rely on this badge or on anything it says.")
        reasons = reasons or [_("It could not be checked.")]
    else:  # a status this page does not know yet: never present it as good
        headline = _("%(status)s: read the checks below.", status=status.replace("_", " ").capitalize())
    return Verdict(
        status=status,
        label=str(LABELS.get(status, status.upper())),
        headline=headline,
        reasons=[r for r in reasons if r],
        trusted=status != "invalid",
        badge=badge,
        issuer=issuer_name,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _status_detail(report: Report, word: str) -> str:
    """The status check's own detail (it carries the issuer's reason when the list gives one)."""
    for check in report.checks:
        if check["step"] == "status" and check["detail"].startswith(word):
            return check["detail"]
    return ""


def _identifiers(subject: dict[str, Any]) -> list[dict[str, Any]]:
    found = subject.get("identifier")
    items = found if isinstance(found, list) else [found]
    return [item for item in items if isinstance(item, dict)]


def recipient_matches(credential: dict[str, Any] | None, email: str) -> bool | None:
    """Does the badge name this e-mail address? None when it names its earner in no way an e-mail can match.

    OB 3.0 names the earner with ``credentialSubject.identifier`` IdentityObjects: ``identityHash`` is the
    plain identity when ``hashed`` is false, else ``<algorithm>$<hex digest>`` of the identity followed by
    ``salt`` (sha256, or md5 from older issuers). Issuers differ on case, so both the address as typed and
    lower-cased are tried. ``credentialSubject.id`` as ``mailto:`` counts too.
    """
    subject = _mapping((credential or {}).get("credentialSubject"))
    candidates = list(dict.fromkeys([email.strip(), email.strip().lower()]))
    checkable = False
    subject_id = subject.get("id")
    if isinstance(subject_id, str) and subject_id.lower().startswith("mailto:"):
        checkable = True
        if subject_id[7:].lower() == email.strip().lower():
            return True
    for identity in _identifiers(subject):
        kind = identity.get("identityType")
        value = identity.get("identityHash")
        if kind not in (None, "emailAddress") or not isinstance(value, str):
            continue
        checkable = True
        if identity.get("hashed") is False:
            if value.strip().lower() == email.strip().lower():
                return True
            continue
        algorithm, _sep, digest = value.partition("$")
        if algorithm.lower() not in ("sha256", "md5") or not digest:
            continue
        salt = identity.get("salt") if isinstance(identity.get("salt"), str) else ""
        for candidate in candidates:
            computed = hashlib.new(algorithm.lower(), (candidate + salt).encode()).hexdigest()
            if hmac.compare_digest(computed, digest.lower()):
                return True
    return False if checkable else None
