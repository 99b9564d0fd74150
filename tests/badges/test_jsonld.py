"""The offline document loader and RDFC-1.0 canonicalisation, fast path proved equal to plain PyLD."""

from __future__ import annotations

import copy

import pytest
from pyld.jsonld import JsonLdError

from badges.jsonld import CONTEXT_FILES, ContextError, canonical_nquads, canonical_nquads_pyld, document_loader
from tests.badges.samples import credential, data


def test_loader_serves_bundled_contexts_with_a_static_tag() -> None:
    for url in CONTEXT_FILES:
        loaded = document_loader(url)
        assert loaded["documentUrl"] == url
        assert "@context" in loaded["document"]
        assert loaded["tag"] == "static"


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/context.json", "https://purl.imsglobal.org/spec/ob/v3p0/context.json", "file:///etc/passwd"],
)
def test_loader_never_fetches_unknown_urls(url: str) -> None:
    with pytest.raises(JsonLdError):
        document_loader(url)


def test_unknown_context_in_a_document_is_an_error() -> None:
    doc = credential()
    doc["@context"] = [*doc["@context"], "https://evil.example/context.json"]
    with pytest.raises(ContextError):
        canonical_nquads(doc)
    with pytest.raises(ContextError):
        canonical_nquads_pyld(doc)


def test_reproduces_the_1edtech_document_canonical_form() -> None:
    document = data("signed-credential.json")
    document.pop("proof")
    expected = data("document-canon.txt").decode()
    assert canonical_nquads_pyld(document) == expected
    assert canonical_nquads(document) == expected


def _shapes() -> list[dict]:
    base = credential()
    with_everything = credential(
        validUntil="2030-01-01T00:00:00Z",
        awardedDate="2025-01-01T00:00:00Z",
        description='Quotes " and \\ backslashes\nand a newline, émojis 🎓 and <tags>',
        evidence=[{"id": "https://issuer.example/evidence/1", "type": ["Evidence"], "name": "Lesson plan"}],
        credentialStatus={
            "id": "https://issuer.example/status-lists/3#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://issuer.example/status-lists/3",
        },
        image={"id": "https://issuer.example/badges/1b6f0d5c.png", "type": "Image", "caption": "Badge"},
    )
    with_everything["credentialSubject"] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "hashed": True,
                "identityHash": "sha256$c1f8d3",
                "identityType": "emailAddress",
                "salt": "pepper",
            }
        ],
        "achievement": {
            **base["credentialSubject"]["achievement"],
            "resultDescription": [
                {
                    "id": "urn:uuid:6c3f",
                    "type": ["ResultDescription"],
                    "name": "Planning",
                    "resultType": "RubricCriterion",
                    "rubricCriterionLevel": [
                        {"id": "urn:uuid:6c40", "type": ["RubricCriterionLevel"], "name": "Proficient", "points": "3"}
                    ],
                }
            ],
            "creator": {"id": "https://issuer.example/issuers/7", "type": ["Profile"], "name": "Example District"},
        },
        "result": [{"type": ["Result"], "resultDescription": "urn:uuid:6c3f", "achievedLevel": "urn:uuid:6c40"}],
    }
    blank_nodes = copy.deepcopy(with_everything)
    blank_nodes.pop("id")  # a credential without id is a blank node: exercises the canonical labelling
    proof_config = {
        "@context": base["@context"],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-01-01T00:00:00Z",
        "verificationMethod": "https://issuer.example/issuers/7#z6Mk",
        "proofPurpose": "assertionMethod",
    }
    v1 = credential()
    v1["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    ]
    v1["issuanceDate"] = v1.pop("validFrom")
    return [base, with_everything, blank_nodes, proof_config, v1]


@pytest.mark.parametrize(
    "document", _shapes(), ids=["minimal", "everything", "blank-nodes", "proof-config", "vcdm-1.1"]
)
def test_fast_path_is_byte_identical_to_pyld(document: dict) -> None:
    assert canonical_nquads(document) == canonical_nquads_pyld(document)


def test_relative_iris_are_not_resolved_against_a_made_up_base() -> None:
    doc = credential()
    doc["credentialSubject"]["achievement"]["id"] = "achievements/42"
    assert "example.org/base" not in canonical_nquads(doc)
    assert canonical_nquads(doc) == canonical_nquads_pyld(doc)
