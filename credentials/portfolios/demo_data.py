"""Demo data for portfolios: the demo earner with a draft, a submitted and a "not yet" submission.

Files go to the configured storage (``STORAGE_URL``), so the demo exercises the real upload path.
"""

from __future__ import annotations

import io

from sqlalchemy import select

from core import clock
from core.db import db
from core.demo import DemoContext, demo_step
from credentials.authoring import demo_data
from credentials.authoring.models import CredentialVersion, EvidenceKind, VersionState
from credentials.portfolios import evidence, services
from credentials.portfolios.models import CriterionFeedback, Submission, SubmissionState

SENTENCES = (
    "I chose a short complex text and planned three reads with a different purpose each.",
    "Students annotated the text and answered text-dependent questions in writing.",
    "The samples show most students now cite evidence, though some still paraphrase loosely.",
    "Next time I will model how to explain why a quotation supports a claim.",
)


def _text(words: int) -> str:
    out: list[str] = []
    while len(" ".join(out).split()) < words:
        out.append(SENTENCES[len(out) % len(SENTENCES)])
    return " ".join(out)


def _pdf(title: str, n: int) -> bytes:
    """A tiny but well-formed one-page PDF (distinct per file, so each has its own SHA-256)."""
    body = f"BT /F1 18 Tf 72 720 Td ({title} - page {n}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _fill(ctx: DemoContext, submission: Submission, *, complete: bool) -> None:
    earner = ctx.users["earner"]
    answers: dict[str, str | None] = {}
    for requirement in submission.version.requirements:
        if requirement.evidence_kind == EvidenceKind.TEXT.value:
            words = requirement.min_words or 120
            answers[requirement.key] = _text(words if complete else max(20, words // 3))
        elif requirement.evidence_kind == EvidenceKind.LINK.value:
            answers[requirement.key] = f"https://riverside.demo.example/portfolio/{requirement.key}"
        elif complete or requirement is submission.version.requirements[0]:
            count = requirement.min_files or 1
            evidence.add_files(
                actor=earner,
                submission_id=submission.id,
                requirement_key=requirement.key,
                files=[
                    evidence.IncomingFile(
                        stream=io.BytesIO(_pdf(f"{submission.reference} {requirement.title}", n)),
                        filename=f"{requirement.key}-{n}.pdf",
                    )
                    for n in range(1, count + 1)
                ],
            )
    services.save_draft(actor=earner, submission_id=submission.id, answers=answers)


@demo_step(order=30)
def _submissions(ctx: DemoContext) -> None:
    """Erin (the demo earner) has a draft, a submitted and a "not yet" submission, one per credential."""
    earner = ctx.users["earner"]
    titles = [content["title"] for content, _ in demo_data.PUBLISHED]
    versions = [
        db.session.scalar(
            select(CredentialVersion).where(
                CredentialVersion.title == title, CredentialVersion.state == VersionState.PUBLISHED.value
            )
        )
        for title in titles
    ]
    for version, outcome in zip(versions, ("draft", "submitted", "not_yet"), strict=False):
        if version is None:
            continue
        started = db.session.scalar(
            select(Submission.id).where(
                Submission.earner_id == earner.id, Submission.micro_credential_id == version.micro_credential_id
            )
        )
        if started is not None:
            continue
        submission = services.start(actor=earner, version_id=version.id)
        _fill(ctx, submission, complete=outcome != "draft")
        if outcome != "draft":
            services.submit(actor=earner, submission_id=submission.id)
        if outcome == "not_yet":
            _release_not_yet(submission)
        ctx.echo(f"Demo earner's submission ({outcome.replace('_', ' ')}): {version.title}")


def _release_not_yet(submission: Submission) -> None:
    """Stand in for the review domain's decision: "not yet", with per-criterion feedback released."""
    submission.state = SubmissionState.NOT_YET.value
    submission.decided_at = clock.now()
    submission.feedback_summary = (
        "A thoughtful start. Your plan is clear; the evidence of impact on students is not yet strong enough. "
        "See the feedback on each criterion, then start your next attempt from this one."
    )
    for position, criterion in enumerate(submission.version.criteria):
        level = criterion.levels[1 if position == 0 else 2]
        submission.feedback.append(
            CriterionFeedback(
                criterion_key=criterion.key,
                position=position,
                level_position=level.position,
                level_name=level.name,
                points=level.points,
                feedback="Show how students' work changed, with examples." if position == 0 else "Well done.",
            )
        )
    db.session.flush()
