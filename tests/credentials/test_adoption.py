"""Shared definitions: a state agency shares a published micro-credential; its districts adopt it (pinned version,
their own queue and issuer) or earn it centrally. Hostile inputs sit beside each happy path."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import Role
from credentials.authoring import adoption, catalogue, offerings
from credentials.authoring.models import VersionState
from credentials.portfolios import services as submissions
from credentials.portfolios.models import SubmissionState
from tests.factories import CredentialVersionFactory, OrganisationFactory, UserFactory, member


class Tree:
    """state → district (→ school), sibling district, and an unrelated organisation with a unit of its own."""

    def __init__(self) -> None:
        self.state = OrganisationFactory(kind="state_agency", name="State Education Agency")
        self.district = OrganisationFactory(parent=self.state, name="North District")
        self.sibling = OrganisationFactory(parent=self.state, name="South District")
        self.school = OrganisationFactory(parent=self.district, name="Oak School")
        self.other = OrganisationFactory(name="Elsewhere")
        self.other_unit = OrganisationFactory(parent=self.other)
        self.state_admin = member(self.state, Role.ORG_ADMIN)
        self.district_admin = member(self.district, Role.ORG_ADMIN)
        self.sibling_admin = member(self.sibling, Role.ORG_ADMIN)
        self.v1 = CredentialVersionFactory(organisation=self.state, published=True, title="Questioning")
        self.mc = self.v1.micro_credential


@pytest.fixture
def tree(session: Any) -> Tree:
    return Tree()


def _share(tree: Tree, **kwargs: Any) -> Any:
    args = {"mode": "adopt", "scope": "all"} | kwargs
    return adoption.share(actor=tree.state_admin, micro_credential_id=tree.mc.id, **args)


def _publish_v2(tree: Tree) -> Any:
    v2 = CredentialVersionFactory(micro_credential=tree.mc, published=True, title="Questioning v2")
    tree.v1.state = VersionState.RETIRED.value
    db.session.flush()
    return v2


def test_a_district_adopts_a_shared_definition_and_earners_submit_to_the_district(tree: Tree) -> None:
    _share(tree)
    offers = adoption.offered_to(actor=tree.district_admin, organisation_id=tree.district.id)
    assert [o["version"].id for o in offers] == [tree.v1.id] and offers[0]["adoption"] is None

    adopted = adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    assert adopted.version_id == tree.v1.id and adopted.is_active
    listed = catalogue.catalogue(organisation=tree.district.id, page=1, page_size=10).items
    assert [v.id for v in listed] == [tree.v1.id]
    assert [o["organisation"].id for o in offerings.for_version(tree.v1)] == [tree.state.id, tree.district.id]

    earner = UserFactory()
    submission = submissions.start(actor=earner, version_id=tree.v1.id, adoption_id=adopted.id)
    assert submission.organisation_id == tree.district.id and submission.version_id == tree.v1.id
    assert offerings.reviews(tree.district.id, tree.mc.id) and not offerings.reviews(tree.sibling.id, tree.mc.id)


def test_a_school_below_the_district_may_adopt_too_but_not_from_a_sibling_or_an_unrelated_organisation(
    tree: Tree,
) -> None:
    _share(tree)
    school_admin = member(tree.school, Role.ORG_ADMIN)
    assert adoption.adopt(actor=school_admin, organisation_id=tree.school.id, version_id=tree.v1.id).is_active

    # A sibling's definition, shared with the sibling's own units: not the district's to adopt.
    OrganisationFactory(parent=tree.sibling)
    sibling_version = CredentialVersionFactory(organisation=tree.sibling, published=True)
    adoption.share(
        actor=tree.sibling_admin, micro_credential_id=sibling_version.micro_credential_id, mode="adopt", scope="all"
    )
    with pytest.raises(NotFound):
        adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=sibling_version.id)

    # A non-parent: an unrelated organisation shares with its own unit.
    other_version = CredentialVersionFactory(organisation=tree.other, published=True)
    other_admin = member(tree.other, Role.ORG_ADMIN)
    adoption.share(actor=other_admin, micro_credential_id=other_version.micro_credential_id, mode="adopt", scope="all")
    with pytest.raises(NotFound):
        adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=other_version.id)
    # Nor may the owner "adopt" its own definition.
    with pytest.raises(NotFound):
        adoption.adopt(actor=tree.state_admin, organisation_id=tree.state.id, version_id=tree.v1.id)


def test_drafts_retired_versions_double_adoption_and_unshared_definitions_are_refused(tree: Tree) -> None:
    with pytest.raises(NotFound):  # not shared yet
        adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    _share(tree)
    draft = CredentialVersionFactory(micro_credential=tree.mc)
    with pytest.raises(NotFound):  # another organisation's draft does not exist for the district
        adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=draft.id)
    adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    with pytest.raises(Conflict, match="already adopted"):
        adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)

    draft.state = VersionState.PUBLISHED.value
    tree.v1.state = VersionState.RETIRED.value
    db.session.flush()
    with pytest.raises(Conflict, match="adopt version 2"):
        adoption.adopt(actor=tree.sibling_admin, organisation_id=tree.sibling.id, version_id=tree.v1.id)


def test_only_the_owners_admins_share_and_only_with_their_own_units(tree: Tree) -> None:
    author = member(tree.state, Role.AUTHOR)
    with pytest.raises(Forbidden):
        adoption.share(actor=author, micro_credential_id=tree.mc.id, mode="adopt", scope="all")
    with pytest.raises(NotFound):  # another organisation's admin learns nothing of it
        adoption.share(actor=tree.district_admin, micro_credential_id=tree.mc.id, mode="adopt", scope="all")
    with pytest.raises(ValidationFailed) as refused:
        _share(tree, scope="chosen", organisation_ids=[tree.district.id, tree.other.id])
    assert refused.value.errors[0]["field"] == "organisation_ids.1"
    with pytest.raises(ValidationFailed):
        _share(tree, scope="chosen", organisation_ids=[])
    unpublished = CredentialVersionFactory(organisation=tree.state)
    with pytest.raises(Conflict, match="published"):
        adoption.share(
            actor=tree.state_admin, micro_credential_id=unpublished.micro_credential_id, mode="adopt", scope="all"
        )
    lonely = CredentialVersionFactory(organisation=tree.school, published=True)
    with pytest.raises(Conflict, match="no units"):
        adoption.share(
            actor=member(tree.school, Role.ORG_ADMIN),
            micro_credential_id=lonely.micro_credential_id,
            mode="adopt",
            scope="all",
        )


def test_a_share_with_chosen_units_reaches_only_them(tree: Tree) -> None:
    _share(tree, scope="chosen", organisation_ids=[tree.district.id])
    assert adoption.offered_to(actor=tree.sibling_admin, organisation_id=tree.sibling.id) == []
    with pytest.raises(NotFound):
        adoption.adopt(actor=tree.sibling_admin, organisation_id=tree.sibling.id, version_id=tree.v1.id)
    assert adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)


def test_a_newer_version_is_offered_and_the_upgrade_is_explicit_while_started_work_keeps_its_version(
    tree: Tree,
) -> None:
    _share(tree)
    adopted = adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    with pytest.raises(Conflict, match="already on the newest"):
        adoption.upgrade(actor=tree.district_admin, adoption_id=adopted.id)
    started = submissions.start(actor=UserFactory(), version_id=tree.v1.id, adoption_id=adopted.id)

    v2 = _publish_v2(tree)
    offer = adoption.offered_to(actor=tree.district_admin, organisation_id=tree.district.id)[0]
    assert offer["newer_available"] and offer["version"].id == v2.id
    # Until the upgrade the district still offers version 1 (retired at the owner) in its catalogue.
    assert [v.id for v in catalogue.catalogue(organisation=tree.district.id, page=1, page_size=10).items] == [
        tree.v1.id
    ]
    assert [o["organisation"].id for o in offerings.for_version(tree.v1)] == [tree.district.id]

    adoption.upgrade(actor=tree.district_admin, adoption_id=adopted.id)
    assert adopted.version_id == v2.id
    assert started.version_id == tree.v1.id  # in-flight work is pinned
    with pytest.raises(Conflict, match="version 2"):
        submissions.start(actor=UserFactory(), version_id=tree.v1.id, adoption_id=adopted.id)
    with pytest.raises(NotFound):  # a sibling's admin cannot touch the district's adoption
        adoption.upgrade(actor=tree.sibling_admin, adoption_id=adopted.id)


def test_a_withdrawn_adoption_takes_no_new_submissions(tree: Tree) -> None:
    _share(tree)
    adopted = adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    with pytest.raises(NotFound):
        adoption.withdraw(actor=tree.sibling_admin, adoption_id=adopted.id)
    with pytest.raises(NotFound):
        adoption.get_adoption(actor=member(tree.other, Role.ORG_ADMIN), adoption_id=adopted.id)
    adoption.withdraw(actor=tree.district_admin, adoption_id=adopted.id)
    with pytest.raises(Conflict, match="no longer offers"):
        submissions.start(actor=UserFactory(), version_id=tree.v1.id, adoption_id=adopted.id)
    with pytest.raises(Conflict, match="withdrawn"):
        adoption.withdraw(actor=tree.district_admin, adoption_id=adopted.id)
    assert catalogue.catalogue(organisation=tree.district.id, page=1, page_size=10).items == []
    # It may be adopted again later.
    again = adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    assert again.id != adopted.id


def test_an_adoption_id_of_another_micro_credential_is_refused_at_start(tree: Tree) -> None:
    _share(tree)
    adopted = adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    unrelated = CredentialVersionFactory(organisation=tree.state, published=True)
    with pytest.raises(NotFound):
        submissions.start(actor=UserFactory(), version_id=unrelated.id, adoption_id=adopted.id)


def test_a_next_attempt_after_not_yet_stays_with_the_adopter(tree: Tree) -> None:
    _share(tree)
    adopted = adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    earner = UserFactory()
    first = submissions.start(actor=earner, version_id=tree.v1.id, adoption_id=adopted.id)
    first.state = SubmissionState.NOT_YET.value
    db.session.flush()
    second = submissions.next_attempt(actor=earner, submission_id=first.id)
    assert second.organisation_id == tree.district.id and second.attempt == 2


def test_central_issuing_lists_it_under_every_unit_and_leaves_nothing_to_adopt(tree: Tree) -> None:
    _share(tree, mode="central")
    for unit in (tree.district, tree.school, tree.sibling):
        assert [v.id for v in catalogue.catalogue(organisation=unit.id, page=1, page_size=10).items] == [tree.v1.id]
    assert catalogue.catalogue(organisation=tree.other.id, page=1, page_size=10).items == []
    with pytest.raises(Conflict, match="centrally"):
        adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    submission = submissions.start(actor=UserFactory(), version_id=tree.v1.id)
    assert submission.organisation_id == tree.state.id  # reviewed in the state's queue, issued by the state
    assert offerings.for_version(tree.v1)[0]["central"] is True


def test_switching_to_central_waits_until_adopters_withdraw_and_stopping_keeps_adoptions(tree: Tree) -> None:
    _share(tree)
    adopted = adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    with pytest.raises(Conflict, match="withdraw"):
        _share(tree, mode="central")
    adoption.stop_sharing(actor=tree.state_admin, micro_credential_id=tree.mc.id)
    with pytest.raises(Conflict, match="not shared"):
        adoption.stop_sharing(actor=tree.state_admin, micro_credential_id=tree.mc.id)
    with pytest.raises(NotFound):
        adoption.adopt(actor=tree.sibling_admin, organisation_id=tree.sibling.id, version_id=tree.v1.id)
    assert adopted.is_active and adoption.offered_to(actor=tree.district_admin, organisation_id=tree.district.id) == []
    _publish_v2(tree)
    with pytest.raises(Conflict, match="no longer shares"):
        adoption.upgrade(actor=tree.district_admin, adoption_id=adopted.id)


def test_the_owners_report_names_each_adopter_and_its_version(tree: Tree) -> None:
    _share(tree)
    adoption.adopt(actor=tree.district_admin, organisation_id=tree.district.id, version_id=tree.v1.id)
    sibling = adoption.adopt(actor=tree.sibling_admin, organisation_id=tree.sibling.id, version_id=tree.v1.id)
    v2 = _publish_v2(tree)
    adoption.upgrade(actor=tree.sibling_admin, adoption_id=sibling.id)
    (row,) = adoption.sharing_report(actor=tree.state_admin, organisation_id=tree.state.id)
    assert row["version"].id == v2.id
    seen = {(a["adoption"].organisation.name, a["adoption"].version.number, a["current"]) for a in row["adoptions"]}
    assert seen == {("North District", 1, False), ("South District", 2, True)}
    # The state's admins read their districts' adoptions; a district's admins do not read the state's report.
    assert len(adoption.list_adoptions(actor=tree.state_admin, organisation_id=tree.district.id)) == 1
    with pytest.raises(Forbidden):
        adoption.sharing_report(actor=member(tree.state, Role.AUTHOR), organisation_id=tree.state.id)
    with pytest.raises(NotFound):
        adoption.sharing_report(actor=tree.district_admin, organisation_id=tree.state.id)
