"""The code lists: loaded by the migration, stable codes, a complete crosswalk, admin rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from fengqiao.disputes.codes import load_dispute_types, load_stat_types
from fengqiao.disputes.models import DisputeType, StatType
from fengqiao.disputes.tests.kit import ensure_codes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def codes(db):
    ensure_codes()


def test_the_two_level_list_and_the_statistical_types_are_loaded():
    assert StatType.objects.count() == 18
    classes = DisputeType.objects.filter(parent__isnull=True)
    assert classes.count() == 15
    assert DisputeType.objects.get(code="0201").parent.name == "邻里纠纷"
    # every subtype maps to exactly one statistical type; classes map to none
    assert not DisputeType.objects.filter(parent__isnull=False, stat_type__isnull=True).exists()
    assert not classes.filter(stat_type__isnull=False).exists()
    assert DisputeType.objects.get(code="0703").stat_type.name == "拖欠农民工工资"
    # every class but 99 has its "other" subtype xx99
    for c in classes:
        assert DisputeType.objects.filter(code=f"{c.code}99", parent=c).exists(), c.code


def test_subtypes_nest_under_the_class_of_their_first_two_digits():
    for t in DisputeType.objects.filter(parent__isnull=False).select_related("parent"):
        assert t.parent.code == t.code[:2] and len(t.code) == 4


def test_loading_again_keeps_codes_and_an_administrators_choices():
    # given an administrator who retired a type
    DisputeType.objects.filter(code="1001").update(active=False)
    ids = dict(DisputeType.objects.values_list("code", "id"))
    # when the list is loaded again
    load_stat_types(StatType)
    load_dispute_types(DisputeType, StatType)
    # then the rows are the same rows, and the retirement stands
    assert dict(DisputeType.objects.values_list("code", "id")) == ids
    assert not DisputeType.objects.get(code="1001").active


def test_a_subtype_without_a_statistical_type_is_refused():
    t = DisputeType.objects.get(code="0201")
    t.stat_type = None
    with pytest.raises(ValidationError) as exc:
        t.full_clean()
    assert "stat_type" in exc.value.message_dict


def test_a_third_level_is_refused():
    t = DisputeType(
        code="020101",
        name="三级",
        name_en="Third",
        parent=DisputeType.objects.get(code="0201"),
        stat_type=StatType.objects.get(code="neighbour"),
    )
    with pytest.raises(ValidationError) as exc:
        t.full_clean()
    assert "parent" in exc.value.message_dict


def test_an_administrator_remaps_a_subtype_in_the_admin_audited_and_the_code_stays(client):
    from fengqiao.core.models import AuditEntry
    from fengqiao.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    t = DisputeType.objects.get(code="0602")
    resp = client.post(
        f"/djadmin/disputes/disputetype/{t.pk}/change/",
        {
            "code": "hacked",
            "name": "房产买卖租赁",
            "name_en": "Sale and lease of housing",
            "stat_type": StatType.objects.get(code="housing_homestead").pk,
            "sort": t.sort,
            "active": "on",
        },
    )
    assert resp.status_code == 302
    t.refresh_from_db()
    assert t.code == "0602" and t.stat_type.code == "housing_homestead"
    entry = AuditEntry.objects.get(action="disputes.disputetype.changed_in_admin")
    assert entry.changes["stat_type_id"][1] == t.stat_type_id


def test_the_admin_refuses_to_leave_a_subtype_unmapped(client):
    from fengqiao.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    t = DisputeType.objects.get(code="0602")
    resp = client.post(
        f"/djadmin/disputes/disputetype/{t.pk}/change/",
        {"name": t.name, "name_en": t.name_en, "stat_type": "", "sort": t.sort, "active": "on"},
    )
    assert resp.status_code == 200 and "小类必须对应一个人民调解统计类型" in resp.content.decode()
    t.refresh_from_db()
    assert t.stat_type.code == "contract"


def test_the_type_choices_speak_the_interface_language():
    from django.utils import translation

    from fengqiao.disputes.intake_forms import type_choices

    ensure_codes()
    t = DisputeType.objects.select_related("stat_type").filter(parent__isnull=False).first()
    with translation.override("en"):
        _classes, grouped, meta = type_choices()
    labels = {code: label for _group, items in grouped for code, label in items}
    assert labels[t.code] == f"{t.code} {t.name_en}"
    assert meta[t.code][1] == (t.stat_type.name_en if t.stat_type else "")
    with translation.override("zh-hans"):
        _classes, grouped, _meta = type_choices()
    labels = {code: label for _group, items in grouped for code, label in items}
    assert labels[t.code] == f"{t.code} {t.name}"
