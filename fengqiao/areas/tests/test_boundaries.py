"""Boundary and police grid import: every bad feature reported, all or nothing, history kept."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from fengqiao.areas.boundaries import boundaries_import, police_grids_import
from fengqiao.areas.geo import OutsideStation, locate_point
from fengqiao.areas.models import Area, PoliceGrid, PoliceGridLink
from fengqiao.areas.services import police_grid_assign
from fengqiao.core.models import AuditEntry
from fengqiao.factories import rect, square

pytestmark = pytest.mark.django_db

URL = reverse("areas:boundary_import")
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [
            [113.001, 28.201],
            [113.004, 28.204],
            [113.004, 28.201],
            [113.001, 28.204],
            [113.001, 28.201],
        ]
    ],
}


def feature(code: str | None, kind: str, parent: str, geometry: Any, **props: Any) -> dict:
    """Return one GeoJSON feature of the import format."""
    properties = {"name": f"{code}名称", "kind": kind, "parent": parent, **props}
    if code is not None:
        properties["code"] = code
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def new_station() -> list[dict]:
    """Return a clean new station S9 east of the fixtures: one community, one village, 4 grids."""
    return [
        # Children before parents, on purpose: the import writes parents first.
        feature("S9-C0-G0", "网格", "S9-C0", square(113.00, 28.20, 0.01)),
        feature("S9-C0-G1", "grid", "S9-C0", square(113.00, 28.21, 0.01)),
        feature("S9-V1-G0", "网格", "S9-V1", square(113.01, 28.20, 0.01)),
        feature("S9-V1-G1", "网格", "S9-V1", square(113.01, 28.21, 0.01)),
        feature("S9-C0", "社区", "S9", rect(113.00, 28.20, 0.01, 0.02), zone="已建成区"),
        feature("S9-V1", "村", "S9", rect(113.01, 28.20, 0.01, 0.02), zone="undeveloped"),
        feature("S9", "派出所", "D1", square(113.00, 28.20, 0.02), population=12000),
    ]


def state() -> tuple[list[tuple], int, list[tuple]]:
    """Return everything an import may touch, to assert that a refused one changed nothing."""
    areas = list(Area.objects.order_by("code").values_list("code", "name", "zone", "boundary"))
    links = list(
        PoliceGridLink.objects.order_by("id").values_list(
            "police_grid__code", "grid__code", "valid_from", "valid_to"
        )
    )
    return areas, AuditEntry.objects.count(), links


def problems(report: Any) -> list[tuple[int | None, str, str]]:
    return [(p.index, p.code, p.message) for p in report.problems]


def test_a_valid_collection_imports_parents_first_and_audits_each(j):
    district_chief = j.user("chief", j.district)
    audits = AuditEntry.objects.count()

    report = boundaries_import(actor=district_chief, data=collection(*new_station()))

    assert report.ok, problems(report)
    assert report.created == [
        "S9",
        "S9-C0",
        "S9-V1",
        "S9-C0-G0",
        "S9-C0-G1",
        "S9-V1-G0",
        "S9-V1-G1",
    ]
    station = Area.objects.get(code="S9")
    assert station.parent == j.district and station.population == 12000
    village = Area.objects.get(code="S9-V1")
    assert (village.kind, village.zone, village.station_id) == (
        "village",
        "undeveloped",
        station.pk,
    )
    assert Area.objects.get(code="S9-C0").zone == "built"
    grid = Area.objects.get(code="S9-V1-G1")
    assert grid.path == f"{station.path}{village.pk}/{grid.pk}/" and grid.centroid_lat
    assert locate_point(station_id=station.pk, lat=28.215, lng=113.015) == grid
    created = AuditEntry.objects.filter(action="areas.area.created", actor=district_chief)
    assert created.count() == 7 and AuditEntry.objects.count() == audits + 7


BAD_FEATURES = {
    "bow_tie": (feature("S9-C0-BT", "网格", "S9-C0", BOW_TIE), "自相交"),
    "unknown_parent": (
        feature("S9-X-G0", "网格", "NOPE", square(113.001, 28.201, 0.001)),
        "上级编码“NOPE”不存在",
    ),
    "overlaps_sibling_in_file": (
        feature("S9-C0-G9", "网格", "S9-C0", square(113.005, 28.205, 0.004)),
        "与同级的“S9-C0-G0名称”（S9-C0-G0）重叠",
    ),
    "overlaps_sibling_in_database": (
        feature("S1-C0-G9", "网格", "S1-C0", square(112.902, 28.202, 0.005)),
        "与同级的“S1社区0网格0”（S1-C0-G0）（系统中已有）重叠约",
    ),
    "missing_code": (feature(None, "网格", "S9-C0", square(113.001, 28.201, 0.001)), "缺少编码"),
    "child_outside_parent": (
        feature("S9-C0-OUT", "网格", "S9-C0", square(112.995, 28.20, 0.005)),
        "超出上级“S9-C0”的边界",
    ),
    "wrong_parent_kind": (
        feature("S9-G5", "网格", "S9", square(113.001, 28.201, 0.001)),
        "上级“S9”是派出所；网格的上级应为村、社区",
    ),
    "unsupported_geometry": (
        feature("S9-C0-PT", "网格", "S9-C0", {"type": "Point", "coordinates": [113.0, 28.2]}),
        "不支持的几何类型“Point”",
    ),
    "coordinates_out_of_range": (
        feature("S9-C0-FAR", "网格", "S9-C0", square(28.2, 113.0, 0.01)),
        "经纬度可能写反了",
    ),
    "duplicate_code": (
        feature("S9-C0-G0", "网格", "S9-C0", square(113.00, 28.20, 0.01)),
        "编码“S9-C0-G0”在文件中重复（第 1 个要素已使用）",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FEATURES))
def test_one_bad_feature_is_reported_by_index_and_code_and_nothing_is_imported(j, case):
    bad, fragment = BAD_FEATURES[case]
    features = [*new_station(), bad]
    before = state()

    report = boundaries_import(actor="test", data=collection(*features), enforce_scope=False)

    assert not report.ok and not report.created
    assert len(report.problems) == 1, problems(report)
    problem = report.problems[0]
    assert (problem.index, problem.code) == (7, bad["properties"].get("code", ""))
    assert problem.number == 8
    assert fragment in problem.message
    assert state() == before


def test_every_problem_of_a_file_is_reported_at_once(j):
    bads = [BAD_FEATURES[case][0] for case in sorted(BAD_FEATURES)]
    before = state()

    report = boundaries_import(
        actor="test", data=collection(*new_station(), *bads), enforce_scope=False
    )

    assert sorted({p.index for p in report.problems}) == list(range(7, 7 + len(bads)))
    assert state() == before


def test_file_level_problems_are_reported_without_a_feature(j):
    for data, fragment in [
        (b"{not json", "不是有效的 JSON"),
        (b"\xff\xfe", "UTF-8"),
        (json.dumps({"type": "Feature"}).encode(), "FeatureCollection"),
        (json.dumps(collection()).encode(), "没有要素"),
    ]:
        report = boundaries_import(actor="test", data=data, enforce_scope=False)
        assert [(p.index, fragment in p.message) for p in report.problems] == [(None, True)]


def test_touching_edges_are_not_overlaps_and_slivers_under_tolerance_pass(j):
    features = new_station()
    # 1e-5 degrees of overlap on a 0.01-degree edge: 1e-7 deg², well over the tolerance.
    features[1] = feature("S9-C0-G1", "网格", "S9-C0", rect(113.00, 28.20999, 0.01, 0.01001))
    report = boundaries_import(actor="test", data=collection(*features), enforce_scope=False)
    assert [p.code for p in report.problems] == ["S9-C0-G1"]
    # 1e-8 degrees of overlap: 1e-10 deg², float noise.
    features[1] = feature("S9-C0-G1", "网格", "S9-C0", rect(113.00, 28.20999999, 0.01, 0.01))
    assert boundaries_import(actor="test", data=collection(*features), enforce_scope=False).ok


def test_reimport_updates_changed_areas_and_leaves_the_rest(j):
    chief = j.user("chief")
    g0 = j.grids[0]
    features = [
        feature("S1-C0-G0", "网格", "S1-C0", square(112.90, 28.20, 0.005), zone="过渡区"),
        feature("S1-C0-G1", "网格", "S1-C0", j.grids[1].boundary),
    ]
    features[1]["properties"]["name"] = j.grids[1].name

    report = boundaries_import(actor=chief, data=collection(*features))

    assert report.ok, problems(report)
    assert (report.created, report.updated, report.unchanged) == ([], ["S1-C0-G0"], ["S1-C0-G1"])
    g0.refresh_from_db()
    assert (g0.name, g0.zone) == ("S1-C0-G0名称", "transitional")
    assert g0.centroid_lng < 112.905
    entry = AuditEntry.objects.get(action="areas.area.updated")
    assert entry.actor == chief and entry.object_id == str(g0.pk)
    assert set(entry.changes) >= {"name", "zone", "boundary"}
    # The grid index follows the new boundary: the part given up now lies in no grid.
    with pytest.raises(OutsideStation):
        locate_point(station_id=j.station.pk, lat=28.208, lng=112.908)

    again = boundaries_import(actor=chief, data=collection(*features))
    assert (again.updated, again.unchanged) == ([], ["S1-C0-G0", "S1-C0-G1"])
    assert AuditEntry.objects.filter(action="areas.area.updated").count() == 1


def test_a_new_parent_boundary_must_still_hold_its_stored_children(j):
    shrunk = feature("S1-C0", "社区", "S1", rect(112.90, 28.20, 0.01, 0.01))
    report = boundaries_import(actor="test", data=collection(shrunk), enforce_scope=False)
    assert [(p.index, p.code) for p in report.problems] == [(0, "S1-C0")]
    assert "没有包住下级“S1社区0网格1”" in report.problems[0].message


def test_kind_and_parent_cannot_be_changed_by_import(j):
    report = boundaries_import(
        actor="test",
        data=collection(
            feature("S1-C0-G0", "网格", "S1-C1", j.grids[0].boundary),
            feature("S1-C1", "村", "S1", j.communities[1].boundary),
        ),
        enforce_scope=False,
    )
    messages = [p.message for p in report.problems]
    assert any("不能通过导入更改上级" in m for m in messages)
    assert any("不能改为村" in m for m in messages)


def test_dry_run_reports_what_would_happen_and_writes_nothing(j):
    before = state()
    report = boundaries_import(
        actor="test", data=collection(*new_station()), enforce_scope=False, dry_run=True
    )
    assert report.ok and report.dry_run and len(report.created) == 7
    assert state() == before


def police_grid(code: str, station: str, grids: list[str], **props: Any) -> dict:
    properties = {"code": code, "name": f"{code}名称", "station": station, "grids": grids}
    return {"type": "Feature", "properties": {**properties, **props}, "geometry": None}


def test_police_grid_reassignment_closes_old_links_and_keeps_history(j):
    chief, officer = j.user("chief"), j.user("officer")
    march = datetime.date(2026, 3, 1)
    moved = ["S1-C1-G0", "S1-C1-G1"]

    report = police_grids_import(
        actor=chief,
        data=collection(police_grid("S1-PG2", "S1", moved, officer=officer.username)),
        on_date=march,
    )

    assert report.ok, problems(report)
    assert (report.created, report.links_opened, report.links_closed) == (["S1-PG2"], 2, 2)
    pg2 = PoliceGrid.objects.get(code="S1-PG2")
    assert pg2.officer == officer and pg2.station == j.station
    history = list(
        PoliceGridLink.objects.filter(grid=j.grids[2])
        .order_by("valid_from", "id")
        .values_list("police_grid__code", "valid_from", "valid_to")
    )
    assert history == [
        ("S1-PG1", datetime.date(2026, 1, 1), march),
        ("S1-PG2", march, None),
    ]
    current = PoliceGridLink.objects.filter(valid_to__isnull=True)
    assert sorted(
        current.filter(police_grid=j.police_grid).values_list("grid__code", flat=True)
    ) == [
        "S1-C0-G0",
        "S1-C0-G1",
    ]
    entry = AuditEntry.objects.get(action="areas.police_grid.assigned")
    assert entry.changes["moved_from"] == [
        [j.grids[2].pk, j.police_grid.pk],
        [j.grids[3].pk, j.police_grid.pk],
    ]
    assert AuditEntry.objects.filter(action="areas.police_grid.created").count() == 1


def test_assigning_the_same_grids_again_changes_nothing(j):
    ids = [g.pk for g in j.grids]
    links = PoliceGridLink.objects.count()
    result = police_grid_assign(
        actor=None, police_grid=j.police_grid, grid_ids=ids, on_date=datetime.date(2026, 3, 1)
    )
    assert not result.changed and PoliceGridLink.objects.count() == links
    assert not AuditEntry.objects.filter(action="areas.police_grid.assigned").exists()


def test_a_grid_left_out_is_released_with_its_history(j):
    report = police_grids_import(
        actor="test",
        data=collection(police_grid("S1-PG1", "S1", ["S1-C0-G0", "S1-C0-G1", "S1-C1-G0"])),
        on_date=datetime.date(2026, 4, 1),
        enforce_scope=False,
    )
    assert report.ok and report.updated == ["S1-PG1"] and report.links_closed == 1
    link = PoliceGridLink.objects.get(grid=j.grids[3])
    assert link.valid_to == datetime.date(2026, 4, 1)


def test_bad_police_grids_are_reported_and_nothing_changes(j, other):
    outsider = other.user("officer")
    before = state()
    report = police_grids_import(
        actor=j.user("chief"),
        data=collection(
            police_grid("S1-PG2", "S1", ["S1-C1-G0", "S2-C0-G0", "NOPE"]),
            police_grid("S1-PG3", "S1", ["S1-C1-G0"], officer=outsider.username),
            police_grid("S1-PG4", "S1-C0", ["S1-C0-G0"]),
            police_grid("S2-PG9", "S2", ["S2-C0-G1"]),
        ),
    )
    found = problems(report)
    assert any(i == 0 and "不存在：NOPE" in m for i, _c, m in found)
    assert any(i == 0 and "不属于“S1派出所”：S2-C0-G0" in m for i, _c, m in found)
    assert any(i == 1 and "已列在第 1 个要素" in m for i, _c, m in found)
    assert any(i == 1 and "不是“S1派出所”的民警" in m for i, _c, m in found)
    assert any(i == 2 and "不是派出所" in m for i, _c, m in found)
    # the other station is named by the file's code, not by its stored name
    assert any(i == 3 and "无权修改“S2”的警格" in m for i, _c, m in found)
    assert not any("S2派出所" in m for _i, _c, m in found)
    assert state() == before


def test_the_command_imports_and_reports(j, tmp_path, capsys):
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps(collection(*new_station()), ensure_ascii=False), encoding="utf-8")
    call_command("import_boundaries", str(good))
    assert "新建 7 个" in capsys.readouterr().out
    assert Area.objects.filter(code__startswith="S9").count() == 7

    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(collection(BAD_FEATURES["bow_tie"][0])), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_boundaries", str(bad))
    assert "#1 [S9-C0-BT]" in capsys.readouterr().err

    grids = tmp_path / "grids.geojson"
    grids.write_text(json.dumps(collection(police_grid("S9-PG1", "S9", ["S9-C0-G0"]))))
    call_command("import_boundaries", str(grids), "--police-grids", "--date", "2026-05-01")
    assert PoliceGridLink.objects.get(grid__code="S9-C0-G0").valid_from == datetime.date(2026, 5, 1)


def upload(data: dict | bytes, **fields: str) -> dict:
    content = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    return {"file": SimpleUploadedFile("areas.geojson", content), "what": "areas", **fields}


def renamed_grid(j) -> dict:
    changed = feature("S1-C0-G0", "网格", "S1-C0", j.grids[0].boundary)
    changed["properties"]["name"] = "新名称网格"
    return collection(changed)


def test_page_requires_login(client, j):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    before = state()
    assert client.post(URL, upload(renamed_grid(j))).status_code == 302
    assert state() == before


@pytest.mark.parametrize("role", ["officer", "auxiliary", "mediator", "volunteer", "analyst"])
def test_roles_without_area_import_are_refused(client, j, role):
    client.force_login(j.user(role))
    assert client.get(URL).status_code == 403
    before = state()
    assert client.post(URL, upload(renamed_grid(j))).status_code == 403
    assert state() == before


def test_chief_of_another_station_cannot_import_under_this_one(client, j, other):
    client.force_login(other.user("chief"))
    before = state()

    response = client.post(URL, upload(renamed_grid(j)))

    assert response.status_code == 422
    body = response.content.decode()
    # the area is named by the code in the file: its stored name is not theirs to read
    assert "您无权导入或修改“S1-C0-G0”辖区内的区域" in body and "没有导入任何数据" in body
    assert "S1社区0网格0" not in body
    assert state() == before


def test_chief_imports_and_sees_a_summary(client, j):
    chief = j.user("chief")
    client.force_login(chief)
    assert client.get(URL).status_code == 200

    response = client.post(URL, upload(renamed_grid(j)))

    assert response.status_code == 200, response.content.decode()
    assert "导入成功" in response.content.decode()
    j.grids[0].refresh_from_db()
    assert j.grids[0].name == "新名称网格"
    assert AuditEntry.objects.get(action="areas.area.updated").actor == chief


def test_the_page_shows_every_problem_in_a_table(client, j):
    client.force_login(j.user("chief"))
    bad = collection(
        feature("S1-C0-G9", "网格", "S1-C0", square(112.902, 28.202, 0.005)),
        feature(None, "网格", "S1-C0", square(112.902, 28.202, 0.005)),
    )
    response = client.post(URL, upload(bad))
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="import-problems"' in body
    assert "第 1 个" in body and "S1-C0-G9" in body and "第 2 个" in body and "缺少编码" in body


def test_chief_imports_police_grids_through_the_page(client, j):
    client.force_login(j.user("chief"))
    data = collection(police_grid("S1-PG2", "S1", ["S1-C1-G0"]))
    response = client.post(URL, upload(data, what="police_grids", on_date="2026-03-01"))
    assert response.status_code == 200, response.content.decode()
    link = PoliceGridLink.objects.get(grid=j.grids[2], valid_to__isnull=True)
    assert (link.police_grid.code, link.valid_from) == ("S1-PG2", datetime.date(2026, 3, 1))


@override_settings(FENGQIAO_MAX_UPLOAD_BYTES=1024)
def test_an_oversized_upload_is_refused(client, j):
    client.force_login(j.user("chief"))
    data = renamed_grid(j)
    data["padding"] = "x" * 2048
    before = state()

    response = client.post(URL, upload(data))

    assert response.status_code == 422
    assert "文件太大" in response.content.decode()
    assert state() == before


def test_the_area_list_links_to_the_import_only_for_those_who_may(client, j):
    client.force_login(j.user("officer"))
    assert URL not in client.get(reverse("areas:area_list")).content.decode()
    client.force_login(j.user("chief"))
    assert URL in client.get(reverse("areas:area_list")).content.decode()


# --- messages for people: no Python or JSON texts, no names from other stations ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"{not json",
            "文件不是有效的 JSON（第 1 行第 2 列）：属性名应使用英文双引号括起来，或多了一个逗号。",
        ),
        (
            b'{\n  "type": "FeatureCollection",\n  "features": [1 2]\n}',
            "文件不是有效的 JSON（第 3 行第 18 列）：缺少逗号。",
        ),
        (
            b'{"type": "FeatureCollection"} x',
            "文件不是有效的 JSON（第 1 行第 31 列）：JSON 结束后还有多余的内容。",
        ),
    ],
)
def test_a_json_syntax_error_is_explained_in_chinese_with_its_line(j, raw, expected):
    report = boundaries_import(actor="test", data=raw, enforce_scope=False)
    assert problems(report) == [(None, "", expected)]


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        (
            {"type": "Polygon", "coordinates": [[[113.0, 28.2], [113.01, "a"], [113.01, 28.21]]]},
            '第 1 个环的第 2 个点应为 [经度, 纬度] 两个数字，实际是 [113.01, "a"]。',
        ),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [[square(113.0, 28.2, 0.01)["coordinates"][0]], [["x"]]],
            },
            '第 2 个多边形的第 1 个环的第 1 个点应为 [经度, 纬度] 两个数字，实际是 "x"。',
        ),
        (
            {"type": "Polygon", "coordinates": [[[113.0, 28.2], [113.01, 28.2], [113.0, 28.2]]]},
            "第 1 个环只有 3 个点，至少需要 4 个（首尾两点相同）。",
        ),
        ({"type": "Polygon"}, "缺少坐标（coordinates），或坐标不是列表。"),
        ({"type": "Polygon", "coordinates": [[1, 2, 3]]}, "第 1 个环的第 1 个点应为"),
    ],
)
def test_bad_coordinates_are_explained_in_chinese_by_ring_and_point(j, geometry, expected):
    report = boundaries_import(
        actor="test",
        data=collection(*new_station(), feature("S9-C0-G9", "网格", "S9-C0", geometry)),
        enforce_scope=False,
    )
    [(index, code, message)] = problems(report)
    assert (index, code) == (7, "S9-C0-G9")
    assert message.startswith("几何图形的坐标格式有误：") and expected in message
    assert "convert" not in message and "object" not in message


def test_a_name_with_markup_is_refused(j):
    features = new_station()
    features[0]["properties"]["name"] = "<script>alert(1)</script>网格"
    before = state()
    report = boundaries_import(actor="test", data=collection(*features), enforce_scope=False)
    assert problems(report) == [(0, "S9-C0-G0", "名称不能包含“<”或“>”。")]
    assert state() == before


def test_another_stations_names_stay_out_of_the_report(j, other):
    # given the chief of the second station, who cannot see the first one
    outsider = other.user("chief")
    before = state()
    # when their file adds a community under S1 over S1-C1, and shrinks S1-C0
    report = boundaries_import(
        actor=outsider,
        data=collection(
            feature("S1-C9", "社区", "S1", rect(112.909, 28.201, 0.005, 0.005)),
            feature("S1-C0", "社区", "S1", rect(112.90, 28.20, 0.005, 0.005)),
        ),
    )
    # then each problem names S1's areas by the codes of the file only
    messages = [m for _i, _c, m in problems(report)]
    assert "您无权导入或修改“S1”辖区内的区域。" in messages
    assert "您无权导入或修改“S1-C0”辖区内的区域。" in messages
    assert any(m.startswith("与同级的“S1-C1”（系统中已有）重叠约") for m in messages)
    assert any(m.startswith("新边界没有包住下级“S1-C0-G") for m in messages)
    text = " ".join(messages)
    assert "S1社区" not in text and "S1派出所" not in text
    assert state() == before


def test_a_chief_still_sees_the_names_of_their_own_areas(j):
    report = boundaries_import(
        actor=j.user("chief"),
        data=collection(feature("S1-C0", "社区", "S1", rect(112.90, 28.20, 0.005, 0.005))),
    )
    assert any("“S1社区0网格0”（S1-C0-G0）" in m for _i, _c, m in problems(report))


def test_a_police_grid_of_another_station_is_named_by_code(j, other):
    report = police_grids_import(
        actor=j.user("chief"), data=collection(police_grid("S2-PG1", "S1", ["S1-C0-G0"]))
    )
    messages = [m for _i, _c, m in problems(report)]
    assert "警格“S2-PG1”属于“S2”，不能通过导入改到其他派出所。" in messages
    assert "S2派出所" not in " ".join(messages)


def test_a_failed_write_is_explained_without_database_text(j, monkeypatch):
    from django.db import IntegrityError

    from fengqiao.areas import boundaries

    def clash(**kwargs):
        raise IntegrityError('duplicate key value violates unique constraint "areas_area_code"')

    monkeypatch.setattr(boundaries, "area_create", clash)
    report = boundaries_import(actor="test", data=collection(*new_station()), enforce_scope=False)
    [(index, _code, message)] = problems(report)
    assert index is None and "未导入任何数据" in message
    assert "duplicate" not in message and "constraint" not in message
