"""Case attachments: photos, scans and documents, checked by content, stored under a random name.

The file's type is read from its first bytes (JPEG, PNG, WebP, HEIC, PDF), never from its name
or from the content type the browser claims. Each file has a size limit
(`FENGQIAO_ATTACHMENT_MAX_BYTES`, within the request limit of `core.uploads`), a SHA-256, and
lives in Django's default storage (under MEDIA_ROOT in var/). Uploads, downloads (attachments
may hold personal data) and deletions are audited against the dispute.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.core.audit import audit_record
from fengqiao.core.errors import IllegalTransition, ValidationFailed
from fengqiao.disputes.choices import AttachmentKind
from fengqiao.disputes.models import FINISHED, Attachment, Dispute

NAME_MAX = 200
DESCRIPTION_MAX = 200
# No case needs more; a runaway script should not fill the disk.
PER_CASE_MAX = 300
# The same file from the same person on the same case within this many seconds is one upload.
RESUBMIT_SECONDS = 60


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    label: str
    image: bool


JPEG = FileType("image/jpeg", ".jpg", "JPEG", True)
PNG = FileType("image/png", ".png", "PNG", True)
WEBP = FileType("image/webp", ".webp", "WebP", True)
HEIC = FileType("image/heic", ".heic", "HEIC", True)
PDF = FileType("application/pdf", ".pdf", "PDF", False)
ALLOWED = (JPEG, PNG, WEBP, HEIC, PDF)
# Other spellings of an allowed type's extension: a name ending in one keeps it.
EXTENSIONS = {
    JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    PNG: (".png",),
    WEBP: (".webp",),
    HEIC: (".heic", ".heif"),
    PDF: (".pdf",),
}
# ISO base media "ftyp" brands of HEIF images taken by phones (iPhone and others).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def sniff(head: bytes) -> FileType | None:
    """Return the file's type from its first bytes, or None if it is not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIC
    return None


def allowed_text() -> str:
    """Return the accepted types, for the form's help text and the error message."""
    return "、".join(t.label for t in ALLOWED)


def limit_text(size: int | None = None) -> str:
    """Return a size in MB as people say it (10 MB, 2.5 MB)."""
    value = (settings.FENGQIAO_ATTACHMENT_MAX_BYTES if size is None else size) / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def clean_name(raw: str, kind: FileType) -> str:
    """Return a display name: the base name, no control or path characters, the right extension.

    A real JPEG named "x.exe" is kept as "x.exe.jpg": whoever saves it gets a file their
    computer opens as a picture.
    """
    name = unicodedata.normalize("NFC", str(raw or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .") or _("附件")
    if not name.lower().endswith(EXTENSIONS[kind]):
        name += kind.extension
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        ext = f"{dot}{ext}" if dot and len(ext) <= 10 else ""
        name = (stem if ext else name)[: NAME_MAX - len(ext)] + ext
    return name


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require_handle(actor: Any, dispute: Dispute) -> None:
    if actor is not None and not user_can(
        actor, "dispute.handle", station_id=dispute.station_id, area_id=dispute.area_id
    ):
        raise PermissionDenied(_("您无权办理该纠纷。"))


def can_upload(user: Any, dispute: Dispute) -> bool:
    return user_can(user, "dispute.handle", station_id=dispute.station_id, area_id=dispute.area_id)


def can_delete(user: Any, attachment: Attachment, dispute: Dispute) -> bool:
    """Return whether the user may delete the attachment: a chief, or its uploader, while open."""
    if dispute.status in FINISHED or not can_upload(user, dispute):
        return False
    chief = user_can(user, "dispute.override", station_id=dispute.station_id, area_id=None)
    return chief or (attachment.created_by_id is not None and attachment.created_by_id == user.pk)


# --- reads ---


def attachments_of(*, dispute: Dispute) -> list[Attachment]:
    """Return the case's attachments, oldest first, with who uploaded them."""
    return list(
        Attachment.objects.filter(dispute_id=dispute.pk).select_related("created_by").order_by("id")
    )


def access_attachment(dispute: Dispute, pk: int) -> Attachment:
    """Return the attachment of this (already accessed) dispute; 404 for another case's."""
    row = Attachment.objects.select_related("created_by").filter(dispute_id=dispute.pk, pk=pk)
    found = row.first()
    if found is None:
        raise Http404
    found.dispute = dispute
    return found


# --- writes ---


def _digest(upload: IO[bytes] | File) -> str:
    sha = hashlib.sha256()
    if isinstance(upload, File):
        upload.seek(0)
        for chunk in upload.chunks():
            sha.update(chunk)
    else:
        upload.seek(0)
        for chunk in iter(lambda: upload.read(64 * 1024), b""):
            sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest()


def attachment_upload(
    *, actor: Any, dispute: Dispute, upload: File | None, kind: str, description: str = ""
) -> Attachment:
    """Store a file on the case after checking its kind, real type and size; audited."""
    _require_handle(actor, dispute)
    errors: dict[str, list[str]] = {}
    if kind not in AttachmentKind.values:
        errors["kind"] = [_("请选择附件类别（照片、扫描件、文书或其他）。")]
    description = (description or "").strip()
    if "\x00" in description:
        errors["description"] = [_("不能包含空字符。")]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("说明不能超过%(n)d个字。") % {"n": DESCRIPTION_MAX}]
    limit = settings.FENGQIAO_ATTACHMENT_MAX_BYTES
    filetype: FileType | None = None
    size = 0
    if upload is None:
        errors["file"] = [_("请选择要上传的文件。")]
    else:
        size = int(upload.size or 0)
        if size == 0:
            errors["file"] = [_("文件是空的，请重新选择。")]
        elif size > limit:
            errors["file"] = [
                _("文件过大：每个附件不能超过 %(limit)s，本文件 %(size)s。请压缩或拆分后再上传。")
                % {"limit": limit_text(), "size": limit_text(size)}
            ]
        else:
            upload.seek(0)
            filetype = sniff(upload.read(16))
            upload.seek(0)
            if filetype is None:
                errors["file"] = [
                    _("不支持该文件类型：只能上传 %(types)s 文件（按文件内容识别，与文件名无关）。")
                    % {"types": allowed_text()}
                ]
            elif kind == AttachmentKind.PHOTO and not filetype.image:
                errors["kind"] = [_("照片应为图片文件；PDF 请选择“扫描件”或“文书”。")]
    if errors:
        raise ValidationFailed(_("附件未上传：%(why)s") % {"why": _first(errors)}, fields=errors)
    assert upload is not None and filetype is not None
    if Attachment.objects.filter(dispute_id=dispute.pk).count() >= PER_CASE_MAX:
        raise ValidationFailed(
            _("每个案件最多 %(n)d 个附件。") % {"n": PER_CASE_MAX},
            fields={"file": [_("附件数量已达上限")]},
        )
    user = _user(actor)
    digest = _digest(upload)
    if user is not None:
        # A double-clicked submit or a retried request stores the file once.
        again = Attachment.objects.filter(
            dispute_id=dispute.pk,
            sha256=digest,
            created_by=user,
            created_at__gte=timezone.now() - timedelta(seconds=RESUBMIT_SECONDS),
        ).first()
        if again is not None:
            return again
    row = Attachment(
        dispute=dispute,
        station_id=dispute.station_id,
        kind=kind,
        name=clean_name(upload.name or "", filetype),
        content_type=filetype.content_type,
        size=size,
        sha256=digest,
        description=description,
        created_by=user,
        updated_by=user,
    )
    # The file is written first; if the row cannot be saved, the file goes too.
    row.file.save(row.name, upload, save=False)
    try:
        with transaction.atomic():
            row.save()
            audit_record(
                actor=actor,
                action="disputes.attachment.uploaded",
                obj=dispute,
                changes={
                    "attachment_id": row.pk,
                    "kind": row.kind,
                    "name": row.name,
                    "content_type": row.content_type,
                    "size": row.size,
                    "sha256": row.sha256,
                    "description": row.description,
                },
            )
    except BaseException:
        if row.file.name:
            row.file.storage.delete(row.file.name)
        raise
    return row


def _first(errors: dict[str, list[str]]) -> str:
    for messages in errors.values():
        if messages:
            return messages[0]
    return ""


def attachment_delete(*, actor: Any, attachment: Attachment) -> None:
    """Delete an attachment (a chief, or whoever uploaded it) while the case is open; audited."""
    dispute = attachment.dispute
    _require_handle(actor, dispute)
    if dispute.status in FINISHED:
        raise IllegalTransition(_("案件已办结，附件不能再删除。"), code="finished")
    if actor is not None and not can_delete(actor, attachment, dispute):
        raise PermissionDenied(_("只有所长或上传人可以删除附件。"))
    stored = attachment.file.name or ""
    with transaction.atomic():
        deleted, _rows = Attachment.objects.filter(pk=attachment.pk).delete()
        if not deleted:
            raise Http404
        audit_record(
            actor=actor,
            action="disputes.attachment.deleted",
            obj=dispute,
            changes={
                "attachment_id": attachment.pk,
                "kind": attachment.kind,
                "name": attachment.name,
                "size": attachment.size,
                "sha256": attachment.sha256,
            },
        )
        # Only once the row is gone for good: a rollback keeps the file with its row.
        if stored:
            transaction.on_commit(lambda: default_storage.delete(stored))


def content_disposition(name: str) -> str:
    """Return the header with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = name.encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("_.") or "attachment"
    if "." in name and "." not in ascii_name:
        ascii_name += "." + name.rsplit(".", 1)[-1].encode("ascii", "ignore").decode()
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_download(*, actor: Any, attachment: Attachment) -> FileResponse:
    """Return the file as a download under its original name; the read is audited."""
    dispute = attachment.dispute
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit_record(
        actor=actor,
        action="disputes.attachment.downloaded",
        obj=dispute,
        changes={
            "attachment_id": attachment.pk,
            "kind": attachment.kind,
            "name": attachment.name,
        },
    )
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition(attachment.name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
