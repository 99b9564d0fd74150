"""The offline document loader and RDFC-1.0 canonicalisation, fast path proved equal to plain PyLD."""

from __future__ import annotations

import copy
import hashlib

import pytest
from pyld.jsonld import JsonLdError

from badges import jsonld
from badges.jsonld import (
    CONTEXT_FILES,
    CONTEXTS_DIR,
    CREDENTIALS_V1,
    CREDENTIALS_V2,
    ContextError,
    canonical_nquads,
    canonical_nquads_pyld,
    document_loader,
)
from tests.badges.issued import award, passed_submission
from tests.badges.samples import credential, data


def test_loader_serves_bundled_contexts_with_a_static_tag() -> None:
    for url in CONTEXT_FILES:
        loaded = document_loader(url)
        assert loaded["documentUrl"] == url
        assert "@context" in loaded["document"]
        assert loaded["tag"] == "static"


def test_every_bundled_context_is_listed_with_its_hash() -> None:
    sources = (CONTEXTS_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for url, name in CONTEXT_FILES.items():
        digest = hashlib.sha256((CONTEXTS_DIR / name).read_bytes()).hexdigest()
        assert f"| {url} | `{name}` |" in sources and digest in sources, name


def test_ob_3_0_1_context_works_with_vcdm_1_1_and_is_a_named_error_with_2_0() -> None:
    doc = credential()
    doc["@context"] = [CREDENTIALS_V1, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"]
    assert "vocab.html#Achievement" in canonical_nquads(doc) == canonical_nquads_pyld(doc)
    doc["@context"][0] = CREDENTIALS_V2
    with pytest.raises(ContextError, match="redefine a protected term"):
        canonical_nquads(doc)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/context.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.0.json",
        "file:///etc/passwd",
    ],
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


# -- shape templates: the fast path's second half ---------------------------------------------------------------


def _issued_like(n: int) -> dict:
    doc = credential(
        id=f"https://issuer.example/badges/{n}",
        name=f'Badge "{n}" \\ ünïcödé 🎓',
        validFrom=f"2025-01-{1 + n % 28:02d}T00:00:00Z",
        credentialStatus={
            "id": f"https://issuer.example/status-lists/3#{n}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(n),
            "statusListCredential": "https://issuer.example/status-lists/3",
        },
    )
    doc["credentialSubject"]["id"] = f"did:example:earner{n}"
    doc["credentialSubject"]["achievement"]["alignment"][0]["targetCode"] = f"RL.{n}"
    return doc


def test_templates_are_built_for_a_repeated_shape_and_agree_with_pyld() -> None:
    docs = [_issued_like(n) for n in range(12)]
    for doc in docs:
        assert canonical_nquads(doc) == canonical_nquads_pyld(doc)
    assert jsonld._templates.lookup(docs[0]) is not None  # the shape now has a (checked) template


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(id="relative/badge"),  # a relative id is dropped, not filled in
        lambda d: d.update(id="_:b7"),  # a blank node id
        lambda d: d.update(id="tag:example.org,2025:x"),  # 'tag' is a term of the OB context
        lambda d: d.update(name="control\x01character"),  # PyLD and pyoxigraph escape this differently
        lambda d: d.update(name="tab\tand\rcarriage"),
        lambda d: d["credentialSubject"].update(id="https://exa mple.org/space"),  # not an IRI pyoxigraph takes
        lambda d: d["issuer"].update({"@context": {"extra": "https://example.org/extra"}, "extra": "x"}),
    ],
    ids=["relative-id", "blank-id", "tag-scheme", "control-char", "tab-cr", "bad-iri", "embedded-context"],
)
def test_unusual_values_take_the_pyld_path_and_stay_identical(change: object) -> None:
    for n in range(3):  # the shape is known (and templated) before the unusual document arrives
        canonical_nquads(_issued_like(n))
    doc = _issued_like(99)
    change(doc)  # type: ignore[operator]
    assert canonical_nquads(doc) == canonical_nquads_pyld(doc)


def test_vocabulary_coerced_values_stay_part_of_the_shape() -> None:
    config = {
        "@context": credential()["@context"],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-01-01T00:00:00Z",
        "verificationMethod": "https://issuer.example/issuers/7#z6Mk",
        "proofPurpose": "assertionMethod",
    }
    outputs = set()
    for purpose in ("assertionMethod", "assertionMethod", "authentication", "capabilityInvocation"):
        doc = {**config, "proofPurpose": purpose}
        assert canonical_nquads(doc) == canonical_nquads_pyld(doc)
        outputs.add(canonical_nquads(doc))
    assert len(outputs) == 3


def test_blank_nodes_with_equal_first_degree_hashes_fall_back_to_the_full_algorithm() -> None:
    """Two RDF lists with the same items give blank nodes that only the n-degree hash tells apart."""

    def doc(n: int) -> dict:
        result = _issued_like(n)
        result["credentialSubject"]["achievement"]["resultDescription"] = [
            {
                "id": f"https://issuer.example/achievements/42#c{k}",
                "type": ["ResultDescription"],
                "name": f"Criterion {k}",
                "resultType": "RubricCriterionLevel",
                "allowedValue": ["Beginning", "Developing", "Proficient"],
            }
            for k in range(2)
        ]
        return result

    for n in range(4):
        assert canonical_nquads(doc(n)) == canonical_nquads_pyld(doc(n))


def test_every_kind_of_badge_we_issue_canonicalises_like_pyld(session: object) -> None:
    """Real issued credentials (DID or hashed-email subject, public or private evidence, with or without expiry),
    each seen several times so that the template path is exercised too."""
    badges = [
        award(passed_submission()),
        award(passed_submission(evidence_public=False, validity_days=None)),
        award(passed_submission(), level=3),
    ]
    for badge in badges:
        unsigned = {k: v for k, v in badge.credential.items() if k != "proof"}
        for _ in range(3):
            assert canonical_nquads(unsigned) == canonical_nquads_pyld(unsigned)
        assert jsonld._templates.lookup(unsigned) is not None


def test_many_indistinguishable_blank_nodes_are_refused_quickly() -> None:
    """RDFC-1.0 separates look-alike blank nodes by trying permutations: 12 identical alignments would be 12!."""
    doc = credential()
    twin = copy.deepcopy(doc["credentialSubject"]["achievement"]["alignment"][0])
    doc["credentialSubject"]["achievement"]["alignment"] = [copy.deepcopy(twin) for _ in range(12)]
    for _ in range(3):  # unknown shape, then the template path
        with pytest.raises(ContextError, match="indistinguishable"):
            canonical_nquads(doc)
    doc["credentialSubject"]["achievement"]["alignment"] = [copy.deepcopy(twin) for _ in range(3)]
    assert canonical_nquads(doc) == canonical_nquads_pyld(doc)  # a few twins are fine


def test_an_embedded_context_edited_between_two_calls_is_read_afresh() -> None:
    doc = credential()
    doc["@context"] = [*doc["@context"], {"extra": "https://example.org/one#extra"}]
    doc["extra"] = "value"
    first = canonical_nquads(doc)
    doc["@context"][-1]["extra"] = "https://example.org/two#extra"  # the same dict object, changed
    second = canonical_nquads(doc)
    assert "one#extra" in first and "two#extra" in second
    assert second == canonical_nquads_pyld(doc)
