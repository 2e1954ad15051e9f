"""Who sees which dispute: visible_to and access_dispute, a permission matrix."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.models import Dispute, Party
from fengqiao.disputes.tests.kit import intake

pytestmark = pytest.mark.django_db


def _user(j, other, who):
    return {
        "anonymous": lambda: AnonymousUser(),
        "resident": lambda: None,
        "volunteer": lambda: j.user("volunteer"),
        "assistant": lambda: j.user("assistant"),
        "other_officer": lambda: other.user("officer"),
        "other_chief": lambda: other.user("chief"),
        "officer": lambda: j.user("officer"),
        "auxiliary": lambda: j.user("auxiliary"),
        "mediator": lambda: j.user("mediator"),
        "chief": lambda: j.user("chief"),
        "analyst": lambda: j.user("analyst", area=j.district),
        "grid_auxiliary": lambda: j.user("auxiliary", area=j.grids[0]),
        "other_grid_auxiliary": lambda: j.user("auxiliary", area=j.grids[1]),
    }[who]()


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("anonymous", False),
        ("resident", False),
        ("volunteer", False),
        ("assistant", False),
        ("other_officer", False),
        ("other_chief", False),
        ("officer", True),
        ("auxiliary", True),
        # A mediator sees only their own cases and their pools' queue (test_routing_visibility);
        # this one is neither assigned nor routed to a pool.
        ("mediator", False),
        ("chief", True),
        ("analyst", True),  # a district analyst sees the district's stations
        ("grid_auxiliary", True),
        ("other_grid_auxiliary", False),  # the case lies in grid 0
    ],
)
def test_who_may_view_a_dispute(j, other, who, sees):
    d = intake(j, j.user("officer"))
    user = _user(j, other, who)
    assert (d in Dispute.objects.visible_to(user)) is sees
    assert Party.objects.visible_to(user).exists() is sees
    if sees:
        assert access_dispute(user, d.pk) == d
    else:
        with pytest.raises(Http404):
            access_dispute(user, d.pk)


def test_missing_and_forbidden_are_alike(j):
    with pytest.raises(Http404):
        access_dispute(j.user("chief"), 987654)


@pytest.mark.parametrize(
    ("who", "action", "allowed"),
    [
        ("officer", "intake", True),
        ("mediator", "intake", False),
        ("mediator", "handle", False),  # not theirs; see test_routing_visibility
        ("officer", "handle", True),
        ("analyst", "handle", False),
        ("officer", "override", False),
        ("chief", "override", True),
        ("other_chief", "override", False),
    ],
)
def test_access_by_action(j, other, who, action, allowed):
    d = intake(j, j.user("officer"))
    user = _user(j, other, who)
    if allowed:
        assert access_dispute(user, d.pk, action=action) == d
    else:
        with pytest.raises(Http404):
            access_dispute(user, d.pk, action=action)


def test_other_stations_cases_stay_out_of_the_list(j, other):
    mine = intake(j, j.user("officer"))
    intake(other, other.user("officer"))
    assert list(Dispute.objects.visible_to(j.user("chief"))) == [mine]
