"""An issuer's public face: its signing keys (made on its first badge, rotated by its admins, published for
ever), its ``did:web`` document and its Profile.

Named for the issuer rather than for keys because everything here is what ``/issuers/<id>/…`` serves or signs
with; the key material itself (generating, encrypting at rest, JWKs) is ``badges.keys``, which knows nothing
of the database.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from badges import documents, keys
from badges.access import _base, _organisation
from badges.models import IssuerImage, KeyAlgorithm, KeyState, SigningKey
from core import audit, clock
from core.authz import authorize
from core.db import db
from core.errors import NotFound
from core.models import Organisation, User
from core.organisations import update_organisation
from credentials.authoring.images import check_badge_image


def _kek() -> str:
    return str(current_app.config["KEY_ENCRYPTION_KEY"])


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
    """What signing a badge needs of one key: its kid and the decrypted private key."""

    kid: str
    private: keys.PrivateKey


_signers: dict[tuple[str, str], _Signer] = {}


def _signer(key_id: uuid.UUID) -> _Signer:
    """The signing material of one key, cached per process like the private key it holds (see ``_private_cache``)."""
    kek = _kek()
    cached = _signers.get((str(key_id), kek))
    if cached is None:
        row = db.session.get(SigningKey, key_id)
        assert row is not None
        if len(_signers) > 1000:
            _signers.clear()
        cached = _signers[(row.kid, kek)] = _Signer(row.kid, private_key(row))
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
    return f"{documents.issuer_url(_base(), row.organisation_id)}/keys/{row.kid}"


def did_web(organisation_id: uuid.UUID) -> str:
    """The issuer's did:web DID, which is also its ``issuer.id`` in every badge it signs."""
    return documents.issuer_id(_base(), organisation_id)


def verification_method(organisation_id: uuid.UUID, kid: str) -> str:
    """The DID URL of one of the issuer's keys in its did:web document (what a proof's verificationMethod names)."""
    return f"{did_web(organisation_id)}#{kid}"


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
        "alsoKnownAs": [documents.issuer_url(_base(), organisation_id)],
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


def issuer_profile(*, organisation_id: uuid.UUID) -> tuple[Organisation, dict[str, Any]]:
    organisation = _organisation(organisation_id)
    body = {"@context": documents.CONTEXTS[:2], **profile_document(organisation)}
    return organisation, body


def profile_document(organisation: Organisation) -> dict[str, Any]:
    """The Profile that names ``organisation`` as issuer, in its public page and in the badges it signs."""
    has_image = db.session.scalar(select(IssuerImage.sha256).where(IssuerImage.organisation_id == organisation.id))
    return documents.profile(organisation, _base(), has_image=has_image is not None)


# --- the editable profile: the organisation's name, description, website, e-mail, and the logo ---------

PROFILE_FIELDS = ("name", "description", "url", "email")


def issuer_image(*, organisation_id: uuid.UUID) -> IssuerImage:
    row = db.session.get(IssuerImage, organisation_id)
    if row is None:
        raise NotFound("This issuer has no logo.")
    return row


def update_profile(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    changes: dict[str, Any],
    image: bytes | None = None,
    remove_image: bool = False,
    expected_version: int | None = None,
) -> Organisation:
    """Change what verifiers see of the issuer: the text fields (through the organisation's own update, which
    checks the admin and records the change) and the logo (a PNG, or an SVG that is sanitised; checked by
    content, not by name). All of it or none: a refused logo leaves the text unchanged too."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    organisation = _organisation(organisation_id)
    authorize(actor, "organisation.update", organisation)
    if changes or expected_version is not None:  # a logo alone leaves the organisation row and its audit as they are
        organisation = update_organisation(
            actor=actor, organisation_id=organisation_id, changes=changes, expected_version=expected_version
        )
    row = db.session.get(IssuerImage, organisation_id)
    if image is not None:
        media_type, clean = check_badge_image(image)
        digest = hashlib.sha256(clean).hexdigest()
        if row is None:
            row = IssuerImage(organisation_id=organisation_id)
            db.session.add(row)
        row.media_type, row.data, row.sha256 = media_type, clean, digest
        db.session.flush()
        audit.record(
            actor=actor,
            action="issuer.image_set",
            obj=organisation,
            organisation_id=organisation_id,
            after={"image": digest, "media_type": media_type},
        )
    elif remove_image and row is not None:
        db.session.delete(row)
        db.session.flush()
        audit.record(
            actor=actor,
            action="issuer.image_removed",
            obj=organisation,
            organisation_id=organisation_id,
            before={"image": row.sha256},
        )
    return organisation


def image_url(organisation_id: uuid.UUID) -> str:
    return f"{documents.issuer_url(_base(), organisation_id)}/image"


def has_image(organisation: Organisation) -> bool:
    return db.session.get(IssuerImage, organisation.id) is not None


def register_checklist_step() -> None:
    """The first-run checklist's logo step (core/checklist.py), judged from the stored logo."""
    from core.checklist import register_step

    register_step(
        "issuer_logo",
        label=_l("Add your logo"),
        hint=_l("A PNG or SVG shown on your issuer page and carried by the badges you issue."),
        order=12,
        done=has_image,
        endpoint="issuing.edit_profile",
    )
