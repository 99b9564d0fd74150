"""Issuing: signing keys, badges with both proofs, revocation status lists, stacks, renewals, bulk import.

Services only flush; the request or CLI command commits. Issuing is idempotent through unique keys on the
badge row (``submission_id``, ``issue_key``): a retry or a race finds the existing badge instead of
making a second one.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from assessors.issuance import Award
from badges import documents, keys
from badges.models import Badge, BadgeSource, EarnerDid, KeyAlgorithm, KeyState, SigningKey, StatusList
from core import audit, clock
from core.authz import authorize, has_role, rule
from core.db import Page, db, paginate
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Organisation, Role, User
from credentials.authoring.catalogue import aligned_items
from credentials.authoring.models import CredentialVersion, Stack, StackMember, StackState, VersionState
from credentials.portfolios.models import Submission

STATUS_LIST_SIZE = 131072
# Open a new list when this share of the current one is taken: random probing stays cheap and the
# indexes stay spread over the whole list.
STATUS_LIST_FILL = 0.75


# --- authorisation -----------------------------------------------------------------------------------


@rule("badge.revoke", description="revoke or renew this organisation's badges")
def _may_revoke(actor: User | None, badge: Any) -> bool:
    return has_role(actor, badge, Role.ORG_ADMIN)


@rule("issuer.manage_keys", description="manage this organisation's signing keys")
def _may_manage_keys(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("badge.import", description="import past awards for this organisation")
def _may_import(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


def _base() -> str:
    return str(current_app.config["BASE_URL"])


def _kek() -> str:
    return str(current_app.config["KEY_ENCRYPTION_KEY"])


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


# --- keys --------------------------------------------------------------------------------------------

# Decrypted private keys by (kid, key-encryption key). Loading an RSA key checks it (milliseconds) and issuing
# needs it per badge. A kid names one immutable key pair, so an entry never goes stale: rotation makes new kids
# (and ``active_keys`` asks the database which kids are active on every badge); the key-encryption key is part
# of the entry's key so a changed ``KEY_ENCRYPTION_KEY`` is never bypassed by the cache.
_private_cache: dict[tuple[str, str], keys.PrivateKey] = {}


def _new_key(organisation_id: uuid.UUID, algorithm: str) -> SigningKey:
    row = SigningKey(id=uuid.uuid4(), organisation_id=organisation_id, algorithm=algorithm)
    private = keys.generate(algorithm)
    row.public_jwk = keys.public_jwk(private, kid=row.kid)
    row.private_key_encrypted = keys.encrypt_private_key(private, kek_b64=_kek(), kid=row.kid)
    db.session.add(row)
    db.session.flush()
    return row


def active_key(organisation_id: uuid.UUID, algorithm: str) -> SigningKey:
    """The key that signs new badges; an organisation gets its first pair on its first badge."""
    return active_keys(organisation_id)[algorithm]


def active_keys(organisation_id: uuid.UUID) -> dict[str, SigningKey]:
    """The organisation's active key per algorithm (one query), making any that are missing."""
    rows = db.session.scalars(
        select(SigningKey)
        .where(SigningKey.organisation_id == organisation_id, SigningKey.state == KeyState.ACTIVE.value)
        .order_by(SigningKey.created_at)
    )
    found = {row.algorithm: row for row in rows}  # the newest wins if a race made two
    for algorithm in KeyAlgorithm:
        if algorithm.value not in found:
            found[algorithm.value] = _new_key(organisation_id, algorithm.value)
    return found


def private_key(row: SigningKey) -> keys.PrivateKey:
    kek = _kek()
    cached = _private_cache.get((row.kid, kek))
    if cached is None:
        if len(_private_cache) > 1000:
            _private_cache.clear()
        cached = _private_cache[(row.kid, kek)] = keys.decrypt_private_key(
            row.private_key_encrypted, kek_b64=kek, kid=row.kid
        )
    return cached


@dataclass(frozen=True)
class _Signer:
    """What signing a badge needs of one key: its kid, the decrypted private key and (Ed25519) its multikey."""

    kid: str
    private: keys.PrivateKey
    multikey: str | None


_signers: dict[tuple[str, str], _Signer] = {}


def _signer(key_id: uuid.UUID) -> _Signer:
    """The signing material of one key, cached per process like the private key it holds (see ``_private_cache``)."""
    from badges import proofs

    kek = _kek()
    cached = _signers.get((str(key_id), kek))
    if cached is None:
        row = db.session.get(SigningKey, key_id)
        assert row is not None
        multikey = None
        if row.algorithm == KeyAlgorithm.ED25519.value:
            multikey = proofs.multikey(keys.ed25519_public_key(row.public_jwk))
        if len(_signers) > 1000:
            _signers.clear()
        cached = _signers[(row.kid, kek)] = _Signer(row.kid, private_key(row), multikey)
    return cached


# Issuing runs a handful of fixed statements per badge: built once, so each run skips SQLAlchemy's statement
# construction and cache-key work (a third of the ORM overhead per badge in the profile).
_ACTIVE_KIDS = (
    select(SigningKey.id, SigningKey.algorithm)
    .where(SigningKey.organisation_id == bindparam("organisation_id"), SigningKey.state == KeyState.ACTIVE.value)
    .order_by(SigningKey.created_at)
)


def active_signers(organisation_id: uuid.UUID) -> dict[str, _Signer]:
    """The organisation's active signing keys, asked of the database on every call (two ids, no key rows), so a
    rotation by any process is seen by the next badge; the key material itself comes from the per-kid cache."""
    rows = db.session.execute(_ACTIVE_KIDS, {"organisation_id": organisation_id}).all()
    found = {algorithm: key_id for key_id, algorithm in rows}  # the newest wins if a race made two
    if any(algorithm.value not in found for algorithm in KeyAlgorithm):
        found = {algorithm: row.id for algorithm, row in active_keys(organisation_id).items()}
    return {algorithm: _signer(key_id) for algorithm, key_id in found.items()}


def rotate_keys(*, actor: User, organisation_id: uuid.UUID) -> list[SigningKey]:
    """Retire the organisation's active keys and make new ones; retired keys stay published."""
    organisation = _organisation(organisation_id)
    authorize(actor, "issuer.manage_keys", organisation)
    now = clock.now()
    retired = list(
        db.session.scalars(
            select(SigningKey).where(
                SigningKey.organisation_id == organisation_id, SigningKey.state == KeyState.ACTIVE.value
            )
        )
    )
    for row in retired:
        row.state, row.retired_at = KeyState.RETIRED.value, now
    fresh = [_new_key(organisation_id, alg.value) for alg in KeyAlgorithm]
    audit.record(
        actor=actor if actor.id else None,
        action="issuer.keys_rotated",
        obj=organisation,
        organisation_id=organisation_id,
        before={"active": [r.kid for r in retired]},
        after={"active": [r.kid for r in fresh]},
    )
    return fresh


def list_keys(*, organisation_id: uuid.UUID | None = None) -> list[SigningKey]:
    """Every published key (active and retired), oldest first."""
    stmt = select(SigningKey).order_by(SigningKey.created_at, SigningKey.id)
    if organisation_id is not None:
        stmt = stmt.where(SigningKey.organisation_id == organisation_id)
    return list(db.session.scalars(stmt))


def get_key(*, organisation_id: uuid.UUID, kid: str) -> SigningKey:
    try:
        key_id = uuid.UUID(kid)
    except ValueError:
        raise NotFound("No such key.") from None
    row = db.session.get(SigningKey, key_id)
    if row is None or row.organisation_id != organisation_id:
        raise NotFound("No such key.")
    return row


def key_url(row: SigningKey) -> str:
    return f"{documents.issuer_id(_base(), row.organisation_id)}/keys/{row.kid}"


def did_web(organisation_id: uuid.UUID) -> str:
    host = _base().split("://", 1)[1].replace(":", "%3A")
    return f"did:web:{host}:issuers:{organisation_id}"


def did_document(*, organisation_id: uuid.UUID) -> dict[str, Any]:
    """A did:web document listing every key of the issuer as Multikey (Ed25519) or JsonWebKey (RSA)."""
    from badges import proofs

    _organisation(organisation_id)
    did = did_web(organisation_id)
    methods = []
    for row in list_keys(organisation_id=organisation_id):
        if row.algorithm == KeyAlgorithm.ED25519.value:
            methods.append(
                {
                    "id": f"{did}#{row.kid}",
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": proofs.multikey(keys.ed25519_public_key(row.public_jwk)),
                }
            )
        else:
            methods.append(
                {"id": f"{did}#{row.kid}", "type": "JsonWebKey", "controller": did, "publicKeyJwk": row.public_jwk}
            )
    ids = [m["id"] for m in methods]
    return {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/jwk/v1",
        ],
        "id": did,
        "alsoKnownAs": [documents.issuer_id(_base(), organisation_id)],
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


def issuer_profile(*, organisation_id: uuid.UUID) -> tuple[Organisation, dict[str, Any]]:
    organisation = _organisation(organisation_id)
    body = {"@context": documents.CONTEXTS[:2], **documents.profile(organisation, _base())}
    return organisation, body


# --- status lists ------------------------------------------------------------------------------------


def status_list_url(status_list_id: uuid.UUID) -> str:
    return f"{_base()}/status-lists/{status_list_id}"


# Candidates drawn per probe: at most STATUS_LIST_FILL of a list is taken, so all of them are taken with
# probability ≤ 0.75⁸ ≈ 10 %, and one query usually settles the index.
_PROBE = 8


def _take_index_statement() -> Any:
    lists = StatusList.__table__
    current = (
        select(lists.c.id)
        .where(
            lists.c.organisation_id == bindparam("b_organisation_id"),
            lists.c.allocated < lists.c.size * STATUS_LIST_FILL,
        )
        .order_by(lists.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        lists.update()
        .where(lists.c.id == current, lists.c.allocated < lists.c.size * STATUS_LIST_FILL)
        .values(allocated=lists.c.allocated + 1)
        .returning(lists.c.id, lists.c.size)
    )


_TAKE_INDEX = _take_index_statement()
_TAKEN = select(Badge.status_index).where(
    Badge.status_list_id == bindparam("status_list_id"), Badge.status_index.in_(bindparam("candidates", expanding=True))
)


def _allocate(organisation_id: uuid.UUID) -> tuple[uuid.UUID, int]:
    """A random free index in the issuer's current list, so an index says nothing about issue order.

    One ``UPDATE … RETURNING`` both takes the list's row lock (held to the end of the transaction, as the
    former ``SELECT … FOR UPDATE`` was, so concurrent issuers of one organisation never pick the same index)
    and counts the allocation; one query then probes several random candidates at once and takes the first
    free one — rejection sampling, so the index stays uniform over the free ones. No ORM object is loaded.
    """
    row = db.session.execute(_TAKE_INDEX, {"b_organisation_id": organisation_id}).first()
    if row is None:
        status_list = StatusList(id=uuid.uuid4(), organisation_id=organisation_id, size=STATUS_LIST_SIZE, allocated=1)
        db.session.add(status_list)
        db.session.flush()
        list_id, size = status_list.id, status_list.size
    else:
        list_id, size = row
    while True:
        candidates = [secrets.randbelow(size) for _ in range(_PROBE)]
        taken = set(db.session.scalars(_TAKEN, {"status_list_id": list_id, "candidates": candidates}))
        free = next((index for index in candidates if index not in taken), None)
        if free is not None:
            return list_id, free


def encoded_list(status_list: StatusList) -> str:
    """``u`` + base64url(GZIP(bitstring)); bit 0 is the most significant bit of byte 0."""
    bits = bytearray(status_list.size // 8)
    revoked = db.session.scalars(
        select(Badge.status_index).where(Badge.status_list_id == status_list.id, Badge.revoked_at.is_not(None))
    )
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + keys.b64url(gzip.compress(bytes(bits), mtime=0))


# Signed lists by (list id, revision): revisions change on every revocation, so a stale entry is never served.
_list_cache: dict[tuple[uuid.UUID, int, str], Any] = {}


def status_list_credential(*, status_list_id: uuid.UUID, form: str = "jwt") -> Any:
    """The list as a signed ``BitstringStatusListCredential``: a VC-JWT (``form="jwt"``) or JSON with DI."""
    from badges import proofs

    status_list = db.session.get(StatusList, status_list_id)
    if status_list is None:
        raise NotFound("No such status list.")
    cache_key = (status_list.id, status_list.revision, form)
    if cache_key in _list_cache:
        return _list_cache[cache_key]
    url = status_list_url(status_list.id)
    issuer = documents.issuer_id(_base(), status_list.organisation_id)
    body = {
        "@context": [documents.CONTEXTS[0]],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": documents.iso(status_list.updated_at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": encoded_list(status_list),
        },
    }
    if form == "jwt":
        rsa_key = active_key(status_list.organisation_id, KeyAlgorithm.RS256.value)
        result: Any = proofs.sign_vc_jwt(body, private_key(rsa_key), key_url(rsa_key))
    else:
        ed_key = active_key(status_list.organisation_id, KeyAlgorithm.ED25519.value)
        result = _sign_di(body, ed_key, issuer)
    if len(_list_cache) > 1000:
        _list_cache.clear()
    _list_cache[cache_key] = result
    return result


def _sign_di(body: dict[str, Any], ed_key: SigningKey, issuer: str) -> dict[str, Any]:
    from badges import proofs

    vm = f"{issuer}#{proofs.multikey(keys.ed25519_public_key(ed_key.public_jwk))}"
    return proofs.sign_eddsa_rdfc_2022(body, private_key(ed_key), vm, documents.iso(clock.now()))


# --- issuing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """Who a badge names: an account, or (for imported past awards) an email and name."""

    email: str
    name: str
    user_id: uuid.UUID | None = None
    did: str | None = None


def _recipient_of(user: User) -> Recipient:
    did = db.session.get(EarnerDid, user.id)
    return Recipient(email=user.email, name=user.name, user_id=user.id, did=did.did if did else None)


_EXISTING = select(Badge.id).where(Badge.issue_key == bindparam("issue_key"))


def _existing(issue_key: str) -> Badge | None:
    # The id first: almost every call finds nothing, and a one-column probe skips loading a Badge entity.
    badge_id = db.session.scalar(_EXISTING, {"issue_key": issue_key})
    return db.session.get(Badge, badge_id) if badge_id is not None else None


def _sign_and_store(
    *,
    organisation_id: uuid.UUID,
    issuer: dict[str, Any],
    achievement: dict[str, Any],
    recipient: Recipient,
    results: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
    awarded_at: datetime,
    valid_from: datetime,
    valid_until: datetime | None,
    source: BadgeSource,
    issue_key: str,
    title: str,
    version_id: uuid.UUID | None = None,
    stack_id: uuid.UUID | None = None,
    submission_id: uuid.UUID | None = None,
    renewed_from_id: uuid.UUID | None = None,
    identity: dict[str, Any] | None = None,
) -> Badge:
    from badges import proofs

    base = _base()
    badge_id = uuid.uuid4()
    status_list_id, index = _allocate(organisation_id)
    if identity is None and not recipient.did:
        identity = documents.hashed_email(recipient.email, secrets.token_hex(16))
    unsigned = documents.credential(
        badge_id=badge_id,
        base=base,
        issuer=issuer,
        achievement=achievement,
        subject_did=recipient.did,
        identity=identity,
        results=results,
        evidence=evidence,
        valid_from=valid_from,
        valid_until=valid_until,
        awarded_at=awarded_at,
        status_list_url=status_list_url(status_list_id),
        status_index=index,
    )
    signing = active_signers(organisation_id)
    ed_key, rsa_key = signing[KeyAlgorithm.ED25519.value], signing[KeyAlgorithm.RS256.value]
    vm = f"{unsigned['issuer']['id']}#{ed_key.multikey}"
    signed = proofs.sign_eddsa_rdfc_2022(unsigned, ed_key.private, vm, documents.iso(clock.now()))
    # DI proof first, then the JWT over the credential carrying it (NOTES §2: "If both …").
    rsa_url = f"{documents.issuer_id(base, organisation_id)}/keys/{rsa_key.kid}"
    token = proofs.sign_vc_jwt(signed, rsa_key.private, rsa_url)
    now = clock.now()
    row = {
        "id": badge_id,
        "organisation_id": organisation_id,
        "version_id": version_id,
        "stack_id": stack_id,
        "earner_id": recipient.user_id,
        "recipient_name": recipient.name,
        "source": source.value,
        "submission_id": submission_id,
        "issue_key": issue_key,
        "renewed_from_id": renewed_from_id,
        "title": title,
        "status_list_id": status_list_id,
        "status_index": index,
        "awarded_at": awarded_at.replace(microsecond=0),
        "valid_from": valid_from.replace(microsecond=0),
        "valid_until": valid_until.replace(microsecond=0) if valid_until else None,
        "issued_at": now,
        "credential": signed,
        "jwt": token,
        "revoked_at": None,
        "revocation_reason": None,
        "revoked_by_id": None,
        "created_at": now,
        "updated_at": now,
    }
    # Losing a race on the unique keys (issue key, submission, status index) must not spoil the caller's
    # transaction: ``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL) skips the row instead of failing,
    # without the two extra statements of a savepoint; the audit row follows only when the badge row went in.
    # Both are prebuilt Core INSERTs rather than the ORM's unit of work (its bookkeeping for two new rows cost
    # more than both proofs); the Badge object is then attached as the persistent row it now is.
    insert = _INSERT_BADGE.get(db.session.get_bind().dialect.name)
    if insert is not None:
        inserted = db.session.execute(insert, row).first() is not None
    else:  # another database: a savepoint does the same job
        try:
            with db.session.begin_nested():
                db.session.execute(Badge.__table__.insert(), row)
            inserted = True
        except IntegrityError:
            inserted = False
    if not inserted:
        winner = _existing(issue_key)
        if winner is None:  # not our issue key: the submission was issued under another key
            raise Conflict("A badge already holds this submission or status index.")
        return winner
    audit.record_row(
        actor_id=None,
        action="badge.issued",
        object_type="Badge",
        object_id=badge_id,
        organisation_id=organisation_id,
        after={"source": source.value, "title": title, "earner_id": recipient.user_id, "issue_key": issue_key},
    )
    badge = Badge(**row)
    make_transient_to_detached(badge)
    db.session.add(badge)
    return badge


_INSERT_BADGE = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(Badge.__table__)
    .on_conflict_do_nothing()
    .returning(Badge.__table__.c.id)
    for dialect in (postgresql, sqlite)
}


def _validity(validity_days: int | None, start: datetime) -> datetime | None:
    return start + timedelta(days=validity_days) if validity_days else None


def issue(
    *,
    version: CredentialVersion,
    recipient: Recipient,
    results: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
    awarded_at: datetime,
    source: BadgeSource,
    issue_key: str,
    submission_id: uuid.UUID | None = None,
) -> Badge:
    """Issue (once per ``issue_key``) a badge for a published version; then issue any stack it completes."""
    existing = _existing(issue_key)
    if existing is not None:
        return existing
    issuer, achievement = version_documents(version)
    now = clock.now().replace(microsecond=0)
    valid_from = min(awarded_at, now)
    badge = _sign_and_store(
        organisation_id=version.organisation_id,
        issuer=issuer,
        achievement=achievement,
        recipient=recipient,
        results=results,
        evidence=evidence,
        awarded_at=awarded_at,
        valid_from=valid_from,
        valid_until=_validity(version.validity_days, valid_from),
        source=source,
        issue_key=issue_key,
        title=version.title,
        version_id=version.id,
        submission_id=submission_id,
    )
    if recipient.user_id is not None:
        issue_completed_stacks(earner_id=recipient.user_id, micro_credential_id=version.micro_credential_id)
    return badge


# Published versions are immutable, so their Profile and Achievement are built once per process and reused
# for a minute (a renamed organisation or a re-imported standard item shows in new badges within that time).
# They are kept as JSON text: ``json.loads`` hands every badge its own copy several times faster than
# ``copy.deepcopy`` of the dicts (which cost ~0.8 ms a badge, more than the Data Integrity proof).
VERSION_DOCUMENTS_TTL = 60.0
_version_documents: dict[tuple[uuid.UUID, str], tuple[float, str, str, dict[str, Any]]] = {}


def _version_documents_cached(version: CredentialVersion) -> tuple[str, str, dict[str, Any]]:
    """(profile JSON, achievement JSON, the achievement itself — shared, read it only) of a version."""
    key = (version.id, _base())
    cached = _version_documents.get(key)
    if cached is None or cached[0] < monotonic():
        organisation = _organisation(version.organisation_id)
        achievement = documents.achievement_for_version(version, organisation, _base(), aligned_items(version))
        if len(_version_documents) > 1000:
            _version_documents.clear()
        cached = _version_documents[key] = (
            monotonic() + VERSION_DOCUMENTS_TTL,
            json.dumps(documents.profile(organisation, _base())),
            json.dumps(achievement),
            achievement,
        )
    return cached[1], cached[2], cached[3]


def version_documents(version: CredentialVersion) -> tuple[dict[str, Any], dict[str, Any]]:
    """The issuer ``Profile`` and the ``Achievement`` of a version (fresh copies, safe to embed)."""
    profile_json, achievement_json, _ = _version_documents_cached(version)
    return json.loads(profile_json), json.loads(achievement_json)


def results_for(version: CredentialVersion, award_results: Iterable[Any]) -> list[dict[str, Any]]:
    """``Result`` entries naming the rubric level achieved on each criterion (unknown ones are left out)."""
    achievement = _version_documents_cached(version)[2]  # only read here: no copy
    url = achievement["id"]
    descriptions = {rd["id"]: rd for rd in achievement.get("resultDescription", [])}
    out = []
    for result in award_results:
        description = descriptions.get(documents.criterion_ref(url, result.criterion_key))
        if description is None:
            continue
        level_id = documents.level_ref(url, result.criterion_key, result.level_position)
        level = next((lv for lv in description.get("rubricCriterionLevel", []) if lv["id"] == level_id), None)
        if level is None:
            continue
        out.append(
            {
                "type": ["Result"],
                "resultDescription": description["id"],
                "achievedLevel": level_id,
                "value": level["name"],
            }
        )
    return out


def evidence_for(submission: Submission) -> list[dict[str, Any]]:
    """The portfolio as ``Evidence``: narrative and links only when the earner made the evidence public."""
    titles = {r.key: r.title for r in submission.version.requirements}
    if not submission.evidence_public:
        return [
            {
                "type": ["Evidence"],
                "name": "Evidence portfolio",
                "description": "Scored by trained assessors against the rubric; the earner keeps the evidence private.",
            }
        ]
    out = []
    for answer in submission.answers:
        entry: dict[str, Any] = {
            "type": ["Evidence"],
            "name": titles.get(answer.requirement_key, answer.requirement_key),
        }
        if answer.url:
            entry["id"] = answer.url
        if answer.text:
            entry["narrative"] = answer.text
        out.append(entry)
    for file in submission.files:
        out.append(
            {
                "type": ["Evidence"],
                "name": titles.get(file.requirement_key, file.requirement_key),
                "description": f"File: {file.filename} ({file.media_type})",
            }
        )
    return out or [{"type": ["Evidence"], "name": "Evidence portfolio"}]


def issue_for_award(award: Award) -> Badge:
    """The handler of ``assessors.issuance``: the badge of a passed submission, exactly once."""
    existing = db.session.scalar(select(Badge).where(Badge.submission_id == award.submission_id))
    if existing is not None:
        return existing
    submission = db.session.get(Submission, award.submission_id)
    version = db.session.get(CredentialVersion, award.version_id)
    earner = db.session.get(User, award.earner_id)
    if submission is None or version is None or earner is None:
        raise NotFound("The award names a submission, version or earner that does not exist.")
    return issue(
        version=version,
        recipient=_recipient_of(earner),
        results=results_for(version, award.results),
        evidence=evidence_for(submission),
        awarded_at=award.decided_at,
        source=BadgeSource.ASSESSMENT,
        issue_key=f"submission:{award.submission_id}",
        submission_id=award.submission_id,
    )


_STACKS_OF = (
    select(StackMember.stack_id)
    .join(Stack, Stack.id == StackMember.stack_id)
    .where(
        Stack.state == StackState.PUBLISHED.value, StackMember.micro_credential_id == bindparam("micro_credential_id")
    )
)


def issue_completed_stacks(*, earner_id: uuid.UUID, micro_credential_id: uuid.UUID) -> list[Badge]:
    """Issue the badge of every published stack containing ``micro_credential_id`` that the earner now
    completes with unrevoked badges; a stack's badge is issued once per earner."""
    # Ids first (one light query): most micro-credentials belong to no published stack.
    stack_ids = list(db.session.scalars(_STACKS_OF, {"micro_credential_id": micro_credential_id}))
    stacks = db.session.scalars(select(Stack).where(Stack.id.in_(stack_ids))) if stack_ids else []
    issued = []
    for stack in stacks:
        issue_key = f"stack:{stack.id}:{earner_id}"
        if _existing(issue_key) is not None:
            continue
        member_ids = [m.micro_credential_id for m in stack.members]
        held = set(
            db.session.scalars(
                select(CredentialVersion.micro_credential_id)
                .join(Badge, Badge.version_id == CredentialVersion.id)
                .where(
                    Badge.earner_id == earner_id,
                    Badge.revoked_at.is_(None),
                    CredentialVersion.micro_credential_id.in_(member_ids),
                )
            )
        )
        if len(held) < (stack.required_count or len(member_ids)):
            continue
        earner = db.session.get(User, earner_id)
        assert earner is not None
        organisation = _organisation(stack.organisation_id)
        titles = [
            t
            for t in db.session.scalars(
                select(CredentialVersion.title)
                .where(
                    CredentialVersion.micro_credential_id.in_(member_ids),
                    CredentialVersion.state.in_([VersionState.PUBLISHED.value, VersionState.RETIRED.value]),
                )
                .order_by(CredentialVersion.title)
            ).unique()
        ]
        now = clock.now().replace(microsecond=0)
        issued.append(
            _sign_and_store(
                organisation_id=organisation.id,
                issuer=documents.profile(organisation, _base()),
                achievement=documents.achievement_for_stack(stack, organisation, _base(), titles),
                recipient=_recipient_of(earner),
                results=[],
                evidence=[],
                awarded_at=now,
                valid_from=now,
                valid_until=_validity(stack.validity_days, now),
                source=BadgeSource.STACK,
                issue_key=issue_key,
                title=stack.title,
                stack_id=stack.id,
            )
        )
    return issued


# --- reading, revoking, renewing ---------------------------------------------------------------------


def get_badge(*, badge_id: uuid.UUID) -> Badge:
    """Any badge, by id: badges are public documents."""
    badge = db.session.get(Badge, badge_id)
    if badge is None:
        raise NotFound("No such badge.")
    return badge


def list_my_badges(*, actor: User, page: int, page_size: int) -> Page[Badge]:
    stmt = select(Badge).where(Badge.earner_id == actor.id).order_by(Badge.issued_at.desc(), Badge.id)
    return paginate(stmt, page=page, page_size=page_size)


def list_organisation_badges(*, actor: User, organisation_id: uuid.UUID, page: int, page_size: int) -> Page[Badge]:
    organisation = _organisation(organisation_id)
    authorize(actor, "badge.revoke", organisation)
    stmt = select(Badge).where(Badge.organisation_id == organisation_id).order_by(Badge.issued_at.desc(), Badge.id)
    return paginate(stmt, page=page, page_size=page_size)


def revoke(*, actor: User, badge_id: uuid.UUID, reason: str) -> Badge:
    """Revoke a badge: its status-list bit is set in the same transaction, so the next fetch shows it."""
    badge = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", badge)
    if not reason.strip():
        raise ValidationFailed.field("reason", "Give the reason for revoking.")
    if badge.revoked_at is not None:
        raise Conflict("This badge is already revoked.")
    badge.revoked_at = clock.now()
    badge.revocation_reason = reason.strip()
    badge.revoked_by_id = actor.id
    status_list = db.session.get(StatusList, badge.status_list_id, with_for_update=True)
    assert status_list is not None
    status_list.revision += 1
    db.session.flush()
    audit.record(
        actor=actor if actor.id else None,
        action="badge.revoked",
        obj=badge,
        organisation_id=badge.organisation_id,
        before={"revoked": False},
        after={"revoked": True, "reason": badge.revocation_reason},
    )
    return badge


def renew(*, actor: User, badge_id: uuid.UUID) -> Badge:
    """Re-issue a badge with new dates (same achievement, subject and results); once per badge."""
    old = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", old)
    if old.revoked_at is not None:
        raise Conflict("A revoked badge cannot be renewed.")
    issue_key = f"renewal:{old.id}"
    if _existing(issue_key) is not None:
        raise Conflict("This badge has already been renewed.")
    organisation = _organisation(old.organisation_id)
    subject = old.credential["credentialSubject"]
    now = clock.now().replace(microsecond=0)
    validity = (old.valid_until - old.valid_from).days if old.valid_until else None
    identity = subject["identifier"][0] if subject.get("identifier") else None
    badge = _sign_and_store(
        organisation_id=organisation.id,
        issuer=documents.profile(organisation, _base()),
        achievement=subject["achievement"],
        recipient=Recipient(email="", name=old.recipient_name, user_id=old.earner_id, did=subject.get("id")),
        results=subject.get("result", []),
        evidence=old.credential.get("evidence", []),
        awarded_at=old.awarded_at,
        valid_from=now,
        valid_until=_validity(validity, now),
        source=BadgeSource.RENEWAL,
        issue_key=issue_key,
        title=old.title,
        version_id=old.version_id,
        stack_id=old.stack_id,
        renewed_from_id=old.id,
        identity=identity,
    )
    audit.record(
        actor=actor if actor.id else None,
        action="badge.renewed",
        obj=old,
        organisation_id=old.organisation_id,
        after={"renewal": badge.id},
    )
    return badge


def set_did(*, actor: User, did: str | None) -> str | None:
    """The DID future badges name the earner by (None: back to a hashed email)."""
    row = db.session.get(EarnerDid, actor.id)
    if did is None:
        if row is not None:
            db.session.delete(row)
        return None
    did = did.strip()
    if not did.startswith("did:") or len(did.split(":")) < 3 or any(c.isspace() for c in did) or len(did) > 500:
        raise ValidationFailed.field("did", "Give a DID such as did:key:z6Mk… or did:web:example.org.")
    if row is None:
        db.session.add(EarnerDid(user_id=actor.id, did=did))
    else:
        row.did = did
    db.session.flush()
    return did


# --- bulk import of past awards ----------------------------------------------------------------------

IMPORT_COLUMNS = ("email", "name", "version_id", "awarded_on", "award_id", "did")
REQUIRED_COLUMNS = ("email", "version_id", "awarded_on")
MAX_IMPORT_ROWS = 10000


@dataclass
class ImportRow:
    line: int
    email: str
    name: str
    version: CredentialVersion
    awarded_at: datetime
    did: str | None
    key: str


def _parse_date(value: str) -> datetime:
    value = value.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(12, 0), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("use a date like 2024-06-30 or a time like 2024-06-30T14:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("give the time zone, e.g. 2024-06-30T14:00:00Z")
    return moment.astimezone(UTC)


def parse_import(*, organisation_id: uuid.UUID, data: bytes) -> list[ImportRow]:
    """Check the whole file; every problem is reported with its line number, nothing is issued if any."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.field("file", "The file is not UTF-8 text.") from None
    if "\x00" in text:
        raise ValidationFailed.field("file", "The file contains NUL bytes; send a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ValidationFailed.field("file", "The file is empty; the first line must name the columns.") from None
    except csv.Error as exc:
        raise ValidationFailed.field("line 1", f"not CSV: {exc}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in IMPORT_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if len(set(header)) != len(header):
            problems.append("a column is named twice")
        raise ValidationFailed.field(
            "line 1", "; ".join(problems) + f" (expected columns: {', '.join(IMPORT_COLUMNS)})"
        )
    errors: list[tuple[str, str]] = []
    rows: list[ImportRow] = []
    versions: dict[str, CredentialVersion | None] = {}
    seen: dict[str, int] = {}
    now = clock.now()
    try:
        records = list(enumerate(reader, start=2))
    except csv.Error as exc:
        raise ValidationFailed.field(f"line {reader.line_num}", f"not CSV: {exc}") from None
    if len(records) > MAX_IMPORT_ROWS:
        raise ValidationFailed.field("file", f"At most {MAX_IMPORT_ROWS} rows per file; split it.")
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append((f"line {line}", f"has {len(cells)} cells, the header has {len(header)}"))
            continue
        row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        before = len(errors)
        email = row["email"]
        if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
            errors.append((f"line {line}.email", "not an email address"))
        name = row.get("name", "")[:200]
        version_ref = row["version_id"]
        if version_ref not in versions:
            try:
                candidate = db.session.get(CredentialVersion, uuid.UUID(version_ref))
            except ValueError:
                candidate = None
            ok = (
                candidate is not None
                and candidate.organisation_id == organisation_id
                and candidate.state in (VersionState.PUBLISHED.value, VersionState.RETIRED.value)
            )
            versions[version_ref] = candidate if ok else None
        version = versions[version_ref]
        if version is None:
            errors.append((f"line {line}.version_id", "not a published micro-credential version of this organisation"))
        try:
            awarded_at = _parse_date(row["awarded_on"])
            if awarded_at > now:
                errors.append((f"line {line}.awarded_on", "is in the future"))
        except ValueError as exc:
            errors.append((f"line {line}.awarded_on", str(exc)))
            awarded_at = now
        did = row.get("did") or None
        if did and (not did.startswith("did:") or any(c.isspace() for c in did) or len(did) > 500):
            errors.append((f"line {line}.did", "not a DID"))
        award_id = row.get("award_id", "")
        if len(award_id) > 200:
            errors.append((f"line {line}.award_id", "longer than 200 characters"))
        if len(errors) > before or version is None:
            continue
        # The row key: an explicit award id, else the award itself (who, what, when) — not the line number,
        # so re-sending the file, reordered or with rows added, issues each award once.
        identity = award_id or f"{email.lower()}|{version.id}|{awarded_at.date().isoformat()}"
        key = "import:" + hashlib.sha256(f"{organisation_id}|{identity}".encode()).hexdigest()
        if key in seen:
            errors.append((f"line {line}", f"repeats the award on line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(ImportRow(line, email, name, version, awarded_at, did, key))
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the file; nothing was issued.",
            errors=[
                {"field": f, "pointer": "#/" + f.replace(" ", "/").replace(".", "/"), "detail": d}
                for f, d in errors[:200]
            ],
        )
    if not rows:
        raise ValidationFailed.field("file", "The file has no award rows.")
    return rows


def import_awards(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    data: bytes,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Issue a badge per CSV row, all or nothing: the file is checked whole first; rows issued before
    (same row key) are reported as ``skipped``, so submitting a file twice issues each award once."""
    organisation = _organisation(organisation_id)
    authorize(actor, "badge.import", organisation)
    rows = parse_import(organisation_id=organisation_id, data=data)
    report: dict[str, Any] = {"issued": 0, "skipped": 0, "rows": []}
    for row in rows:
        existing = _existing(row.key)
        if existing is not None:
            report["skipped"] += 1
            report["rows"].append({"line": row.line, "result": "skipped", "badge_id": existing.id})
        else:
            user = db.session.scalar(select(User).where(func.lower(User.email) == row.email.lower()))
            recipient = Recipient(
                email=row.email,
                name=row.name or (user.name if user else ""),
                user_id=user.id if user else None,
                did=row.did,
            )
            badge = issue(
                version=row.version,
                recipient=recipient,
                results=[],
                evidence=[],
                awarded_at=row.awarded_at,
                source=BadgeSource.IMPORT,
                issue_key=row.key,
            )
            report["issued"] += 1
            report["rows"].append({"line": row.line, "result": "issued", "badge_id": badge.id})
        if progress:
            progress(1)
    audit.record(
        actor=actor if actor.id else None,
        action="badge.imported",
        obj=organisation,
        organisation_id=organisation_id,
        after={"issued": report["issued"], "skipped": report["skipped"]},
    )
    return report
