"""ClrCredential 2.0 and embedded endorsements: each credential a CLR holds and each endorsement is verified on its
own and reported; forged, tampered, revoked and hostile variants (signed here with keys made per run)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from badges import proofs, verifier_clr
from badges.verifier import verify
from tests.badges.samples import ISSUER, credential, rsa_key
from tests.badges.test_verifier import KID, NOW, _di, _entry, _failed, _status_list, web  # noqa: F401
from tests.conftest import csrf_token

CLR_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
ENDORSER = "https://endorser.example/issuers/3"
ENDORSER_KEY = Ed25519PrivateKey.generate()


def _badge(number: int, **changes: Any) -> dict[str, Any]:
    badge = credential(id=f"https://issuer.example/badges/{number}", name=f"Badge {number}", **changes)
    badge["credentialSubject"]["achievement"]["name"] = f"Achievement {number}"
    return _di(badge)


def _clr(*held: Any, sign: bool = True) -> dict[str, Any]:
    clr = {
        "@context": CLR_CONTEXTS,
        "id": "https://issuer.example/records/9",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": ISSUER, "type": ["Profile"], "name": "Example District"},
        "validFrom": "2025-01-01T00:00:00Z",
        "name": "Transcript",
        "credentialSubject": {"id": "did:example:earner1", "type": ["ClrSubject"], "verifiableCredential": list(held)},
    }
    return _di(clr) if sign else clr


def _endorsement(subject_id: str = "https://issuer.example/achievements/42", number: int = 1) -> dict[str, Any]:
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"https://endorser.example/endorsements/{number}",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "issuer": {"id": ENDORSER, "type": ["Profile"], "name": "State Board"},
        "validFrom": "2025-01-01T00:00:00Z",
        "name": "Endorsement of Close Reading",
        "credentialSubject": {
            "id": subject_id,
            "type": ["EndorsementSubject"],
            "endorsementComment": "Meets the state's literacy standard",
        },
    }
    vm = f"{ENDORSER}#{proofs.multikey(ENDORSER_KEY.public_key())}"
    return proofs.sign_eddsa_rdfc_2022(document, ENDORSER_KEY, vm, "2025-01-01T00:00:00Z")


def _with_endorsement(endorsement: Any) -> dict[str, Any]:
    badge = credential()
    badge["credentialSubject"]["achievement"]["endorsement"] = [endorsement]
    return _di(badge)


# -- CLR ------------------------------------------------------------------------------------------------------


def test_a_clr_and_each_credential_it_holds_are_verified_and_reported(web: dict) -> None:  # noqa: F811
    token = proofs.sign_vc_jwt(_badge(2), rsa_key(), KID)
    report = verify(_clr(_badge(1), token), now=NOW)
    assert report.status == "valid", _failed(report)
    steps = {c["step"]: c for c in report.checks}
    assert steps["context"]["passed"] and steps["type"]["passed"]
    assert "CLR 2.0 JSON Schema is not bundled" in steps["schema"]["detail"]
    assert steps["subject"]["detail"].startswith("a CLR of 2 credential(s)")
    assert steps["credentials"] == {"step": "credentials", "passed": True,
                                    "detail": "all 2 credential(s) in the CLR are genuine"}  # fmt: skip
    answer = report.as_dict()
    nested = answer["nested_credentials"]
    assert [n["name"] for n in nested] == ["Badge 1", "Badge 2"]
    assert all(n["verified"] and n["status"] == "valid" for n in nested)
    assert any("VC-JWT RS256 signature valid" in c["detail"] for c in nested[1]["checks"])
    assert answer["endorsements"] == []
    assert {"verified", "status", "checks", "warnings", "credential"} <= set(answer)


def test_a_forged_credential_inside_a_genuine_clr_makes_it_invalid(web: dict) -> None:  # noqa: F811
    forged = _badge(2)
    forged["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    report = verify(_clr(_badge(1), forged), now=NOW)
    assert report.status == "invalid"
    assert [c["passed"] for c in report.checks if c["step"] == "proof"] == [True]  # the CLR itself is genuine
    failed = [c["detail"] for c in report.checks if c["step"] == "credentials" and not c["passed"]]
    assert failed and "credential 2 (Badge 2, from Example District) is not genuine" in failed[0]
    assert [n.status for n in report.nested] == ["valid", "invalid"]


def test_a_tampered_clr_is_invalid(web: dict) -> None:  # noqa: F811
    clr = _clr(_badge(1))
    clr["credentialSubject"]["verifiableCredential"].append(_badge(2))  # added after the CLR was signed
    report = verify(clr, now=NOW)
    assert report.status == "invalid"
    assert [c["passed"] for c in report.checks if c["step"] == "proof"] == [False]


def test_a_revoked_credential_in_a_clr_is_a_warning_naming_it(web: dict) -> None:  # noqa: F811
    web["https://issuer.example/status-lists/3"] = _status_list(94567)
    report = verify(_clr(_badge(1), _badge(2, credentialStatus=_entry())), now=NOW)
    assert report.status == "valid", _failed(report)
    assert report.warnings == [
        {"step": "credentials", "kind": "nested", "detail": "credential 2 (Badge 2, from Example District) is revoked"}
    ]
    assert report.as_dict()["nested_credentials"][1]["status"] == "revoked"


def test_clr_context_and_subject_rules(web: dict) -> None:  # noqa: F811
    wrong = _clr(_badge(1), sign=False)
    wrong["@context"] = [CLR_CONTEXTS[0], CLR_CONTEXTS[2]]
    report = verify(_di(wrong), now=NOW)
    assert any(c["step"] == "context" and not c["passed"] and "CLR 2.0 context" in c["detail"] for c in report.checks)

    untyped = _clr(_badge(1), sign=False)
    untyped["credentialSubject"]["type"] = ["AchievementSubject"]
    report = verify(_di(untyped), now=NOW)
    assert report.status == "valid"  # genuinely signed: the rule is a conformance warning
    assert report.warnings[0]["kind"] == "conformance" and "ClrSubject" in report.warnings[0]["detail"]


@pytest.mark.parametrize(
    "held, reason",
    [
        (["https://issuer.example/badges/1"], "neither a credential object nor a compact VC-JWT"),
        (
            [{"id": f"urn:x:{i}"} for i in range(verifier_clr.MAX_NESTED + 1)],
            f"at most {verifier_clr.MAX_NESTED} are verified",
        ),
        ([42], "neither a credential object nor a compact VC-JWT"),
    ],
)
def test_hostile_clr_contents_fail_without_fetching(web: dict, held: list, reason: str) -> None:  # noqa: F811
    report = verify(_clr(*held), now=NOW)
    assert report.status == "invalid"
    assert any(c["step"] == "credentials" and reason in c["detail"] for c in report.checks), _failed(report)


def test_clrs_nested_deeper_than_the_limit_are_not_verified(web: dict) -> None:  # noqa: F811
    inner = _clr(_clr(_badge(1)))
    report = verify(_clr(inner), now=NOW)
    assert report.status == "invalid"
    deepest = report.nested[0].nested[0]
    assert any("nested more than 2 levels" in c["detail"] for c in deepest.checks)


# -- endorsements ---------------------------------------------------------------------------------------------


def test_an_embedded_endorsement_is_verified_and_listed(web: dict) -> None:  # noqa: F811
    report = verify(_with_endorsement(_endorsement()), now=NOW)
    assert report.status == "valid", _failed(report)
    assert report.warnings == []
    (listed,) = report.as_dict()["endorsements"]
    assert listed["where"] == "the achievement"
    assert listed["issuer"] == "State Board" and listed["comment"] == "Meets the state's literacy standard"
    assert listed["verified"] is True
    assert any(c["step"] == "schema" and "endorsementcredential" in c["detail"] for c in listed["checks"])
    assert any(c["step"] == "endorsement" and c["passed"] for c in report.checks)


def test_an_endorsement_as_a_jwt_on_the_issuer(web: dict) -> None:  # noqa: F811
    pages_key = rsa_key()
    token = proofs.sign_vc_jwt(_endorsement(ISSUER), pages_key, "https://endorser.example/keys/1")
    web["https://endorser.example/keys/1"] = {
        **json.loads(json.dumps(web[KID])),
        "kid": "https://endorser.example/keys/1",
    }
    badge = credential()
    badge["issuer"]["endorsementJwt"] = [token]
    report = verify(_di(badge), now=NOW)
    assert report.status == "valid", _failed(report)
    assert [where for where, _ in report.endorsements] == ["its issuer"]
    assert report.endorsements[0][1].status == "valid", _failed(report.endorsements[0][1])


def test_a_forged_endorsement_is_a_warning_on_a_genuine_badge(web: dict) -> None:  # noqa: F811
    forged = _endorsement()
    forged["credentialSubject"]["endorsementComment"] = "The best programme in the country"
    report = verify(_with_endorsement(forged), now=NOW)
    assert report.status == "valid"  # the badge's own signature is genuine
    (warning,) = report.warnings
    assert warning["kind"] == "endorsement"
    assert warning["detail"].startswith("the endorsement of the achievement by State Board is not genuine")
    assert report.as_dict()["endorsements"][0]["verified"] is False


def test_an_endorsement_added_after_signing_breaks_the_badge(web: dict) -> None:  # noqa: F811
    badge = _di(credential())
    badge["credentialSubject"]["achievement"]["endorsement"] = [_endorsement()]
    assert verify(badge, now=NOW).status == "invalid"


def test_too_many_endorsements_are_not_verified(web: dict) -> None:  # noqa: F811
    badge = credential()
    badge["credentialSubject"]["achievement"]["endorsement"] = [_endorsement(number=n) for n in range(21)]
    report = verify(_di(badge), now=NOW)
    assert report.status == "valid"
    assert report.warnings[0]["kind"] == "endorsement" and "not verified" in report.warnings[0]["detail"]


# -- API and page ---------------------------------------------------------------------------------------------


def test_api_reports_nested_credentials_and_endorsements(client: FlaskClient, web: dict) -> None:  # noqa: F811
    clr = _clr(_badge(1), _with_endorsement(_endorsement()))
    body = client.post("/api/v1/verify", json={"credential": clr}).get_json()
    assert body["status"] == "valid", body["checks"]
    assert [n["status"] for n in body["nested_credentials"]] == ["valid", "valid"]
    assert body["endorsements"] == []  # the endorsement belongs to the second credential, reported there
    assert body["nested_credentials"][1]["name"] == "Close Reading"


def test_page_lists_the_clr_credentials_and_endorsements_in_words(client: FlaskClient, web: dict) -> None:  # noqa: F811
    def checked(document: dict[str, Any]) -> str:
        token = csrf_token(client.get("/verify").get_data(as_text=True))
        return client.post("/verify", data={"csrf_token": token, "text": json.dumps(document)}).get_data(as_text=True)

    page = checked(_clr(_badge(1), _with_endorsement(_endorsement())))
    assert "Credentials in this record" in page
    assert "Genuine and valid: Example District issued “Achievement 1”" in page
    text = checked(_with_endorsement(_endorsement()))
    assert "Endorsements" in text and "State Board endorses the achievement" in text and "Meets the state" in text
    forged = _badge(2)
    forged["name"] = "Forged"
    page = checked(_clr(_badge(1), forged))
    assert "NOT GENUINE" in page and "Not genuine: do not rely on this badge" in page
    assert "A credential this learner record (CLR) holds is not genuine" in page
