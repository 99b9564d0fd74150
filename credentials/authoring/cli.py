"""Demo data for authoring (`flask demo` calls the step below)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from core.db import db
from core.demo import DemoContext, demo_step
from credentials.authoring import demo_data, publication, stacks, versions
from credentials.authoring.models import CredentialVersion, Stack, StackState
from standards.models import StandardItem


def _item_ids(codes: list[str]) -> list[Any]:
    rows = dict(
        db.session.execute(
            select(StandardItem.human_coding_scheme, StandardItem.id).where(
                StandardItem.human_coding_scheme.in_(codes), StandardItem.obsolete_at.is_(None)
            )
        ).all()
    )
    return [rows[code] for code in codes if code in rows]


def _existing(ctx: DemoContext, title: str) -> CredentialVersion | None:
    assert ctx.organisation is not None
    return db.session.scalar(
        select(CredentialVersion).where(
            CredentialVersion.organisation_id == ctx.organisation.id, CredentialVersion.title == title
        )
    )


@demo_step(order=20)
def _micro_credentials(ctx: DemoContext) -> None:
    """Three published micro-credentials, one stack of them and one draft waiting for review."""
    assert ctx.organisation is not None
    author, reviewer = ctx.users["author"], ctx.users["author2"]
    published = []
    for content, codes in demo_data.PUBLISHED:
        version = _existing(ctx, content["title"])
        if version is None:
            version = versions.create_micro_credential(
                actor=author,
                organisation_id=ctx.organisation.id,
                content={**content, "alignments": _item_ids(codes)},
            )
            publication.request_review(actor=author, version_id=version.id, comment="Ready for a second pair of eyes.")
            publication.approve(actor=reviewer, version_id=version.id, comment="Clear rubric; approved.")
            publication.publish(actor=author, version_id=version.id)
            ctx.echo(f"Published micro-credential: {version.title}")
        published.append(version)
    content, codes = demo_data.UNDER_REVIEW
    if _existing(ctx, content["title"]) is None:
        draft = versions.create_micro_credential(
            actor=author,
            organisation_id=ctx.organisation.id,
            content={**content, "alignments": _item_ids(codes)},
        )
        publication.request_review(actor=author, version_id=draft.id, comment="Could you check the tracker wording?")
        ctx.echo(f"Draft waiting for review: {draft.title}")
    if (
        db.session.scalar(
            select(Stack).where(Stack.title == demo_data.STACK_TITLE, Stack.organisation_id == ctx.organisation.id)
        )
        is None
    ):
        stack = stacks.create_stack(
            actor=author,
            organisation_id=ctx.organisation.id,
            title=demo_data.STACK_TITLE,
            description="Earn any two of the three to show instructional leadership.",
            micro_credentials=[v.micro_credential_id for v in published],
            required_count=2,
        )
        stacks.set_stack_state(actor=author, stack_id=stack.id, state=StackState.PUBLISHED)
        ctx.echo(f"Published stack: {stack.title}")


def init_app(app: Flask) -> None:
    """No commands of its own yet; importing this module registers the demo step."""
