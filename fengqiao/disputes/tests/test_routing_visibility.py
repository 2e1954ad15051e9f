"""A mediator sees only the cases assigned to them and their pools' queue."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.utils import timezone

from fengqiao.disputes import routing
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.models import Dispute, LawyerDuty, Party
from fengqiao.disputes.tests.routing_helpers import mediator, rule, triaged

pytestmark = pytest.mark.django_db


def test_a_mediator_sees_their_own_and_their_pools_queue_only(j):
    me_user, peer_user = j.user("mediator"), j.user("mediator")
    me, peer = mediator(j, "我", user=me_user), mediator(j, "同事", user=peer_user)
    my_pool = rule(j, [me], type_code="0201")
    rule(j, [peer], type_code="0202")
    officer = j.user("officer")

    mine = triaged(j)
    routing.dispute_assign(actor=None, dispute=mine, version=mine.version, mediator_id=me.pk)
    queued = triaged(j)
    routing.dispute_route(actor=officer, dispute=queued, version=queued.version)
    theirs = triaged(j, type_code="0202")
    routing.dispute_assign(actor=None, dispute=theirs, version=theirs.version)
    their_queue = triaged(j, type_code="0202")
    routing.dispute_route(actor=officer, dispute=their_queue, version=their_queue.version)
    unrouted = triaged(j, type_code="0101")  # no line of the routing list for it
    # A case of my pool that someone else took is no longer in my queue.
    taken = triaged(j)
    routing.dispute_route(actor=officer, dispute=taken, version=taken.version)
    routing.dispute_assign(
        actor=j.user("chief"),
        dispute=Dispute.objects.get(pk=taken.pk),
        version=taken.version + 1,
        mediator_id=peer.pk,
    )

    seen = set(Dispute.objects.visible_to(me_user).values_list("pk", flat=True))
    assert seen == {mine.pk, queued.pk}
    assert Dispute.objects.get(pk=queued.pk).routing_rule == my_pool
    assert set(Party.objects.visible_to(me_user).values_list("dispute_id", flat=True)) == seen
    assert access_dispute(me_user, mine.pk, action="handle") == mine
    for hidden in (theirs, their_queue, unrouted, taken):
        with pytest.raises(Http404):
            access_dispute(me_user, hidden.pk)
    # Other roles keep their whole scope.
    assert Dispute.objects.visible_to(officer).count() == 6
    peer_seen = set(Dispute.objects.visible_to(peer_user).values_list("pk", flat=True))
    assert peer_seen == {theirs.pk, their_queue.pk, taken.pk}


def test_a_mediator_with_another_role_keeps_that_roles_scope(j):
    from fengqiao.accounts.models import Membership

    u = j.user("mediator")
    Membership.objects.create(user=u, area=j.station, role="officer")
    d = triaged(j)
    assert list(Dispute.objects.visible_to(u)) == [d]


def test_the_lawyer_on_duty_sees_the_rota_lines_queue_that_day(j):
    lawyer_user = j.user("mediator")
    lawyer = mediator(j, "律师", user=lawyer_user, kind="lawyer")
    rule(j, [mediator(j, "甲")], use_duty_rota=True, channel="lawyer")
    d = triaged(j)
    routing.dispute_route(actor=j.user("officer"), dispute=d, version=d.version)
    assert not Dispute.objects.visible_to(lawyer_user).exists()
    LawyerDuty.objects.create(station=j.station, mediator=lawyer, day=timezone.localdate())
    lawyer_user.__dict__.pop("_fq_scopes", None)
    assert list(Dispute.objects.visible_to(lawyer_user)) == [d]


def test_a_mediator_of_another_station_sees_nothing_here(j, other):
    u = other.user("mediator")
    mediator(other, user=u)
    rule(j, [mediator(j)])
    d = triaged(j)
    routing.dispute_route(actor=j.user("officer"), dispute=d, version=d.version)
    assert not Dispute.objects.visible_to(u).exists()


def test_a_community_mediator_sees_and_handles_a_case_assigned_elsewhere_in_the_station(j):
    # given a mediator whose account is held on community 0, assigned a case in community 1
    user = j.user("mediator", area=j.communities[0])
    me = mediator(j, "社区调解员", user=user)
    case = triaged(j, grid=2)
    assert case.community_id == j.communities[1].pk
    routing.dispute_assign(
        actor=j.user("chief"), dispute=case, version=case.version, mediator_id=me.pk
    )
    # then they find it, open it and may act on it
    assert list(Dispute.objects.visible_to(user).values_list("pk", flat=True)) == [case.pk]
    assert access_dispute(user, case.pk, action="handle").pk == case.pk
    # and a case of that community not assigned to them stays out of sight
    other = triaged(j, grid=3)
    with pytest.raises(Http404):
        access_dispute(user, other.pk)


def test_a_grid_officer_who_also_mediates_sees_their_grid_and_their_cases_only(j):
    from fengqiao.accounts.models import Membership

    # given a mediator who is also an officer on grid 0 only
    u = j.user("mediator", area=j.communities[1])
    Membership.objects.create(user=u, area=j.grids[0], role="officer")
    me = mediator(j, "兼职调解员", user=u)
    in_my_grid = triaged(j, grid=0)
    assigned_elsewhere = triaged(j, grid=3)
    routing.dispute_assign(
        actor=j.user("chief"),
        dispute=assigned_elsewhere,
        version=assigned_elsewhere.version,
        mediator_id=me.pk,
    )
    neither = triaged(j, grid=2)
    # then the officer's grid and the mediator's own case show, and nothing else of the station
    seen = set(Dispute.objects.visible_to(u).values_list("pk", flat=True))
    assert seen == {in_my_grid.pk, assigned_elsewhere.pk}
    assert neither.pk not in seen
