"""The dispute lists: queues, filters, search, pagination, navigation; never another station."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from fengqiao.disputes import views
from fengqiao.disputes.models import Dispute
from fengqiao.disputes.tests.kit import ago, intake, mediator_for

pytestmark = pytest.mark.django_db

URL = "/disputes/"


def login(client, user):
    client.force_login(user)
    return client


def listed(resp) -> list[int]:
    """Return the ids of the cases a list page shows, in order."""
    assert resp.status_code == 200, resp.content[:500]
    return [int(x) for x in re.findall(r'data-id="(\d+)"', resp.content.decode())]


def ids(*cases: Dispute) -> list[int]:
    """Return the ids newest first, as the list orders them."""
    return sorted((d.pk for d in cases), reverse=True)


def test_the_list_never_shows_another_stations_cases(client, j, other):
    # given a case in each station, of the same colour
    mine = intake(j, j.user("officer"), narrative="本所的纠纷")
    theirs = intake(other, other.user("officer"), narrative="邻所的纠纷")
    c = login(client, j.user("chief"))
    # when the chief opens every tab and searches
    for query in (
        {},
        {"tab": "all"},
        {"tab": "mine"},
        {"tab": "overdue"},
        {"tab": "colour", "colour": theirs.colour},
        {"tab": "all", "q": "纠纷"},
    ):
        # then the other station's case never shows
        assert theirs.pk not in listed(c.get(URL, query))
    assert listed(c.get(URL, {"tab": "all", "q": "纠纷"})) == [mine.pk]
    # and filtering by the other station's community is refused, not listed
    resp = c.get(URL, {"tab": "all", "community": theirs.community_id})
    assert listed(resp) == []
    assert "社区/村不存在，或不在您的辖区内" in resp.content.decode()


def test_the_other_stations_officer_sees_only_their_own(client, j, other):
    intake(j, j.user("officer"))
    theirs = intake(other, other.user("officer"))
    assert listed(login(client, other.user("officer")).get(URL, {"tab": "all"})) == [theirs.pk]


def test_a_grid_officer_sees_only_the_cases_of_their_grid(client, j):
    here = intake(j, grid=1)
    intake(j, grid=0)
    officer = j.user("officer", area=j.grids[1])
    assert listed(login(client, officer).get(URL, {"tab": "all"})) == [here.pk]


@pytest.mark.parametrize(("role", "status"), [("volunteer", 403), ("analyst", 200)])
def test_who_may_open_the_list(client, j, role, status):
    assert login(client, j.user(role)).get(URL).status_code == status


def test_an_anonymous_visitor_is_sent_to_log_in(client, j):
    resp = client.get(URL)
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_the_queues(client, j):
    # given an officer who registered one open case and one closed one, a case of a
    # mediator whose account is the mediator user, an overdue case, and a case due later
    officer, mediator_user = j.user("officer"), j.user("mediator")
    chief = j.user("chief")
    registered = intake(j, officer)
    closed = intake(j, officer)
    Dispute.objects.filter(pk=closed.pk).update(status="closed")
    assigned = intake(j, chief)
    Dispute.objects.filter(pk=assigned.pk).update(
        mediator=mediator_for(j, mediator_user), status="assigned"
    )
    today = timezone.localdate()
    overdue = intake(j, chief)
    Dispute.objects.filter(pk=overdue.pk).update(deadline=today - timedelta(days=1))
    due = intake(j, chief)
    Dispute.objects.filter(pk=due.pk).update(deadline=today)
    overdue_closed = intake(j, chief)
    Dispute.objects.filter(pk=overdue_closed.pk).update(
        deadline=today - timedelta(days=3), status="withdrawn"
    )
    c = login(client, officer)
    # then "mine" is the officer's open registrations
    assert listed(c.get(URL, {"tab": "mine"})) == [registered.pk]
    # and the station's queue is every open case, the default tab
    open_ids = ids(registered, assigned, overdue, due)
    assert listed(c.get(URL, {"tab": "open"})) == open_ids
    assert listed(c.get(URL)) == open_ids
    # and overdue is the open cases past their deadline, marked as such
    resp = c.get(URL, {"tab": "overdue"})
    assert listed(resp) == [overdue.pk]
    assert "case-row-overdue" in resp.content.decode()
    # and "all" holds the finished ones too
    assert set(listed(c.get(URL, {"tab": "all"}))) == {
        registered.pk,
        closed.pk,
        assigned.pk,
        overdue.pk,
        due.pk,
        overdue_closed.pk,
    }
    # and the mediator's own queue holds the case assigned to them
    m = login(client.__class__(), mediator_user)
    assert listed(m.get(URL, {"tab": "mine"})) == [assigned.pk]


def test_the_colour_tab_and_its_counts(client, j):
    # given open cases of several colours and a closed red one
    red = intake(j)
    Dispute.objects.filter(pk=red.pk).update(colour="red")
    red_closed = intake(j)
    Dispute.objects.filter(pk=red_closed.pk).update(colour="red", status="closed")
    orange = intake(j)
    Dispute.objects.filter(pk=orange.pk).update(colour="orange")
    c = login(client, j.user("chief"))
    # when the chief opens the colour tab without a colour, red comes first
    resp = c.get(URL, {"tab": "colour"})
    assert listed(resp) == [red.pk]
    # and the counts are of the open cases
    html = resp.content.decode()
    assert re.search(r'data-colour="red">.*?<span class="badge[^"]*">1</span>', html, re.S)
    assert re.search(r'data-colour="orange">.*?<span class="badge[^"]*">1</span>', html, re.S)
    assert listed(c.get(URL, {"tab": "colour", "colour": "orange"})) == [orange.pk]


@pytest.fixture
def spread(j):
    """Cases that differ in one dimension each, the first the baseline."""
    base = intake(j, type_code="0201", source="application", occurred_at=ago(3))
    other_type = intake(j, type_code="0101", source="screening", grid=3)
    Dispute.objects.filter(pk=other_type.pk).update(
        channel="lawyer", supervision="yellow", grade="major", colour="orange", status="triaged"
    )
    Dispute.objects.filter(pk=base.pk).update(
        channel="community", reported_at=ago(10), grade="civil", colour="yellow"
    )
    return base, other_type


@pytest.mark.parametrize(
    ("query", "which"),
    [
        ({"type": "02"}, "base"),
        ({"type": "0201"}, "base"),
        ({"type": "01"}, "other"),
        ({"grade": "major"}, "other"),
        ({"colour": "yellow"}, "base"),
        ({"channel": "lawyer"}, "other"),
        ({"status": "triaged"}, "other"),
        ({"source": "application"}, "base"),
        ({"supervision": "yellow"}, "other"),
        ({"grid": "GRID3"}, "other"),
        ({"community": "COMMUNITY0"}, "base"),
        ({"reported_to": "DAYS_AGO_5"}, "base"),
        ({"reported_from": "DAYS_AGO_5"}, "other"),
        ({"reported_from": "DAYS_AGO_10", "reported_to": "DAYS_AGO_10"}, "base"),
    ],
)
def test_each_filter(client, j, spread, query, which):
    base, other_type = spread
    today = timezone.localdate()
    fill = {
        "GRID3": str(j.grids[3].pk),
        "COMMUNITY0": str(j.communities[0].pk),
        "DAYS_AGO_5": str(today - timedelta(days=5)),
        "DAYS_AGO_10": str(timezone.localtime(ago(10)).date()),
    }
    query = {k: fill.get(v, v) for k, v in query.items()}
    expected = base if which == "base" else other_type
    resp = login(client, j.user("officer")).get(URL, {"tab": "all", **query})
    assert listed(resp) == [expected.pk]


@pytest.mark.parametrize(
    "query",
    [
        {"grade": "huge"},
        {"colour": "purple"},
        {"status": "lost"},
        {"type": "7777"},
        {"community": "abc"},
        {"grid": "99999999"},
        {"reported_from": "2026-13-40"},
        {"reported_from": "2026-03-02", "reported_to": "2026-03-01"},
        {"tab": "everything"},
        {"q": "字" * 101},
        {"channel": "\x00"},
    ],
)
def test_a_bad_filter_gets_a_message_not_a_500(client, j, query):
    intake(j)
    resp = login(client, j.user("officer")).get(URL, query)
    assert listed(resp) == []
    assert 'id="filter-errors"' in resp.content.decode()


@pytest.mark.parametrize("cursor", ["not-a-cursor!", "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMF0", "WyJ4Il0"])
def test_a_bad_cursor_goes_back_to_the_first_page(client, j, cursor):
    # garbage, an id too large for the database ([100000000000000000000]), and a string (["x"])
    case = intake(j)
    resp = login(client, j.user("officer")).get(URL, {"cursor": cursor, "q": ""}, follow=True)
    assert resp.redirect_chain and "cursor" not in resp.redirect_chain[-1][0]
    assert listed(resp) == [case.pk]
    assert "翻页链接无效" in resp.content.decode()


def test_search_folds_traditional_script(client, j):
    # given two cases, one about a leaking ceiling
    leak = intake(j, narrative="楼上卫生间漏水，楼下天花板发霉")
    intake(j, narrative="邻居噪音扰民")
    c = login(client, j.user("officer"))
    # when the officer searches in traditional characters
    assert listed(c.get(URL, {"q": "衛生間漏水"})) == [leak.pk]
    assert listed(c.get(URL, {"q": "發霉"})) == [leak.pk]
    # and a party's name is searchable too
    assert set(listed(c.get(URL, {"q": "李四"}))) >= {leak.pk}
    assert listed(c.get(URL, {"q": "不存在的词"})) == []


def test_pages_follow_one_another_without_duplicates(client, j, monkeypatch):
    # given seven yellow cases and one blue, three to a page
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    cases = [intake(j) for _ in range(8)]
    Dispute.objects.filter(pk__in=[d.pk for d in cases[:7]]).update(colour="yellow")
    Dispute.objects.filter(pk=cases[7].pk).update(colour="blue")
    c = login(client, j.user("officer"))
    # when the officer filters by colour and follows "next page" to the end
    seen: list[int] = []
    url = f"{URL}?tab=all&colour=yellow"
    pages = 0
    while url:
        resp = c.get(url)
        seen += listed(resp)
        pages += 1
        found = re.search(r'id="next-page" href="([^"]+)"', resp.content.decode())
        url = URL + found.group(1).replace("&amp;", "&") if found else ""
        if url:
            # the next link carries the filters
            assert "colour=yellow" in url and "tab=all" in url
    # then every yellow case shows once, newest first, and the blue one never
    assert pages == 3
    assert seen == ids(*cases[:7])


def test_navigation_and_home_page(client, j):
    intake(j)
    c = login(client, j.user("officer"))
    home = c.get("/").content.decode()
    assert 'href="/disputes/"' in home
    assert 'id="home-disputes"' in home
    volunteer = login(client.__class__(), j.user("volunteer"))
    assert 'href="/disputes/"' not in volunteer.get("/").content.decode()


def test_the_list_costs_the_same_queries_for_few_or_many_rows(client, j):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = login(client, j.user("officer"))
    mediator = mediator_for(j)
    intake(j)
    c.get(URL)  # warm the session and the code lists
    with CaptureQueriesContext(connection) as few:
        assert len(listed(c.get(URL, {"tab": "all"}))) == 1
    for _ in range(6):
        d = intake(j)
        Dispute.objects.filter(pk=d.pk).update(mediator=mediator)
    with CaptureQueriesContext(connection) as many:
        assert len(listed(c.get(URL, {"tab": "all"}))) == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_colour_counts_stop_at_their_limit(client, j, monkeypatch):
    monkeypatch.setattr(views, "COUNT_LIMIT", 2)
    for _ in range(3):
        d = intake(j)
        Dispute.objects.filter(pk=d.pk).update(colour="red")
    html = login(client, j.user("chief")).get(URL).content.decode()
    assert re.search(r'data-colour="red">.*?<span class="badge[^"]*">2\+</span>', html, re.S)
