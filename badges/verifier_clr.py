"""What ``badges.verifier`` checks beyond one Open Badge: a ClrCredential (CLR 2.0) and the credentials it holds,
and EndorsementCredentials embedded in a credential, its issuer or its achievements.

* A **CLR** is itself a signed credential (its own proof, context, type and ``ClrSubject`` checks), and each
  credential in ``credentialSubject.verifiableCredential`` (a JSON object or a compact VC-JWT) is verified on its
  own, as if it were pasted alone, and reported in ``nested_credentials``. One that is not genuine makes the CLR
  fail (a transcript holding a forged badge is not to be relied on as a whole); one that is genuine but revoked,
  suspended, expired or not yet valid is a warning (``kind: nested``) naming it.
* An **endorsement** (``endorsement`` objects or ``endorsementJwt`` strings on the credential, its issuer, an
  achievement or an achievement's creator) is a third party's signed claim about the thing it is embedded in.
  Each is verified on its own, with the EndorsementCredential schema, and listed in ``endorsements``; one that
  does not verify is a warning (``kind: endorsement``) on the credential around it, whose own signature is what
  makes it genuine.

Both descend at most ``MAX_DEPTH`` levels and at most ``MAX_NESTED`` / ``MAX_ENDORSEMENTS`` items, so a hostile
document cannot make one verification endless.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

CLR_TYPE = "ClrCredential"
CLR_CONTEXT_PATTERN = re.compile(r"^https://purl\.imsglobal\.org/spec/clr/v2p0/context-2\.0\.\d\.json$")
JWS_PATTERN = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
MAX_DEPTH = 2
MAX_NESTED = 100
MAX_ENDORSEMENTS = 20
NOT_CURRENT = {"revoked", "suspended", "expired", "not_yet_valid"}

Verify = Callable[[Any, int], Any]  # (credential, depth) -> Report


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(value: Any) -> list[Any]:
    return _as_list(value.get("type")) if isinstance(value, dict) else []


def is_clr(credential: dict[str, Any]) -> bool:
    return CLR_TYPE in _types(credential)


def _subject(credential: dict[str, Any]) -> dict[str, Any]:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    return subject if isinstance(subject, dict) else {}


def check_subject(credential: dict[str, Any], report: Any, conformance: Callable[[Any, str, str], None]) -> None:
    """A ClrSubject must say so in its type and hold at least one credential (CLR 2.0 §ClrSubject)."""
    subject = _subject(credential)
    held = _as_list(subject.get("verifiableCredential"))
    if "ClrSubject" not in _types(subject):
        conformance(report, "subject", "a ClrCredential's credentialSubject must have type ClrSubject")
    elif not held:
        conformance(report, "subject", "the ClrSubject holds no verifiableCredential")
    else:
        named = "a learner named by identifier" if subject.get("identifier") else "an unnamed learner"
        report.add("subject", True, f"a CLR of {len(held)} credential(s) for {subject.get('id') or named}")


def _name(credential: Any) -> str:
    if not isinstance(credential, dict):
        return "unreadable credential"
    achievement = _subject(credential).get("achievement")
    if isinstance(achievement, list):
        achievement = achievement[0] if achievement else None
    named = credential.get("name") or (achievement.get("name") if isinstance(achievement, dict) else None)
    return str(named or credential.get("id") or "unnamed credential")


def _issuer_name(credential: Any) -> str:
    issuer = credential.get("issuer") if isinstance(credential, dict) else None
    if isinstance(issuer, dict):
        return str(issuer.get("name") or issuer.get("id") or "an unnamed issuer")
    return str(issuer or "an unnamed issuer")


def _first_failure(nested: Any) -> str:
    for check in nested.checks:
        if not check["passed"] and check.get("severity") != "warning":
            return f"{check['step']}: {check['detail']}"
    return "it could not be verified"


def _readable(item: Any) -> bool:
    return isinstance(item, dict) or (isinstance(item, str) and bool(JWS_PATTERN.match(item.strip())))


def verify_nested(credential: dict[str, Any], report: Any, verify: Verify, depth: int) -> None:
    """Verify each credential a CLR holds; record them in ``report.nested`` and one ``credentials`` check."""
    held = _as_list(_subject(credential).get("verifiableCredential"))
    if not held:
        return
    if depth >= MAX_DEPTH:
        report.add("credentials", False, f"credentials nested more than {MAX_DEPTH} levels deep are not verified")
        return
    if len(held) > MAX_NESTED:
        report.add("credentials", False, f"the CLR holds {len(held)} credentials; at most {MAX_NESTED} are verified")
        return
    failed = []
    for number, item in enumerate(held, start=1):
        if not _readable(item):
            failed.append(f"credential {number} is neither a credential object nor a compact VC-JWT")
            continue
        nested = verify(item, depth + 1)
        report.nested.append(nested)
        label = f"credential {number} ({_name(nested.credential)}, from {_issuer_name(nested.credential)})"
        if nested.status == "invalid":
            failed.append(f"{label} is not genuine: {_first_failure(nested)}")
        elif nested.status in NOT_CURRENT:
            report.warn("credentials", "nested", f"{label} is {nested.status.replace('_', ' ')}")
    if failed:
        report.add("credentials", False, "; ".join(failed))
    else:
        report.add("credentials", True, f"all {len(held)} credential(s) in the CLR are genuine")


def _holders(credential: dict[str, Any]) -> list[tuple[str, Any]]:
    """Where endorsements may be embedded: the credential, its issuer, each achievement and its creator."""
    found: list[tuple[str, Any]] = [("the credential", credential), ("its issuer", credential.get("issuer"))]
    subject = _subject(credential)
    for number, achievement in enumerate(_as_list(subject.get("achievement")), start=1):
        if isinstance(achievement, dict):
            where = "the achievement" if not isinstance(subject.get("achievement"), list) else f"achievement {number}"
            found.append((where, achievement))
            found.append((f"the creator of {where}", achievement.get("creator")))
    return [(where, holder) for where, holder in found if isinstance(holder, dict)]


def endorsements_of(credential: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every embedded endorsement (object or compact JWT) with where it was found."""
    found = []
    for where, holder in _holders(credential):
        for item in _as_list(holder.get("endorsement")) + _as_list(holder.get("endorsementJwt")):
            found.append((where, item))
    return found


def verify_endorsements(credential: dict[str, Any], report: Any, verify: Verify, depth: int) -> None:
    """Verify each embedded endorsement; record them in ``report.endorsements`` with ``endorsement`` checks."""
    found = endorsements_of(credential)
    if not found:
        return
    if depth >= MAX_DEPTH or len(found) > MAX_ENDORSEMENTS:
        report.warn(
            "endorsement", "endorsement", f"{len(found)} embedded endorsement(s) not verified (too many or too deep)"
        )
        return
    for where, item in found:
        if not _readable(item):
            report.warn("endorsement", "endorsement", f"an endorsement of {where} is neither JSON nor a VC-JWT")
            continue
        nested = verify(item, depth + 1)
        report.endorsements.append((where, nested))
        who = _issuer_name(nested.credential)
        if nested.status == "valid" and "EndorsementCredential" not in _types(nested.credential):
            report.warn(
                "endorsement", "endorsement", f"the endorsement of {where} by {who} is not an EndorsementCredential"
            )
        elif nested.status == "valid":
            report.add("endorsement", True, f"endorsement of {where} by {who} verified")
        elif nested.status == "invalid":
            report.warn(
                "endorsement",
                "endorsement",
                f"the endorsement of {where} by {who} is not genuine: {_first_failure(nested)}",
            )
        else:
            report.warn(
                "endorsement",
                "endorsement",
                f"the endorsement of {where} by {who} is {nested.status.replace('_', ' ')}",
            )


def summary(nested: Any, where: str | None = None) -> dict[str, Any]:
    """One nested credential or endorsement in the API report."""
    credential = nested.credential if isinstance(nested.credential, dict) else {}
    entry: dict[str, Any] = {
        "id": credential.get("id"),
        "type": [t for t in _types(credential) if isinstance(t, str)],
        "name": _name(credential),
        "issuer": _issuer_name(credential),
        "verified": nested.verified,
        "status": nested.status,
        "checks": nested.checks,
        "warnings": nested.warnings,
    }
    if where is not None:
        entry["where"] = where
        comment = _subject(credential).get("endorsementComment")
        entry["comment"] = comment if isinstance(comment, str) else None
    return entry
