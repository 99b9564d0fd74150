"""Another organisation's private things answer exactly as ids that do not exist: a signed-in member of one
organisation cannot learn, from a 403 where a random id gets a 404, that another organisation's draft stack,
credential, submission, file, task or invitation exists. The routes come from the URL map, so a new resource
is probed without anyone remembering to add it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask

from assessors.models import TaskKind
from assessors.queue import _new_task
from core import clock
from core.models import Role
from tests.conftest import bearer
from tests.core.test_web import BROWSER, sign_in
from tests.factories import (
    ApiTokenFactory,
    CredentialVersionFactory,
    EvidenceFileFactory,
    InvitationFactory,
    OrganisationFactory,
    QualificationFactory,
    StackFactory,
    SubmissionFactory,
    member,
)

_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
PUBLIC = {"organisation_id"}


@pytest.fixture
def foreign(session: Any) -> dict[str, str]:
    """Private objects of one organisation, by the URL variable that names them."""
    organisation = OrganisationFactory()
    owner = member(organisation, Role.ORG_ADMIN, Role.AUTHOR)
    draft = CredentialVersionFactory(organisation=organisation)
    published = CredentialVersionFactory(organisation=organisation, published=True)
    submission = SubmissionFactory(version=published, earner=member(organisation), submitted=True)
    evidence = EvidenceFileFactory(submission=submission)
    task = _new_task(submission, TaskKind.REVIEW, queued_at=clock.now())
    session.flush()
    return {
        "organisation_id": str(organisation.id),
        "user_id": str(owner.id),
        "invitation_id": str(InvitationFactory(organisation=organisation).id),
        "micro_credential_id": str(draft.micro_credential_id),
        "version_id": str(draft.id),
        "stack_id": str(StackFactory(organisation=organisation).id),
        "submission_id": str(submission.id),
        "file_id": str(evidence.id),
        "task_id": str(task.id),
        "qualification_id": str(
            QualificationFactory(micro_credential=published.micro_credential, user=member(organisation)).id
        ),
        "token_id": str(ApiTokenFactory(user=owner).id),
    }


@pytest.fixture
def outsider() -> Any:
    """An admin, author and assessor of another organisation."""
    return member(OrganisationFactory(), Role.ORG_ADMIN, Role.AUTHOR, Role.ASSESSOR)


def _url(rule: str, values: dict[str, str]) -> str | None:
    """The rule's URL with every id variable taken from ``values``; None when a variable is not an id we hold."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        converter, name = match.group(1), match.group(2)
        if converter == "any":
            return match.group(0).split("(")[1].split(",")[0].strip()
        if name not in values:
            missing = True
        return values.get(name, "")

    url = _VARIABLE.sub(value, rule)
    return None if missing else url


def _probes(app: Flask, foreign: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(method, rule, foreign URL, random URL) for every route whose ids we can fill in."""
    # Organisations are public (issuer profiles, the catalogue): a route naming only one tells nothing new, and
    # in the others the organisation stays the real one, so only the private id differs between the two URLs.
    random_ids = {name: foreign[name] if name in PUBLIC else str(uuid.uuid4()) for name in foreign}
    probes = []
    for rule in app.url_map.iter_rules():
        if not _VARIABLE.search(rule.rule) or "static" in rule.endpoint:
            continue
        if {match[1] for match in _VARIABLE.findall(rule.rule)} <= PUBLIC:
            continue
        foreign_url, random_url = _url(rule.rule, foreign), _url(rule.rule, random_ids)
        if foreign_url is None or random_url is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            probes.append((method, rule.rule, foreign_url, random_url))
    return probes


def _send(client: Any, method: str, url: str, headers: dict[str, str]) -> int:
    if url.startswith("/api/"):
        kwargs: dict[str, Any] = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
    else:
        kwargs = {"data": {}} if method == "POST" else {}
    return client.open(url, method=method, headers=headers, **kwargs).status_code


def test_the_probe_covers_the_private_resources(app: Flask, foreign: dict[str, str]) -> None:
    rules = {rule for _, rule, _, _ in _probes(app, foreign)}
    assert "/api/v1/stacks/<uuid:stack_id>/publish" in rules
    assert "/api/v1/submissions/<uuid:submission_id>/files/<uuid:file_id>" in rules
    assert "/review/evidence/<uuid:file_id>" in rules
    assert len(rules) > 60


def test_foreign_ids_answer_like_unknown_ids_on_the_api(
    app: Flask, client: Any, foreign: dict[str, str], outsider: Any
) -> None:
    headers = bearer(outsider)
    leaks = []
    for method, rule, foreign_url, random_url in _probes(app, foreign):
        if not rule.startswith("/api/"):
            continue
        answers = (_send(client, method, foreign_url, headers), _send(client, method, random_url, headers))
        if answers[0] != answers[1]:
            leaks.append(f"{method} {rule}: foreign {answers[0]}, unknown {answers[1]}")
    assert leaks == [], "\n".join(leaks)


def test_foreign_ids_answer_like_unknown_ids_on_pages(
    app: Flask, client: Any, foreign: dict[str, str], outsider: Any
) -> None:
    sign_in(client, outsider.email)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        leaks = []
        for method, rule, foreign_url, random_url in _probes(app, foreign):
            if rule.startswith("/api/"):
                continue
            answers = (_send(client, method, foreign_url, BROWSER), _send(client, method, random_url, BROWSER))
            if answers[0] != answers[1]:
                leaks.append(f"{method} {rule}: foreign {answers[0]}, unknown {answers[1]}")
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert leaks == [], "\n".join(leaks)
