"""Stacks: when an earner's badges complete a published stack, the stack's own badge, once per earner."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select

from badges import documents, issuers
from badges.access import _base, _organisation
from badges.models import Badge, BadgeSource
from badges.signing import _existing, _recipient_of, _sign_and_store, _validity, current_batch
from core import clock
from core.db import db
from core.models import User
from credentials.authoring.models import CredentialVersion, Stack, StackMember, StackState, VersionState

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
    def load() -> list[uuid.UUID]:
        return list(db.session.scalars(_STACKS_OF, {"micro_credential_id": micro_credential_id}))

    in_batch = current_batch()  # a batch asks once per micro-credential
    stack_ids = in_batch.stacks_of(micro_credential_id, load) if in_batch else load()
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
                    Badge.suspended_at.is_(None),
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
                issuer=issuers.profile_document(organisation),
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
