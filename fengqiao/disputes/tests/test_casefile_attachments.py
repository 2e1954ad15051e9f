"""Attachments: type by content, size limit, storage, audited download with its name, delete."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from fengqiao.core.errors import IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.attachments import attachment_delete, attachment_upload, clean_name, sniff
from fengqiao.disputes.models import Attachment, Dispute
from fengqiao.disputes.tests.casefile_kit import exe_bytes, pdf_bytes, png_bytes
from fengqiao.disputes.tests.kit import intake
from fengqiao.factories import api_client, assert_api_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Files go to a throwaway MEDIA_ROOT, never into var/ or the repository."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def audits(d: Dispute, action: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            object_id=str(d.pk), object_type="disputes.dispute", action=action
        )
    )


def test_a_real_png_is_stored_under_a_random_name_with_its_digest(j, media):
    officer = j.user("officer")
    d = intake(j, officer)
    data = png_bytes()
    row = attachment_upload(
        actor=officer, dispute=d, upload=upload("现场照片.png", data), kind="photo"
    )
    assert row.content_type == "image/png" and row.size == len(data) and row.name == "现场照片.png"
    import hashlib

    assert row.sha256 == hashlib.sha256(data).hexdigest()
    stored = media / row.file.name
    assert stored.read_bytes() == data
    assert row.file.name.startswith(f"disputes/{j.station.pk}/{d.pk}/")
    assert "现场" not in row.file.name and not row.file.name.endswith(".png")
    (entry,) = audits(d, "disputes.attachment.uploaded")
    assert entry.changes["name"] == "现场照片.png" and entry.actor == officer


def test_a_real_pdf_is_accepted_whatever_the_browser_claims(j):
    officer = j.user("officer")
    d = intake(j, officer)
    row = attachment_upload(
        actor=officer,
        dispute=d,
        upload=upload("协议书扫描", pdf_bytes(), "image/jpeg"),
        kind="scan",
    )
    assert row.content_type == "application/pdf" and row.name == "协议书扫描.pdf"


def test_an_exe_renamed_jpg_is_refused(j, media):
    officer = j.user("officer")
    d = intake(j, officer)
    with pytest.raises(ValidationFailed) as exc:
        attachment_upload(
            actor=officer,
            dispute=d,
            upload=upload("photo.jpg", exe_bytes(), "image/jpeg"),
            kind="photo",
        )
    assert "不支持该文件类型" in exc.value.fields["file"][0]
    assert not Attachment.objects.exists() and not list(media.rglob("*.*"))
    assert not audits(d, "disputes.attachment.uploaded")


def test_an_oversized_file_is_refused_with_the_limit_in_chinese(j, settings):
    settings.FENGQIAO_ATTACHMENT_MAX_BYTES = 1024 * 1024
    officer = j.user("officer")
    d = intake(j, officer)
    big = png_bytes() + b"\x00" * (1024 * 1024)
    with pytest.raises(ValidationFailed) as exc:
        attachment_upload(actor=officer, dispute=d, upload=upload("大.png", big), kind="photo")
    assert "文件过大" in exc.value.message and "1 MB" in exc.value.fields["file"][0]
    assert not Attachment.objects.exists()


def test_the_attachment_limit_fits_within_the_request_limit(settings):
    from django.conf import settings as live

    assert live.FENGQIAO_ATTACHMENT_MAX_BYTES <= live.FENGQIAO_MAX_UPLOAD_BYTES


def test_a_pdf_is_not_a_photo_and_an_empty_file_is_refused(j):
    officer = j.user("officer")
    d = intake(j, officer)
    with pytest.raises(ValidationFailed) as exc:
        attachment_upload(
            actor=officer, dispute=d, upload=upload("a.pdf", pdf_bytes()), kind="photo"
        )
    assert "kind" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        attachment_upload(actor=officer, dispute=d, upload=upload("a.png", b""), kind="photo")
    assert "file" in exc.value.fields


def test_sniffing_and_names():
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF").content_type == "image/jpeg"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ").content_type == "image/webp"
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00").content_type == "image/heic"
    assert sniff(b"MZ\x90\x00") is None and sniff(b"<html>") is None
    jpeg = sniff(b"\xff\xd8\xff")
    assert clean_name("x.exe", jpeg) == "x.exe.jpg"
    assert clean_name("..\\..\\etc/照片.JPEG", jpeg) == "照片.JPEG"


def test_download_is_audited_and_names_the_file_in_utf8(client, j):
    officer = j.user("officer")
    d = intake(j, officer)
    row = attachment_upload(
        actor=officer, dispute=d, upload=upload("调解 协议.pdf", pdf_bytes()), kind="document"
    )
    client.force_login(officer)
    resp = client.get(f"/disputes/{d.pk}/attachments/{row.pk}/")
    assert resp.status_code == 200
    assert b"".join(resp.streaming_content) == pdf_bytes()
    assert resp["Content-Type"] == "application/pdf"
    disposition = resp["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('调解 协议.pdf', safe='')}" in disposition
    assert 'filename="' in disposition and disposition.isascii()
    assert resp["X-Content-Type-Options"] == "nosniff"
    (entry,) = audits(d, "disputes.attachment.downloaded")
    assert entry.actor == officer and entry.changes["attachment_id"] == row.pk


def test_another_station_gets_404_for_page_and_download(client, j, other):
    officer = j.user("officer")
    d = intake(j, officer)
    row = attachment_upload(
        actor=officer, dispute=d, upload=upload("a.png", png_bytes()), kind="photo"
    )
    client.force_login(other.user("officer"))
    assert client.get(f"/disputes/{d.pk}/attachments/{row.pk}/").status_code == 404
    resp = client.post(
        f"/disputes/{d.pk}/attachments/", {"kind": "photo", "file": upload("b.png", png_bytes())}
    )
    assert resp.status_code == 404
    assert client.post(f"/disputes/{d.pk}/attachments/{row.pk}/delete/").status_code == 404
    assert Attachment.objects.count() == 1
    assert not audits(d, "disputes.attachment.downloaded")
    # an attachment id of another case is not found through this one
    d2 = intake(j, officer)
    client.force_login(officer)
    assert client.get(f"/disputes/{d2.pk}/attachments/{row.pk}/").status_code == 404


def test_upload_through_the_page_and_refusal_keeps_the_form(client, j):
    officer = j.user("officer")
    d = intake(j, officer)
    client.force_login(officer)
    resp = client.post(
        f"/disputes/{d.pk}/attachments/",
        {"kind": "photo", "description": "门口漏水照片", "file": upload("门口.png", png_bytes())},
    )
    assert resp.status_code == 302 and resp["Location"].endswith(
        f"/disputes/{d.pk}/#case-attachments"
    )
    assert Attachment.objects.get().description == "门口漏水照片"
    resp = client.post(
        f"/disputes/{d.pk}/attachments/",
        {"kind": "photo", "description": "第二张", "file": upload("virus.jpg", exe_bytes())},
    )
    assert resp.status_code == 422
    html = resp.content.decode()
    assert "不支持该文件类型" in html and 'value="第二张"' in html
    assert Attachment.objects.count() == 1


def test_delete_by_the_uploader_or_a_chief_while_open(j):
    officer, colleague, chief = j.user("officer"), j.user("officer"), j.user("chief")
    d = intake(j, officer)
    mine = attachment_upload(
        actor=officer, dispute=d, upload=upload("a.png", png_bytes()), kind="photo"
    )
    with pytest.raises(PermissionDenied):
        attachment_delete(actor=colleague, attachment=Attachment.objects.get(pk=mine.pk))
    attachment_delete(actor=officer, attachment=Attachment.objects.get(pk=mine.pk))
    assert not Attachment.objects.filter(pk=mine.pk).exists()
    (entry,) = audits(d, "disputes.attachment.deleted")
    assert entry.changes["name"] == "a.png"
    theirs = attachment_upload(
        actor=officer, dispute=d, upload=upload("b.png", png_bytes()), kind="photo"
    )
    Dispute.objects.filter(pk=d.pk).update(status="closed")
    row = Attachment.objects.select_related("dispute").get(pk=theirs.pk)
    with pytest.raises(IllegalTransition):
        attachment_delete(actor=chief, attachment=row)
    Dispute.objects.filter(pk=d.pk).update(status="mediating")
    attachment_delete(
        actor=chief, attachment=Attachment.objects.select_related("dispute").get(pk=theirs.pk)
    )
    assert not Attachment.objects.exists()


# --- API ---


def test_api_upload_list_download_delete(j):
    officer = j.user("officer")
    d = intake(j, officer)
    api = api_client(officer)
    url = f"/api/v1/disputes/{d.pk}/attachments"
    resp = api.post(url, {"kind": "photo", "file": upload("现场.png", png_bytes(), "text/plain")})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["content_type"] == "image/png" and body["name"] == "现场.png"
    assert body["download_url"] == f"{url}/{body['id']}"
    listed = api.get(url).json()
    assert [a["id"] for a in listed] == [body["id"]]
    got = api.get(body["download_url"])
    assert got.status_code == 200 and b"".join(got.streaming_content) == png_bytes()
    assert quote("现场.png", safe="") in got["Content-Disposition"]
    assert len(audits(d, "disputes.attachment.downloaded")) == 1
    assert api.delete(f"{url}/{body['id']}").status_code == 204
    assert not Attachment.objects.exists()


def test_api_refusals(j, other, settings):
    officer = j.user("officer")
    d = intake(j, officer)
    api = api_client(officer)
    url = f"/api/v1/disputes/{d.pk}/attachments"
    body = assert_api_error(
        api.post(url, {"kind": "photo", "file": upload("a.jpg", exe_bytes(), "image/jpeg")}),
        422,
        "validation_error",
    )
    assert "file" in body["fields"]
    settings.FENGQIAO_ATTACHMENT_MAX_BYTES = 100
    body = assert_api_error(
        api.post(url, {"kind": "photo", "file": upload("a.png", png_bytes() + b"\0" * 200)}),
        422,
        "validation_error",
    )
    assert "文件过大" in body["message"]
    assert_api_error(api.post(url, {"kind": "photo"}), 422, "validation_error")
    stranger = api_client(other.user("officer"))
    assert_api_error(
        stranger.post(url, {"kind": "photo", "file": upload("a.png", png_bytes())}),
        404,
        "not_found",
    )
    assert_api_error(api_client(j.user("volunteer")).get(url), 404, "not_found")
    assert_api_error(api_client(None).get(url), 401, "unauthorized")
    assert not Attachment.objects.exists()


def test_a_double_clicked_upload_stores_one_file(j, media):
    officer = j.user("officer")
    d = intake(j, officer)
    first = attachment_upload(
        actor=officer, dispute=d, upload=upload("a.png", png_bytes()), kind="photo"
    )
    again = attachment_upload(
        actor=officer, dispute=d, upload=upload("a.png", png_bytes()), kind="photo"
    )
    assert again.pk == first.pk and Attachment.objects.count() == 1
    assert len([p for p in media.rglob("*") if p.is_file()]) == 1
    assert len(audits(d, "disputes.attachment.uploaded")) == 1
