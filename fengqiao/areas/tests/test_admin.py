"""An administrator edits the code lists in the admin; each change is audited."""

from __future__ import annotations

import pytest

from fengqiao.areas.models import PlaceKind
from fengqiao.core.models import AuditEntry
from fengqiao.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_renaming_a_place_kind_is_audited_and_its_code_stays(client, place_kinds):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    kind = PlaceKind.objects.get(code="ktv")
    resp = client.post(
        f"/djadmin/areas/placekind/{kind.pk}/change/",
        {
            "name": "KTV歌厅",
            "name_en": "KTV",
            "group": "other",
            "sort": kind.sort,
            "active": "on",
            "code": "hacked",
        },
    )
    assert resp.status_code == 302
    kind.refresh_from_db()
    assert kind.name == "KTV歌厅" and kind.code == "ktv"
    entry = AuditEntry.objects.get(action="areas.placekind.changed_in_admin")
    assert entry.changes["name"] == ["KTV", "KTV歌厅"]


def test_staff_without_superuser_cannot_open_the_admin_lists(client, j):
    officer = j.user("officer")
    client.force_login(officer)
    assert client.get("/djadmin/areas/placekind/").status_code == 302
