"""The verifier's report in plain words, and the recipient check against OB 3.0 identity objects."""

from __future__ import annotations

import hashlib

from badges.verdict import explain, long_date, parse_date, recipient_matches
from badges.verifier import Report


def _subject(*identifiers: dict, **extra: str) -> dict:
    return {"credentialSubject": {"identifier": list(identifiers), **extra}}


def test_hashed_identifiers_match_with_their_salt_and_algorithm():
    salted = hashlib.sha256(b"ana@example.org" + b"pepper").hexdigest()
    credential = _subject(
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "identityHash": f"sha256${salted}",
            "salt": "pepper",
        }
    )
    assert recipient_matches(credential, "ana@example.org") is True
    assert recipient_matches(credential, " Ana@Example.org ") is True  # issuers hash the lower-cased address
    assert recipient_matches(credential, "bob@example.org") is False
    legacy = hashlib.md5(b"Ana@Example.org", usedforsecurity=False).hexdigest()
    old = _subject({"identityType": "emailAddress", "hashed": True, "identityHash": f"md5${legacy.upper()}"})
    assert recipient_matches(old, "Ana@Example.org") is True
    assert recipient_matches(old, "ana@example.org") is False  # hashed as typed by that issuer: case matters


def test_plain_and_mailto_identifiers_and_nothing_to_check():
    plain = _subject({"identityType": "emailAddress", "hashed": False, "identityHash": "Ana@Example.org"})
    assert recipient_matches(plain, "ana@example.org") is True
    assert recipient_matches({"credentialSubject": {"id": "mailto:ana@example.org"}}, "ANA@example.org") is True
    assert recipient_matches({"credentialSubject": {"id": "did:example:123"}}, "ana@example.org") is None
    student_id = _subject({"identityType": "studentId", "hashed": False, "identityHash": "12345"})
    assert recipient_matches(student_id, "ana@example.org") is None
    unknown_algorithm = _subject({"identityType": "emailAddress", "hashed": True, "identityHash": "sha1$abc"})
    assert recipient_matches(unknown_algorithm, "ana@example.org") is False
    for hostile in (None, {}, {"credentialSubject": "x"}, {"credentialSubject": {"identifier": ["x", 3, None]}}):
        assert recipient_matches(hostile, "ana@example.org") is None


def _report(*checks: tuple[str, bool, str], **flags: bool) -> Report:
    report = Report(
        credential={
            "issuer": {"name": "Riverside"},
            "credentialSubject": {"achievement": {"name": "Close Reading"}},
            "validUntil": "2026-03-05T00:00:00Z",
        }
    )
    for step, passed, detail in checks:
        report.add(step, passed, detail)
    for name, value in flags.items():
        setattr(report, name, value)
    return report


def test_each_status_in_words(app):
    valid = explain(_report(("proof", True, "ok")))
    assert valid.headline.startswith("Genuine and valid: Riverside issued “Close Reading”") and valid.trusted
    forged = explain(_report(("proof", False, "eddsa-rdfc-2022: signature does not verify")))
    assert forged.label == "NOT GENUINE" and not forged.trusted and "Close Reading" not in forged.headline
    assert forged.reasons == [
        "The signature does not match the content: the badge was changed after it was issued, or it was not signed by "
        "the issuer it names."
    ]
    revoked = explain(_report(("status", True, "revoked: bit 7 is set in the signed status list x"), revoked=True))
    assert revoked.headline.startswith("Revoked:") and "bit 7" in revoked.reasons[0]
    expired = explain(_report(("validity", True, "expired"), expired=True))
    assert expired.headline.endswith("valid only until March 5, 2026.")
    nothing = explain(Report())
    assert nothing.status == "invalid" and nothing.reasons == ["It could not be checked."]


def test_dates_read_in_words_and_bad_dates_are_dropped(app):
    assert long_date(parse_date("2026-12-03T10:00:00Z")) == "December 3, 2026"
    assert parse_date("yesterday") is None and parse_date(17) is None and parse_date("") is None
    assert long_date(None) == ""
