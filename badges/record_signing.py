"""Signing a transcript or an endorsement the way every badge is signed: an ``eddsa-rdfc-2022`` Data Integrity
proof with the organisation's did:web Ed25519 key, then an RS256 VC-JWT over the credential carrying it."""

from __future__ import annotations

import uuid
from typing import Any

from badges import documents, proofs
from badges.access import _base
from badges.issuers import active_signers, verification_method
from badges.models import KeyAlgorithm, StatusList
from badges.status import _allocate, status_list_url
from core import clock
from core.db import db


def status_entry(organisation_id: uuid.UUID) -> tuple[uuid.UUID, int, dict[str, Any]]:
    """A random free index in the issuer's revocation list (shared with its badges) and its ``credentialStatus``."""
    list_id, index = _allocate(organisation_id)
    url = status_list_url(list_id)
    entry = {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }
    return list_id, index, entry


def sign(organisation_id: uuid.UUID, unsigned: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The credential with its Data Integrity proof, and the VC-JWT over that."""
    signing = active_signers(organisation_id)
    ed_key, rsa_key = signing[KeyAlgorithm.ED25519.value], signing[KeyAlgorithm.RS256.value]
    vm = verification_method(organisation_id, ed_key.kid)
    signed = proofs.sign_eddsa_rdfc_2022(unsigned, ed_key.private, vm, documents.iso(clock.now()))
    kid_url = f"{documents.issuer_url(_base(), organisation_id)}/keys/{rsa_key.kid}"
    return signed, proofs.sign_vc_jwt(signed, rsa_key.private, kid_url)


def touch(status_list_id: uuid.UUID) -> None:
    """Move the list's revision (under its row lock) so its signed copy is rebuilt with the new bit."""
    locked = db.session.get(StatusList, status_list_id, with_for_update=True)
    assert locked is not None
    locked.revision += 1
