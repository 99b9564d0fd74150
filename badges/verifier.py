"""Verify any Open Badges 3.0 credential, ours or another issuer's, and say step by step why it passes or fails.

The steps follow the spec's verification section and what the official 1EdTech validator runs (NOTES §7):
parse (JSON, compact VC-JWT, baked PNG/SVG, URL) → ``@context`` → ``type`` → JSON Schema → subject → issuer
profile → proofs (VC-JWT and/or a Linked Data proof ``badges.proofs`` knows) → status (Bitstring Status List,
StatusList2021 or 1EdTechRevocationList)
→ validity dates. Every step appends a check ``{"step", "passed", "detail"}``; the overall status is
``invalid`` if any check failed, else ``revoked``, ``suspended``, ``expired`` or ``not_yet_valid`` when they
apply (in that order), else ``valid``. A set status bit counts by its list's ``statusPurpose``: revocation
revokes, suspension suspends, any other purpose is reported and changes nothing. Our own badges' suspension
bit is read from the suspension list paired with their revocation list (``badges.status``).

A failed check may be only a **warning** (``"severity": "warning"`` and a ``"kind"``), which does not make the
credential invalid: ``conformance`` for a genuinely signed credential that breaks an Open Badges rule (schema,
a subject without id or identifier), ``authenticity`` for a genuine signature whose key is not shown to belong
to the issuer, ``proof`` for a proof of a kind we cannot check beside one we verified. They are also listed
in the report's ``warnings``. A forgery (a signature that does not verify) is always a failure.

All network access goes through ``badges.fetching.fetch`` (SSRF-safe; our own URLs are served locally).
The verifier never raises for a bad credential, only ``NotACredential`` for input that is no credential at
all (the API answers 422 to that).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jsonschema import Draft201909Validator

from badges import baking, proofs, verifier_clr
from badges.fetching import FetchError, did_web_url, fetch
from badges.jsonld import CREDENTIALS_V1, CREDENTIALS_V2
from badges.proofs import ProofError
from core import clock

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_URL_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
ACHIEVEMENT_SCHEMA = "ob_v3p0_achievementcredential_schema.json"
OB_CONTEXT_PATTERN = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$")
JWS_PATTERN = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
CREDENTIAL_TYPES = {"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential", "ClrCredential"}
MAX_BITSTRING_BYTES = 16 * 1024 * 1024
ACCEPT_CREDENTIAL = (
    "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.9, application/vc+jwt;q=0.8, "
    "application/jwt;q=0.8, image/png;q=0.5, image/svg+xml;q=0.5"
)
ACCEPT_STATUS_LIST = "application/vc+jwt, application/jwt;q=0.9, application/vc+ld+json;q=0.8, application/json;q=0.7"

STATUSES = ("valid", "revoked", "suspended", "expired", "not_yet_valid", "invalid")
log = logging.getLogger(__name__)


class NotACredential(ValueError):
    """The input is not a credential in any form we know (the API answers 422)."""


@dataclass
class Report:
    """The outcome of one verification, in the shape of the ``POST /api/v1/verify`` answer."""

    checks: list[dict[str, Any]] = field(default_factory=list)
    credential: dict[str, Any] | None = None
    source: str = ""
    revoked: bool = False
    suspended: bool = False
    expired: bool = False
    not_yet_valid: bool = False
    nested: list[Report] = field(default_factory=list)  # the credentials a CLR holds (badges.verifier_clr)
    endorsements: list[tuple[str, Report]] = field(default_factory=list)  # (where embedded, its report)

    def add(self, step: str, passed: bool, detail: str) -> bool:
        self.checks.append({"step": step, "passed": bool(passed), "detail": detail})
        return passed

    def warn(self, step: str, kind: str, detail: str) -> None:
        """A failed check that does not make the credential invalid (see the module docstring)."""
        self.checks.append({"step": step, "passed": False, "detail": detail, "severity": "warning", "kind": kind})

    @property
    def warnings(self) -> list[dict[str, str]]:
        return [
            {"step": c["step"], "kind": c["kind"], "detail": c["detail"]}
            for c in self.checks
            if c.get("severity") == "warning"
        ]

    @property
    def status(self) -> str:
        if not self.checks or any(not c["passed"] and c.get("severity") != "warning" for c in self.checks):
            return "invalid"
        if self.revoked:
            return "revoked"
        if self.suspended:
            return "suspended"
        if self.expired:
            return "expired"
        if self.not_yet_valid:
            return "not_yet_valid"
        return "valid"

    @property
    def verified(self) -> bool:
        return self.status == "valid"

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "status": self.status,
            "checks": self.checks,
            "warnings": self.warnings,
            "credential": self.credential,
            "nested_credentials": [verifier_clr.summary(n) for n in self.nested],
            "endorsements": [verifier_clr.summary(n, where) for where, n in self.endorsements],
        }


# -- entry point ----------------------------------------------------------------------------------------------


def verify(value: Any, *, now: datetime | None = None, _depth: int = 0) -> Report:
    """Verify a credential given as a dict, JSON text, compact JWT, baked PNG/SVG (bytes or text) or a URL.

    A CLR's credentials and embedded endorsements are verified the same way (``badges.verifier_clr``)."""
    report = Report()
    moment = now or clock.now()
    try:
        parsed = _parse(value, report)
    except FetchError as exc:
        report.add("fetch", False, str(exc))
        return report
    if parsed is None:  # a fetch or extraction step failed and said why
        return report
    credential, token = parsed
    report.credential = credential
    steps: list[tuple[str, Callable[[], None]]] = [
        ("context", lambda: _check_context(credential, report)),
        ("type", lambda: _check_type(credential, report)),
        ("schema", lambda: _check_schema(credential, report)),
        ("subject", lambda: _check_subject(credential, report)),
        ("issuer", lambda: _check_issuer(credential, report)),
        ("proof", lambda: _check_proofs(credential, token, report)),
        ("status", lambda: _check_status(credential, report)),
        ("validity", lambda: _check_dates(credential, report, moment)),
        ("credentials", lambda: verifier_clr.verify_nested(credential, report, again, _depth)),
        ("endorsement", lambda: verifier_clr.verify_endorsements(credential, report, again, _depth)),
    ]

    def again(item: Any, depth: int) -> Report:
        return verify(item, now=moment, _depth=depth)

    for step, run in steps:
        try:
            run()
        except Exception as exc:  # a malformed credential must give a failed check, never a server error
            log.warning("verifier step %s failed on malformed input", step, exc_info=exc)
            report.add(step, False, f"cannot be checked: the credential is malformed here ({type(exc).__name__})")
    _settle_conformance(report)
    return report


# -- parsing --------------------------------------------------------------------------------------------------


MAX_DEPTH = 64  # real credentials nest about 10 deep; deeper input only exhausts recursion later on


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _looks_like_credential(value: Any) -> bool:
    if not isinstance(value, dict) or not any(k in value for k in ("@context", "credentialSubject", "type", "vc")):
        return False
    if _too_deep(value):
        raise NotACredential(f"the JSON is nested more than {MAX_DEPTH} levels deep")
    return True


def _parse(value: Any, report: Report) -> tuple[dict[str, Any], str | None] | None:
    """Return (credential, VC-JWT or None); NotACredential when the input is nothing we recognise."""
    if isinstance(value, dict):
        if not _looks_like_credential(value):
            raise NotACredential("the JSON object is not a verifiable credential (no @context, type or subject)")
        report.source = "json"
        report.add("parse", True, "credential given as a JSON object")
        return value, None
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
        if data.startswith(baking.PNG_SIGNATURE):
            return _from_png(data, report)
        try:
            value = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise NotACredential("the file is neither a PNG nor UTF-8 text (JSON, JWT or SVG)") from None
    if not isinstance(value, str):
        raise NotACredential("expected a credential object, a compact JWT, a baked image or a URL")
    text = value.strip()
    if text.startswith("{"):
        return _from_json_text(text, report, "credential given as JSON text")
    if JWS_PATTERN.match(text):
        return _from_jwt(text, report, "credential given as a compact VC-JWT")
    if text.startswith("<"):
        return _from_svg(text, report)
    if re.match(r"^https?://", text, re.IGNORECASE):
        return _from_url(text, report)
    raise NotACredential("not a credential: expected JSON, a compact JWT, a baked PNG/SVG or an http(s) URL")


def _from_json_text(text: str, report: Report, detail: str) -> tuple[dict[str, Any], None]:
    try:
        credential = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotACredential(f"not valid JSON: {exc}") from None
    if not _looks_like_credential(credential):
        raise NotACredential("the JSON is not a verifiable credential (no @context, type or subject)")
    report.source = report.source or "json"
    report.add("parse", True, detail)
    return credential, None


def _from_jwt(token: str, report: Report, detail: str) -> tuple[dict[str, Any], str]:
    try:
        proofs.jwt_header(token)
        payload = jwt.decode(token, options={"verify_signature": False})
    except (ProofError, jwt.PyJWTError, ValueError, RecursionError) as exc:
        raise NotACredential(f"not a JWT: {exc}") from None
    credential = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
    if not _looks_like_credential(credential):
        raise NotACredential("the JWT does not carry a verifiable credential")
    if credential is payload:  # VCDM 2.0: the payload is the credential plus the registered JWT claims
        credential = {k: v for k, v in payload.items() if k not in proofs.REGISTERED_CLAIMS}
    report.source = report.source or "jwt"
    report.add("parse", True, detail)
    return credential, token


def _from_baked_text(text: str, report: Report, what: str) -> tuple[dict[str, Any], str | None]:
    text = text.strip()
    if text.startswith("{"):
        return _from_json_text(text, report, f"credential JSON extracted from a baked {what}")
    if JWS_PATTERN.match(text):
        return _from_jwt(text, report, f"VC-JWT extracted from a baked {what}")
    raise NotACredential(f"the baked {what} carries neither a JWT nor credential JSON")


def _from_image(kind: str, extract: Callable[[Any], str | None], data: Any, report: Report, missing: str) -> Any:
    try:
        text = extract(data)
    except baking.BakingError as exc:
        raise NotACredential(f"unreadable {kind}: {exc}") from None
    if text is None:
        raise NotACredential(f"the {kind} has no {missing}: it is not a baked badge")
    report.source = report.source or kind.lower()
    return _from_baked_text(text, report, kind)


def _from_png(data: bytes, report: Report) -> tuple[dict[str, Any], str | None]:
    return _from_image("PNG", baking.extract_png, data, report, "openbadgecredential iTXt chunk")


def _from_svg(text: str, report: Report) -> tuple[dict[str, Any], str | None]:
    return _from_image("SVG", baking.extract_svg, text, report, "openbadges:credential element")


def _from_url(url: str, report: Report) -> tuple[dict[str, Any], str | None] | None:
    report.source = "url"
    fetched = fetch(url, accept=ACCEPT_CREDENTIAL)
    report.add("fetch", True, f"fetched {fetched.url} ({fetched.content_type or 'no content type'})")
    body = fetched.body
    if body.startswith(baking.PNG_SIGNATURE):
        return _from_png(body, report)
    try:
        text = body.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise NotACredential("the URL does not serve a credential") from None
    if text.startswith("{"):
        return _from_json_text(text, report, "credential JSON served at the URL")
    if JWS_PATTERN.match(text):
        return _from_jwt(text, report, "VC-JWT served at the URL")
    if text.startswith("<") and "<svg" in text[:2048]:
        return _from_svg(text, report)
    raise NotACredential("the URL does not serve a credential (an HTML page? try the .json or .jwt form)")


# -- structure ------------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_v1(credential: dict[str, Any]) -> bool:
    contexts = _as_list(credential.get("@context"))
    return bool(contexts) and contexts[0] == CREDENTIALS_V1


def _check_context(credential: dict[str, Any], report: Report) -> None:
    contexts = _as_list(credential.get("@context"))
    if not contexts or contexts[0] not in (CREDENTIALS_V2, CREDENTIALS_V1):
        report.add("context", False, f"@context must start with {CREDENTIALS_V2} (or the VCDM 1.1 context)")
        return
    if verifier_clr.is_clr(credential):
        if len(contexts) < 2 or not verifier_clr.CLR_CONTEXT_PATTERN.match(str(contexts[1])):
            report.add("context", False, "the second @context of a ClrCredential must be the CLR 2.0 context")
            return
    elif len(contexts) < 2 or not isinstance(contexts[1], str) or not OB_CONTEXT_PATTERN.match(contexts[1]):
        report.add("context", False, "the second @context must be the Open Badges 3.0 context (context-3.0.x.json)")
        return
    report.add("context", True, f"{contexts[0]} then {contexts[1]}")


def _types(value: Any) -> list[Any]:
    return _as_list(value.get("type")) if isinstance(value, dict) else []


def _check_type(credential: dict[str, Any], report: Report) -> None:
    types = [t for t in _types(credential) if isinstance(t, str)]
    if "VerifiableCredential" not in types or not CREDENTIAL_TYPES.intersection(types):
        report.add("type", False, "type must contain VerifiableCredential and OpenBadgeCredential (or ClrCredential)")
        return
    report.add("type", True, ", ".join(str(t) for t in types))


@cache
def _validator(name: str) -> Draft201909Validator:
    schema = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def _schema_names(credential: dict[str, Any]) -> list[str]:
    names = []
    if verifier_clr.is_clr(credential):
        pass  # the CLR 2.0 JSON Schema is not bundled (docs/verifying.md); ClrSubject is checked by hand
    elif "EndorsementCredential" in _types(credential):
        names.append("ob_v3p0_endorsementcredential_schema.json")
    else:
        names.append(ACHIEVEMENT_SCHEMA)
    for entry in _as_list(credential.get("credentialSchema")):
        if isinstance(entry, dict) and entry.get("type") == "1EdTechJsonSchemaValidator2019":
            url = str(entry.get("id", ""))
            name = url.removeprefix(SCHEMA_URL_PREFIX)
            if url.startswith(SCHEMA_URL_PREFIX) and (SCHEMAS_DIR / name).is_file() and name not in names:
                names.append(name)
    return names


def _check_schema(credential: dict[str, Any], report: Report) -> None:
    if _is_v1(credential):
        report.add("schema", True, "VCDM 1.1 credential: its JSON Schema is not bundled; structure checked below")
        return
    # VC Data Integrity allows a single proof object (1EdTech's own DI vector uses one); the plain-JSON schema
    # only takes an array. Both mean the same, so validate with the proof wrapped.
    document = credential
    if isinstance(credential.get("proof"), dict):
        document = {**credential, "proof": [credential["proof"]]}
    if not _schema_names(credential):
        report.add(
            "schema", True, "ClrCredential: the CLR 2.0 JSON Schema is not bundled; its subject is checked below"
        )
        return
    for name in _schema_names(credential):
        errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
        if errors:
            shown = "; ".join(f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:200]}" for e in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            _conformance(report, "schema", f"{name}: {shown}{more}")
            return
    report.add("schema", True, "valid against " + ", ".join(_schema_names(credential)))


def _conformance(report: Report, step: str, detail: str) -> None:
    """A rule of the spec the credential breaks. Whether that is a failure or a warning depends on its proof:
    ``_settle_conformance`` decides once the proofs are checked."""
    report.checks.append({"step": step, "passed": False, "detail": detail, "conformance": True})


def _settle_conformance(report: Report) -> None:
    """A genuinely signed credential that breaks a conformance rule is reported with a warning (the issuer did
    sign it as it is); without a verified proof the rule stays a failure."""
    genuine = any(c["step"] == "proof" and c["passed"] for c in report.checks)
    for check in report.checks:
        if check.pop("conformance", False) and genuine:
            check.update(severity="warning", kind="conformance")


def _subject(credential: dict[str, Any]) -> dict[str, Any] | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    return subject if isinstance(subject, dict) else None


def _check_subject(credential: dict[str, Any], report: Report) -> None:
    subject = _subject(credential)
    if subject is not None and verifier_clr.is_clr(credential):
        verifier_clr.check_subject(credential, report, _conformance)
    elif subject is None:
        report.add("subject", False, "credentialSubject is missing")
    elif subject.get("id"):
        report.add("subject", True, f"awarded to {subject['id']}")
    elif subject.get("identifier"):
        kinds = sorted({str(i.get("identityType")) for i in _as_list(subject["identifier"]) if isinstance(i, dict)})
        report.add("subject", True, "awarded to an identifier (" + ", ".join(kinds) + ")")
    else:
        _conformance(
            report,
            "subject",
            "credentialSubject has neither an id nor an identifier, which Open Badges 3.0 requires: "
            "the credential does not say whom it was awarded to in a form that can be checked",
        )


def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    value = issuer.get("id") if isinstance(issuer, dict) else issuer
    return value if isinstance(value, str) else None


def _check_issuer(credential: dict[str, Any], report: Report) -> None:
    issuer = credential.get("issuer")
    if not isinstance(issuer, dict) or not issuer.get("id"):
        report.add("issuer", False, "issuer must be a Profile object with an id")
    elif "Profile" not in _types(issuer):
        report.add("issuer", False, "issuer.type must contain Profile")
    else:
        report.add("issuer", True, f"{issuer.get('name') or 'unnamed issuer'} ({issuer['id']})")


# -- proofs ---------------------------------------------------------------------------------------------------


def _fetch_json(url: str, accept: str = "application/json") -> Any:
    body = fetch(url, accept=accept).body
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise ProofError(f"{url} does not serve JSON") from None


def _key_from_jwk(jwk: Any) -> Any:
    if not isinstance(jwk, dict) or "kty" not in jwk:
        raise ProofError("not a JWK")
    if "d" in jwk:
        raise ProofError("the JWK contains a private key")
    try:
        return jwt.PyJWK(jwk).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise ProofError(f"unusable JWK: {exc}") from None


def _method_from_did_document(document: Any, reference: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ProofError("the DID document is not a JSON object")
    did = document.get("id")
    fragment = reference.split("#", 1)[1] if "#" in reference else None
    for method in _as_list(document.get("verificationMethod")):
        if not isinstance(method, dict):
            continue
        method_id = str(method.get("id", ""))
        full = did + method_id if method_id.startswith("#") and isinstance(did, str) else method_id
        if full == reference or (fragment and full.endswith("#" + fragment)) or fragment is None:
            return method
    raise ProofError(f"the DID document has no verification method {reference}")


def _key_from_method(method: dict[str, Any]) -> Any:
    if "publicKeyJwk" in method:
        return _key_from_jwk(method["publicKeyJwk"])
    if "publicKeyMultibase" in method:
        return proofs.verification_key_from_multikey(method["publicKeyMultibase"])
    if "publicKeyBase58" in method and method.get("type") == "Ed25519VerificationKey2018":
        return _ed25519_from_base58(method["publicKeyBase58"])
    raise ProofError("the verification method has neither publicKeyJwk nor publicKeyMultibase")


def _ed25519_from_base58(value: Any) -> Ed25519PublicKey:
    """An Ed25519VerificationKey2018's ``publicKeyBase58``: the raw 32-byte key, base58btc without multibase."""
    raw = proofs.base58btc_decode(value) if isinstance(value, str) else b""
    if len(raw) != 32:
        raise ProofError("publicKeyBase58 is not a 32-byte Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(raw)


def _same_origin(url: str, issuer: str | None) -> bool:
    if not issuer:
        return False
    if issuer.startswith("did:web:") and url.startswith("did:web:"):
        return url.split("#", 1)[0].split(":")[2] == issuer.split("#", 1)[0].split(":")[2]
    if issuer.startswith("did:web:") and url.startswith(("https://", "http://")):
        try:
            return urlsplit(did_web_url(issuer)).netloc.lower() == urlsplit(url).netloc.lower()
        except FetchError:
            return False
    match = re.match(r"^(https?://[^/?#]+)", issuer)
    return bool(match) and url.split("#", 1)[0].startswith(match.group(1) + "/")


def _jwt_key_resolver(credential: dict[str, Any], notes: list[str]) -> Callable[[dict[str, Any]], Any]:
    issuer = _issuer_id(credential)

    def resolve(header: dict[str, Any]) -> Any:
        if isinstance(header.get("jwk"), dict):
            notes.append("key embedded in the JWT header (self-asserted: it proves integrity, not who issued it)")
            return _key_from_jwk(header["jwk"])
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ProofError("JWT header has no usable kid")
        if kid.startswith("did:key:"):
            if kid.split("#", 1)[0] != issuer:
                raise ProofError("did:key kid is not the issuer's DID")
            notes.append(f"key from {kid}")
            return proofs.verification_key_from_multikey(kid.split("#", 1)[0].removeprefix("did:key:"))
        if kid.startswith("did:web:"):
            if not _same_origin(kid, issuer):
                raise ProofError(f"kid {kid} is not on the issuer's host")
            method = _method_from_did_document(_fetch_json(did_web_url(kid)), kid)
            notes.append(f"key from the did:web document of {kid.split('#', 1)[0]}")
            return _key_from_method(method)
        if kid.startswith(("https://", "http://")):
            if not _same_origin(kid, issuer):
                raise ProofError(f"kid {kid} is not on the issuer's origin ({issuer})")
            document = _fetch_json(kid, "application/jwk+json, application/json")
            if isinstance(document, dict) and "kty" in document:
                notes.append(f"key from {kid}")
                return _key_from_jwk(document)
            if isinstance(document, dict) and isinstance(document.get("keys"), list):
                for jwk in document["keys"]:
                    if isinstance(jwk, dict) and jwk.get("kid") in (kid, kid.split("#", 1)[-1]):
                        notes.append(f"key {jwk.get('kid')} from the JWKS at {kid}")
                        return _key_from_jwk(jwk)
                raise ProofError(f"the JWKS at {kid} has no key {kid}")
            if isinstance(document, dict) and "verificationMethod" in document:
                return _key_from_method(_method_from_did_document(document, kid))
            raise ProofError(f"{kid} does not serve a JWK")
        raise ProofError(f"cannot resolve kid {kid!r} (expected an https URL, did:web, did:key or a jwk header)")

    return resolve


def _can_hold_keys(issuer: str | None) -> bool:
    """Whether the issuer id names something that publishes keys (a DID or a web address)."""
    return isinstance(issuer, str) and issuer.startswith(("did:", "https://", "http://"))


def _di_key(credential: dict[str, Any], proof: dict[str, Any]) -> tuple[Any, str, str | None]:
    """The key a Data Integrity proof names, where it came from, and a warning when the key is genuine but
    not shown to belong to the issuer."""
    issuer = _issuer_id(credential)
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise ProofError("proof has no verificationMethod")
    base, _, fragment = method.partition("#")
    if proofs.is_multikey(fragment):
        if base == issuer:
            return proofs.key_from_verification_method(credential, method), "key from the verificationMethod", None
        if base.startswith("did:key:") and base.removeprefix("did:key:") == fragment:
            raise ProofError(f"did:key {base} is not the issuer ({issuer})")
    if method.startswith("did:key:"):
        if fragment:
            raise ProofError(f"did:key {base} is not the issuer ({issuer})")
        # A bare did:key names no controller. The 1EdTech validator accepts it whoever the issuer is; we do
        # so only for an issuer id that publishes no keys (urn:uuid:…), and say that the key is not bound.
        # For a DID or web issuer a foreign key would let anyone sign in its name.
        if _can_hold_keys(issuer):
            raise ProofError(f"did:key {base} is not the issuer ({issuer}), which publishes its own keys")
        key = proofs.verification_key_from_multikey(base.removeprefix("did:key:"))
        warning = (
            f"the signing key {base} is not shown to belong to the issuer {issuer}: the signature proves the "
            "credential is unchanged since it was signed, not who signed it"
        )
        return key, f"key from {base}", warning
    if method.startswith("did:web:"):
        document = _fetch_json(did_web_url(method))
        found = _method_from_did_document(document, method)
        controller = found.get("controller") or (document.get("id") if isinstance(document, dict) else None)
        if controller != issuer:
            raise ProofError(f"verificationMethod controller {controller} is not the issuer ({issuer})")
        return _key_from_method(found), f"key from the did:web document of {base}", None
    if method.startswith(("https://", "http://")):
        document = _fetch_json(method, "application/did+json, application/ld+json, application/json")
        key_fields = ("publicKeyMultibase", "publicKeyJwk", "publicKeyBase58")
        found = document if isinstance(document, dict) and any(k in document for k in key_fields) else None
        if found is None:
            found = _method_from_did_document(document, method)
        if found.get("controller") != issuer:
            raise ProofError(f"verificationMethod controller {found.get('controller')} is not the issuer ({issuer})")
        return _key_from_method(found), f"key from {method}", None
    raise ProofError(f"cannot resolve verificationMethod {method!r}")


def _check_proofs(credential: dict[str, Any], token: str | None, report: Report) -> None:
    any_proof = False
    if token is not None:
        any_proof = True
        notes: list[str] = []
        alg = "?"
        try:
            alg = str(proofs.jwt_header(token).get("alg"))
            signed = proofs.decode_vc_jwt(token, _jwt_key_resolver(credential, notes))
            if proofs.canonical_json(signed) != proofs.canonical_json(credential):
                raise ProofError("the verified JWT payload differs from the credential shown")
            report.add("proof", True, f"VC-JWT {alg} signature valid; " + "; ".join(notes))
        except (ProofError, FetchError) as exc:
            report.add("proof", False, f"VC-JWT {alg}: {exc}")
    embedded = [p for p in _as_list(credential.get("proof")) if isinstance(p, dict)]
    unknown: list[str] = []
    for proof in embedded:
        any_proof = True
        suite = proofs.suite_of(proof)
        if suite is None:
            unknown.append(str(proof.get("cryptosuite") or proof.get("type") or "unknown"))
            continue
        label = "Data Integrity " + suite if proof.get("type") == proofs.PROOF_TYPE else suite
        try:
            key, where, unbound = _di_key(credential, proof)
            proofs.verify_proof({**credential, "proof": [proof]}, proof, key)
            legacy = (
                " (eddsa-2022 is the earlier name of eddsa-rdfc-2022)" if suite == proofs.LEGACY_CRYPTOSUITE else ""
            )
            report.add("proof", True, f"{label} signature valid{legacy}; {where}")
            if unbound:
                report.warn("proof", "authenticity", unbound)
        except (ProofError, FetchError) as exc:
            report.add("proof", False, f"{label}: {exc}")
    verified = any(c["step"] == "proof" and c["passed"] for c in report.checks)
    for name in unknown:
        detail = f"unsupported proof {name!r} (this verifier checks " + ", ".join(proofs.SUITES) + ")"
        if verified:
            report.warn("proof", "proof", detail + "; not checked, another proof verified")
        else:
            report.add("proof", False, detail)
    if not any_proof:
        report.add("proof", False, "the credential carries no proof (neither a VC-JWT nor an embedded proof)")


# -- status ---------------------------------------------------------------------------------------------------


def _same_issuer(listed: str | None, issuer: str | None) -> bool:
    """Whether a status list's issuer is the credential's: the same id, or one is a did:web DID whose document
    names the other, an https URL on the same host, in ``alsoKnownAs``. (Our badges signed before issuer ids
    became did:web DIDs name the https Profile URL; their status lists are now issued by the DID.)"""
    if listed == issuer:
        return True
    if not isinstance(listed, str) or not isinstance(issuer, str):
        return False
    did, url = (listed, issuer) if listed.startswith("did:web:") else (issuer, listed)
    if not did.startswith("did:web:") or not _same_origin(url, did):
        return False
    try:
        document = _fetch_json(did_web_url(did))
    except (FetchError, ProofError):
        return False
    return isinstance(document, dict) and document.get("id") == did and url in _as_list(document.get("alsoKnownAs"))


def _status_list_credential(url: str, issuer: str | None) -> dict[str, Any]:
    """Fetch a status list credential and verify its own proof (VC-JWT or Data Integrity)."""
    fetched = fetch(url, accept=ACCEPT_STATUS_LIST)
    text = fetched.body.decode("utf-8", "replace").strip()
    if JWS_PATTERN.match(text):
        try:
            payload = jwt.decode(text, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, RecursionError) as exc:
            raise ProofError(f"the status list is not a readable JWT: {exc}") from None
        claimed = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
        if not _same_issuer(_issuer_id(claimed), issuer):
            raise ProofError(f"the status list is issued by {_issuer_id(claimed)}, not by the credential's issuer")
        notes: list[str] = []
        listed = proofs.decode_vc_jwt(text, _jwt_key_resolver(claimed, notes))
    else:
        try:
            listed = json.loads(text)
        except (ValueError, RecursionError):
            raise ProofError("the status list is neither a VC-JWT nor JSON") from None
        if not isinstance(listed, dict):
            raise ProofError("the status list is not a JSON object")
        proof_list = [p for p in _as_list(listed.get("proof")) if isinstance(p, dict)]
        if not proof_list:
            raise ProofError("the status list credential is not signed")
        key, _where, unbound = _di_key(listed, proof_list[0])
        if unbound:
            raise ProofError(f"the status list's key is not the issuer's: {unbound}")
        proofs.verify_proof({**listed, "proof": [proof_list[0]]}, proof_list[0], key)
    if not _same_issuer(_issuer_id(listed), issuer):
        raise ProofError(f"the status list is issued by {_issuer_id(listed)}, not by the credential's issuer")
    valid_until = listed.get("validUntil")
    if isinstance(valid_until, str) and _parse_date(valid_until) and _parse_date(valid_until) < clock.now():  # type: ignore[operator]
        raise ProofError("the status list has expired")
    valid_from = _parse_date(listed.get("validFrom"))
    if valid_from is not None and valid_from > clock.now():
        raise ProofError(f"the status list is not valid until {listed['validFrom']}")
    return listed


def _bit(encoded: Any, index: int) -> bool:
    if not isinstance(encoded, str) or not encoded:
        raise ProofError("encodedList is missing")
    text = encoded[1:] if encoded[0] == "u" else encoded
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
            bitstring = stream.read(MAX_BITSTRING_BYTES + 1)
    except (ValueError, OSError, EOFError) as exc:
        raise ProofError(f"encodedList is not base64url GZIP data: {exc}") from None
    if len(bitstring) > MAX_BITSTRING_BYTES:
        raise ProofError("the status list is too large")
    if index >= len(bitstring) * 8:
        raise ProofError(f"statusListIndex {index} is outside the list ({len(bitstring) * 8} entries)")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


# The list credential each kind of status entry points at. StatusList2021 (W3C CCG, 2021-2023) is Bitstring
# Status List's predecessor: the same GZIP-compressed bitstring, first bit = index 0, written in base64url
# without the multibase "u" prefix; its lists are usually signed with Ed25519Signature2020.
STATUS_LIST_TYPES = {
    "BitstringStatusListEntry": "BitstringStatusListCredential",
    "StatusList2021Entry": "StatusList2021Credential",
}


def _read_bit(
    credential: dict[str, Any],
    url: str,
    purpose: Any,
    index: int,
    list_type: str = "BitstringStatusListCredential",
) -> bool:
    """The bit at ``index`` of the signed status list at ``url``, whose ``statusPurpose`` must be ``purpose``."""
    listed = _status_list_credential(url, _issuer_id(credential))
    if list_type not in _types(listed):
        raise ProofError(f"the status list is not a {list_type}")
    subject = _subject(listed) or {}
    if subject.get("statusPurpose") != purpose:
        raise ProofError(f"the list's statusPurpose {subject.get('statusPurpose')!r} differs from {purpose!r}")
    return _bit(subject.get("encodedList"), index)


def _flag(report: Report, purpose: Any, index: int, url: str, is_set: bool, where: str) -> None:
    """Record one bit by its purpose: a revocation bit revokes, a suspension bit suspends, any other purpose
    (``message``, ``refresh``…) changes nothing about validity and is only reported."""
    if not is_set:
        report.add("status", True, f"not {purpose or 'flagged'}: bit {index} is clear in the {where} {url}")
    elif purpose == "revocation":
        report.revoked = True
        report.add("status", True, f"revoked: bit {index} is set in the {where} {url}")
    elif purpose == "suspension":
        report.suspended = True
        report.add("status", True, f"suspended: bit {index} is set in the {where} {url}")
    else:
        report.add(
            "status", True, f"bit {index} is set for statusPurpose {purpose!r} in {url} (does not affect validity)"
        )


def _check_bitstring(credential: dict[str, Any], entry: dict[str, Any], report: Report) -> None:
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    try:
        index = int(str(entry.get("statusListIndex")))
        if index < 0:
            raise ValueError
    except ValueError:
        report.add("status", False, "statusListIndex is not a non-negative integer")
        return
    if not isinstance(url, str):
        report.add("status", False, "statusListCredential is missing")
        return
    try:
        is_set = _read_bit(credential, url, purpose, index, STATUS_LIST_TYPES[str(entry.get("type"))])
    except (ProofError, FetchError) as exc:
        report.add("status", False, f"cannot check the status list {url}: {exc}")
        return
    _flag(report, purpose, index, url, is_set, "signed status list")
    if purpose == "revocation" and not _carries_purpose(credential, "suspension"):
        _check_paired_suspension(credential, url, index, report)


def _carries_purpose(credential: dict[str, Any], purpose: str) -> bool:
    entries = _as_list(credential.get("credentialStatus"))
    return any(isinstance(e, dict) and e.get("statusPurpose") == purpose for e in entries)


def _check_paired_suspension(credential: dict[str, Any], url: str, index: int, report: Report) -> None:
    """Our own badges: the suspension list paired with their revocation list, at the same index (OB 3.0 allows
    one ``credentialStatus`` entry, so the credential cannot name it; docs/issuing.md)."""
    from badges import status

    ours, paired = status.paired_suspension_url(url)
    if not ours:
        return
    if paired is None:
        report.add("status", True, f"not suspended: no badge of the status list {url} was ever suspended")
        return
    try:
        is_set = _read_bit(credential, paired, "suspension", index)
    except (ProofError, FetchError) as exc:
        report.add("status", False, f"cannot check the paired suspension list {paired}: {exc}")
        return
    _flag(report, "suspension", index, paired, is_set, "paired suspension list")


def _check_revocation_list(credential: dict[str, Any], entry: dict[str, Any], report: Report) -> None:
    url = entry.get("id")
    if not isinstance(url, str):
        report.add("status", False, "1EdTechRevocationList entry has no id")
        return
    try:
        document = _fetch_json(url)
    except (ProofError, FetchError) as exc:
        report.add("status", False, f"cannot read the revocation list {url}: {exc}")
        return
    for item in _as_list(document.get("revokedCredential") if isinstance(document, dict) else None):
        if isinstance(item, dict) and item.get("id") == credential.get("id") and item.get("revoked", True):
            report.revoked = True
            reason = item.get("revocationReason")
            report.add("status", True, "revoked" + (f": {reason}" if reason else "") + f" (listed in {url})")
            return
    report.add("status", True, f"not listed in the revocation list {url}")


def _check_status(credential: dict[str, Any], report: Report) -> None:
    for entry in _as_list(credential.get("credentialStatus")):
        if not isinstance(entry, dict):
            report.add("status", False, "credentialStatus entry is not an object")
        elif entry.get("type") in STATUS_LIST_TYPES:
            _check_bitstring(credential, entry, report)
        elif entry.get("type") == "1EdTechRevocationList":
            _check_revocation_list(credential, entry, report)
        else:
            report.add("status", False, f"unknown credentialStatus type {entry.get('type')!r}: cannot tell if revoked")


# -- dates ----------------------------------------------------------------------------------------------------


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_dates(credential: dict[str, Any], report: Report, now: datetime) -> None:
    start_name = "issuanceDate" if _is_v1(credential) and "validFrom" not in credential else "validFrom"
    end_name = "expirationDate" if _is_v1(credential) and "validUntil" not in credential else "validUntil"
    start = _parse_date(credential.get(start_name))
    if start is None:
        report.add("validity", False, f"{start_name} is missing or not a date-time")
        return
    details = [f"valid from {credential[start_name]}"]
    if start > now:
        report.not_yet_valid = True
        details = [f"not valid until {credential[start_name]}"]
    if end_name in credential:
        end = _parse_date(credential[end_name])
        if end is None:
            report.add("validity", False, f"{end_name} is not a date-time")
            return
        if end < now:
            report.expired = True
            details.append(f"expired on {credential[end_name]}")
        else:
            details.append(f"until {credential[end_name]}")
    report.add("validity", True, ", ".join(details))
