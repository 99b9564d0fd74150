"""Status lists (Bitstring Status List): each badge's random index, the encoded bitstring, and the list as a
signed credential at its public URL.

A badge's index is taken in its issuer's current *revocation* list. Its *suspension* bit sits at the same index
in the suspension list paired with that revocation list (made the first time one of its badges is suspended):
OB 3.0 lets a credential carry one ``credentialStatus`` entry, so the pairing, not the credential, says where
to look (docs/issuing.md). No bit is set by hand: a bit is on when the badge's row is revoked (or suspended),
and the list's revision moves so the signed copy cached here is rebuilt.
"""

from __future__ import annotations

import gzip
import secrets
import uuid
from typing import Any

from flask import has_app_context
from sqlalchemy import bindparam, select, union_all

from badges import documents, keys
from badges.access import _base
from badges.issuers import active_key, key_url, private_key, verification_method
from badges.models import Badge, KeyAlgorithm, StatusList, StatusPurpose
from badges.record_models import ClrVersion, Endorsement
from core import clock
from core.db import db
from core.errors import NotFound

STATUS_LIST_SIZE = 131072
# Open a new list when this share of the current one is taken: random probing stays cheap and the
# indexes stay spread over the whole list.
STATUS_LIST_FILL = 0.75


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
            lists.c.purpose == StatusPurpose.REVOCATION.value,
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
# Badges, transcript versions and endorsements share their issuer's revocation lists: an index is free only when
# none of them holds it.
_TAKEN = union_all(
    *(
        select(model.status_index).where(
            model.status_list_id == bindparam("status_list_id"),
            model.status_index.in_(bindparam("candidates", expanding=True)),
        )
        for model in (Badge, ClrVersion, Endorsement)
    )
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


_RESERVE = (
    StatusList.__table__.update()
    .where(
        StatusList.__table__.c.id == bindparam("b_list_id"),
        StatusList.__table__.c.allocated + bindparam("b_count") <= StatusList.__table__.c.size * STATUS_LIST_FILL,
    )
    .values(allocated=StatusList.__table__.c.allocated + bindparam("b_count"))
    .returning(StatusList.__table__.c.size)
)
_PROBE_CHUNK = 500  # candidates per probe query (well inside every database's bound-parameter limit)


def reserve(organisation_id: uuid.UUID, count: int) -> list[tuple[uuid.UUID, int]]:
    """``count`` distinct random free indexes of the issuer's current list, for a batch of badges issued in this
    transaction; empty when the list cannot take them all (the batch then allocates badge by badge).

    The same guarantees as ``_allocate``, amortised: the list's row is locked by one ``UPDATE … RETURNING`` that
    counts all ``count`` allocations (held to the end of the transaction, so no concurrent issuer draws from the
    list meanwhile), and random candidates are probed a few hundred per query, free ones kept until there are
    ``count`` — rejection sampling without replacement, uniform over the free indexes as before.
    """
    list_id, first = _allocate(organisation_id)  # the current list's lock, its counter, and one index
    if count <= 1:
        return [(list_id, first)]
    row = db.session.execute(_RESERVE, {"b_list_id": list_id, "b_count": count - 1}).first()
    if row is None:  # the list is nearly full: the rest go one by one (and open the next list)
        return [(list_id, first)]
    (size,) = row
    chosen: dict[int, None] = {first: None}
    while len(chosen) < count:
        need = count - len(chosen)
        candidates: dict[int, None] = {}
        while len(candidates) < min(_PROBE_CHUNK, 2 * need + 8):
            index = secrets.randbelow(size)
            if index not in chosen:
                candidates[index] = None
        taken = set(db.session.scalars(_TAKEN, {"status_list_id": list_id, "candidates": list(candidates)}))
        for index in candidates:
            if index not in taken and len(chosen) < count:
                chosen[index] = None
    return [(list_id, index) for index in chosen]


def suspension_list(*, revocation_list_id: uuid.UUID, create: bool = False) -> StatusList | None:
    """The suspension list paired with a revocation list; with ``create``, made when missing (under the
    revocation list's row lock, so two first suspensions make one list)."""
    query = select(StatusList).where(StatusList.pairs_with_id == revocation_list_id)
    found = db.session.scalar(query)
    if found is not None or not create:
        return found
    revocation_list = db.session.get(StatusList, revocation_list_id, with_for_update=True)
    if revocation_list is None:
        raise NotFound("No such status list.")
    found = db.session.scalar(query)
    if found is None:
        found = StatusList(
            id=uuid.uuid4(),
            organisation_id=revocation_list.organisation_id,
            purpose=StatusPurpose.SUSPENSION.value,
            size=revocation_list.size,
            allocated=0,
            pairs_with_id=revocation_list.id,
        )
        db.session.add(found)
        db.session.flush()
    return found


def own_list_id(url: str) -> uuid.UUID | None:
    """The id of one of our status lists from its public URL; None for anyone else's URL."""
    if not has_app_context():
        return None
    prefix = f"{_base()}/status-lists/"
    if not url.startswith(prefix):
        return None
    try:
        return uuid.UUID(url.removeprefix(prefix))
    except ValueError:
        return None


def paired_suspension_url(revocation_list_url: str) -> tuple[bool, str | None]:
    """For the verifier: (is this one of our revocation lists, the URL of its paired suspension list or None)."""
    list_id = own_list_id(revocation_list_url)
    if list_id is None:
        return False, None
    status_list = db.session.get(StatusList, list_id)
    if status_list is None or status_list.purpose != StatusPurpose.REVOCATION.value:
        return False, None
    paired = suspension_list(revocation_list_id=list_id)
    return True, status_list_url(paired.id) if paired is not None else None


def encoded_list(status_list: StatusList) -> str:
    """``u`` + base64url(GZIP(bitstring)); bit 0 is the most significant bit of byte 0."""
    bits = bytearray(status_list.size // 8)
    if status_list.purpose == StatusPurpose.SUSPENSION.value:
        query = select(Badge.status_index).where(
            Badge.status_list_id == status_list.pairs_with_id, Badge.suspended_at.is_not(None)
        )
    else:
        query = union_all(
            select(Badge.status_index).where(Badge.status_list_id == status_list.id, Badge.revoked_at.is_not(None)),
            select(ClrVersion.status_index).where(
                ClrVersion.status_list_id == status_list.id, ClrVersion.superseded_at.is_not(None)
            ),
            select(Endorsement.status_index).where(
                Endorsement.status_list_id == status_list.id, Endorsement.revoked_at.is_not(None)
            ),
        )
    for index in db.session.scalars(query):
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + keys.b64url(gzip.compress(bytes(bits), mtime=0))


# Signed lists by (list id, revision): every revocation or suspension moves the revision; no stale entry is served.
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
        vm = verification_method(status_list.organisation_id, ed_key.kid)
        result = proofs.sign_eddsa_rdfc_2022(body, private_key(ed_key), vm, documents.iso(clock.now()))
    if len(_list_cache) > 1000:
        _list_cache.clear()
    _list_cache[cache_key] = result
    return result
