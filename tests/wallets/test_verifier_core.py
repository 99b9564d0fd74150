"""Wallets accept our badges: the DCC's verifier-core (inside the Learner Credential Wallet and VerifierPlus)
checks the demo's valid, revoked and expired badges and every other kind we issue, offline, and says what we
say: signature valid, and expired or revoked where they are."""

from __future__ import annotations

import copy
import re
from typing import Any

from badges import imports, renewal
from badges.models import Badge
from core.db import db
from tests.badges.issued import admin_of, ago, award, passed_submission
from tests.factories import CredentialVersionFactory, StackFactory
from tests.wallets.verifier_core import steps, verify

GOOD = {"valid_signature": True, "expiration": True, "revocation_status": True}


def _demo_badges(app: Any, client: Any) -> dict[str, dict[str, Any]]:
    output = app.test_cli_runner().invoke(args=["demo"])
    assert output.exit_code == 0, output.output
    found = re.findall(r"^http://localhost(/badges/[0-9a-f-]{36}) (valid|revoked|expired)$", output.output, re.M)
    return {status: client.get(path + ".json").get_json() for path, status in found}


def test_verifier_core_gives_the_demo_badges_the_verdicts_we_give(app: Any, client: Any, session: Any) -> None:
    badges = _demo_badges(app, client)
    assert set(badges) == {"valid", "revoked", "expired"}
    labels = list(badges)
    verdicts = dict(zip(labels, (steps(r) for r in verify(client, list(badges.values()))), strict=True))
    assert {k: verdicts["valid"].get(k) for k in GOOD} == GOOD, verdicts["valid"]
    assert {k: verdicts["revoked"].get(k) for k in GOOD} == {**GOOD, "revocation_status": False}, verdicts["revoked"]
    assert {k: verdicts["expired"].get(k) for k in GOOD} == {**GOOD, "expiration": False}, verdicts["expired"]


def test_verifier_core_accepts_every_kind_of_badge_we_issue(client: Any) -> None:
    first = passed_submission()
    organisation = first.version.organisation
    second_version = CredentialVersionFactory(published=True, organisation=organisation)
    StackFactory(
        organisation=organisation,
        micro_credentials=[first.version.micro_credential, second_version.micro_credential],
        state="published",
    )
    assessed = award(first)
    second = passed_submission(version=second_version)
    second.earner_id = first.earner_id
    db.session.flush()
    award(second)
    stack_badge = db.session.query(Badge).filter(Badge.stack_id.is_not(None), Badge.earner_id == first.earner_id).one()
    report = imports.import_awards(
        actor=admin_of(assessed),
        organisation_id=organisation.id,
        data=f"email,version_id,awarded_on,did\nx@example.org,{first.version_id},{ago(10).date()},did:web:x.example\n".encode(),
    )
    imported = db.session.get(Badge, report["rows"][0]["badge_id"])
    renewed = renewal.renew(actor=admin_of(assessed), badge_id=assessed.id)
    kinds = {"assessed": assessed, "stack": stack_badge, "imported": imported, "renewed": renewed}
    results = verify(client, [b.credential for b in kinds.values()])
    for kind, result in zip(kinds, results, strict=True):
        assert {k: steps(result).get(k) for k in GOOD} == GOOD, (kind, steps(result))


def test_verifier_core_refuses_a_tampered_badge(client: Any) -> None:
    badge = award(passed_submission())
    tampered = copy.deepcopy(badge.credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Something it never certified"
    wrong_key = copy.deepcopy(badge.credential)
    wrong_key["proof"][0]["verificationMethod"] = wrong_key["proof"][0]["verificationMethod"].split("#")[0] + "#nope"
    assert [steps(r) for r in verify(client, [tampered, wrong_key])] == [{"fatal": ["invalid_signature"]}] * 2
