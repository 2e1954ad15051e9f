"""The disputes API: the case file (follow-up visits, attachments, the timeline).

The same services as the pages: `disputes.followups`, `disputes.attachments`; the timeline
in the same words as the case page (`disputes.timeline`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import BaseModel, ConfigDict

from fengqiao.core.schemas import CleanStr, error_responses
from fengqiao.disputes import attachments as files
from fengqiao.disputes import followups
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.models import Attachment, FollowUp
from fengqiao.disputes.timeline import Step, timeline_page

router = Router(tags=["disputes"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
MOVE_ERRORS = {**WRITE_ERRORS, **error_responses(409)}


# --- output ---


class FollowUpOut(BaseModel):
    """A follow-up visit of a case: when it is due, and what it found once made."""

    id: int
    dispute_id: int
    kind: str
    due_date: date
    state: str
    agreement_number: str | None
    item_description: str | None
    visited_at: datetime | None
    visited_by: str | None
    honoured: bool | None
    satisfaction: int | None
    comment: str
    reopened: bool


class FollowUpRecorded(FollowUpOut):
    """A recorded visit, with where the case now stands (reopened or not)."""

    dispute_status: str
    dispute_version: int


class FollowUpDue(BaseModel):
    """A visit still to make, in the due list."""

    id: int
    dispute_id: int
    case_number: str
    dispute_status: str
    colour: str
    kind: str
    due_date: date
    overdue: bool
    mediator_name: str | None
    item_description: str | None


class FollowUpDuePage(BaseModel):
    items: list[FollowUpDue]
    next_cursor: str | None


class AttachmentOut(BaseModel):
    """An attachment: its real type (read from the content), size, digest and who added it."""

    id: int
    dispute_id: int
    kind: str
    name: str
    content_type: str
    size: int
    sha256: str
    description: str
    created_at: datetime
    created_by: str | None
    download_url: str


class ChangeOut(BaseModel):
    label: str
    old: str | None = Field(description="The value before, for a change; else null")
    new: str


class StepOut(BaseModel):
    """One step of the case's timeline: who, when, what (in words), and what changed."""

    seq: int
    at: datetime
    who: str
    action: str = Field(description="The audit action code (disputes.dispute.status_changed)")
    label: str = Field(description="The action in words (状态变更)")
    changes: list[ChangeOut]


class TimelinePage(BaseModel):
    items: list[StepOut]
    next_cursor: str | None


def followup_out(f: FollowUp) -> FollowUpOut:
    return FollowUpOut(**_followup_fields(f))


def _followup_fields(f: FollowUp) -> dict[str, Any]:
    return {
        "id": f.pk,
        "dispute_id": f.dispute_id,
        "kind": f.kind,
        "due_date": f.due_date,
        "state": f.state,
        "agreement_number": f.agreement.number if f.agreement_id and f.agreement else None,
        "item_description": f.item.description if f.item_id and f.item else None,
        "visited_at": f.visited_at,
        "visited_by": str(f.visited_by) if f.visited_by_id and f.visited_by else None,
        "honoured": f.honoured,
        "satisfaction": f.satisfaction,
        "comment": f.comment,
        "reopened": f.reopened,
    }


def attachment_out(a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.pk,
        dispute_id=a.dispute_id,
        kind=a.kind,
        name=a.name,
        content_type=a.content_type,
        size=a.size,
        sha256=a.sha256,
        description=a.description,
        created_at=a.created_at,
        created_by=str(a.created_by) if a.created_by_id and a.created_by else None,
        download_url=reverse(
            "api:attachment_download_api",
            kwargs={"dispute_id": a.dispute_id, "attachment_id": a.pk},
        ),
    )


def step_out(step: Step) -> StepOut:
    return StepOut(
        seq=step.entry.seq,
        at=step.at,
        who=step.who,
        action=step.code,
        label=step.label,
        changes=[ChangeOut(label=line.label, old=line.old, new=line.text) for line in step.lines],
    )


# --- input ---


class FollowUpRecordIn(Schema):
    model_config = ConfigDict(extra="forbid")

    honoured: bool
    satisfaction: Annotated[int, Field(ge=1, le=5, description="1 very dissatisfied … 5 very")]
    comment: Annotated[
        CleanStr,
        Field(
            max_length=followups.COMMENT_MAX,
            description="Required when not honoured or satisfaction ≤ 2",
        ),
    ] = ""
    visited_at: datetime = Field(description="When the visit was made; not in the future")


class FollowUpCancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[CleanStr, Field(max_length=followups.REASON_MAX)]


class FollowUpAddIn(Schema):
    model_config = ConfigDict(extra="forbid")

    due_date: date
    note: Annotated[CleanStr, Field(max_length=followups.REASON_MAX)] = ""


class AttachmentIn(Schema):
    """The form fields sent with the file."""

    kind: Annotated[CleanStr, Field(max_length=20, description="photo, scan, document, other")]
    description: Annotated[CleanStr, Field(max_length=files.DESCRIPTION_MAX)] = ""


# --- follow-ups ---


@router.get(
    "/followups",
    response={200: FollowUpDuePage, **READ_ERRORS},
    summary="Visits still to make (overdue, today, upcoming), earliest due first; mine=true for "
    "the cases whose mediator is the caller",
)
def followup_due_list(
    request: HttpRequest,
    when: Literal["overdue", "today", "upcoming", "all"] = "all",
    mine: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FollowUpDuePage:
    page = followups.followups_due(
        user=request.user,
        when=when,
        mine=mine,
        cursor=cursor,
        size=limit,
    )
    today = timezone.localdate()
    return FollowUpDuePage(
        items=[
            FollowUpDue(
                id=f.pk,
                dispute_id=f.dispute_id,
                case_number=f.dispute.case_number,
                dispute_status=f.dispute.status,
                colour=f.dispute.colour,
                kind=f.kind,
                due_date=f.due_date,
                overdue=f.due_date < today,
                mediator_name=f.dispute.mediator.name if f.dispute.mediator else None,
                item_description=f.item.description if f.item else None,
            )
            for f in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{int:dispute_id}/followups",
    response={200: list[FollowUpOut], **READ_ERRORS},
    summary="The case's follow-up visits, in the order they are due",
)
def followup_list(request: HttpRequest, dispute_id: int) -> list[FollowUpOut]:
    dispute = access_dispute(request.user, dispute_id)
    return [followup_out(f) for f in followups.followups_of(dispute=dispute)]


@router.post(
    "/{int:dispute_id}/followups",
    response={201: FollowUpOut, **MOVE_ERRORS},
    summary="Add a visit by hand to a case that reached an agreement",
)
def followup_add(
    request: HttpRequest, dispute_id: int, payload: FollowUpAddIn
) -> Status[FollowUpOut]:
    dispute = access_dispute(request.user, dispute_id)
    row = followups.followup_add(
        actor=request.user, dispute=dispute, due_date=payload.due_date, note=payload.note
    )
    return Status(201, followup_out(followups.access_followup(request.user, dispute, row.pk)))


@router.post(
    "/{int:dispute_id}/followups/{int:followup_id}/record",
    response={200: FollowUpRecorded, **MOVE_ERRORS},
    summary="Record a visit; not honoured or satisfaction ≤ 2 reopens the case with the "
    "reason; 409 already_recorded",
)
def followup_record(
    request: HttpRequest, dispute_id: int, followup_id: int, payload: FollowUpRecordIn
) -> FollowUpRecorded:
    dispute = access_dispute(request.user, dispute_id)
    row = followups.access_followup(request.user, dispute, followup_id)
    followups.followup_record(
        actor=request.user,
        followup=row,
        honoured=payload.honoured,
        satisfaction=payload.satisfaction,
        comment=payload.comment,
        visited_at=payload.visited_at,
    )
    dispute.refresh_from_db(fields=["status", "version"])
    done = followups.access_followup(request.user, dispute, followup_id)
    return FollowUpRecorded(
        **_followup_fields(done), dispute_status=dispute.status, dispute_version=dispute.version
    )


@router.post(
    "/{int:dispute_id}/followups/{int:followup_id}/cancel",
    response={200: FollowUpOut, **MOVE_ERRORS},
    summary="Cancel a visit not yet made, with the reason",
)
def followup_cancel(
    request: HttpRequest, dispute_id: int, followup_id: int, payload: FollowUpCancelIn
) -> FollowUpOut:
    dispute = access_dispute(request.user, dispute_id)
    row = followups.access_followup(request.user, dispute, followup_id)
    followups.followup_cancel(actor=request.user, followup=row, reason=payload.reason)
    return followup_out(followups.access_followup(request.user, dispute, followup_id))


# --- attachments ---


@router.get(
    "/{int:dispute_id}/attachments",
    response={200: list[AttachmentOut], **READ_ERRORS},
    summary="The case's attachments",
)
def attachment_list(request: HttpRequest, dispute_id: int) -> list[AttachmentOut]:
    dispute = access_dispute(request.user, dispute_id)
    return [attachment_out(a) for a in files.attachments_of(dispute=dispute)]


@router.post(
    "/{int:dispute_id}/attachments",
    response={201: AttachmentOut, **WRITE_ERRORS},
    summary="Upload a file (multipart/form-data: file, kind, description); JPEG, PNG, WebP, "
    "HEIC or PDF by content; size limit FENGQIAO_ATTACHMENT_MAX_BYTES",
)
def attachment_upload(
    request: HttpRequest,
    dispute_id: int,
    file: File[UploadedFile],
    payload: Form[AttachmentIn],
) -> Status[AttachmentOut]:
    dispute = access_dispute(request.user, dispute_id)
    row = files.attachment_upload(
        actor=request.user,
        dispute=dispute,
        upload=file,
        kind=payload.kind,
        description=payload.description,
    )
    return Status(201, attachment_out(files.access_attachment(dispute, row.pk)))


@router.get(
    "/{int:dispute_id}/attachments/{int:attachment_id}",
    response={200: None, **READ_ERRORS},
    url_name="attachment_download_api",
    summary="Download the file under its original name (Content-Disposition, RFC 5987); audited",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def attachment_download(
    request: HttpRequest, dispute_id: int, attachment_id: int
) -> StreamingHttpResponse:
    dispute = access_dispute(request.user, dispute_id)
    row = files.access_attachment(dispute, attachment_id)
    return files.attachment_download(actor=request.user, attachment=row)


@router.delete(
    "/{int:dispute_id}/attachments/{int:attachment_id}",
    response={204: None, **MOVE_ERRORS},
    summary="Delete an attachment (a chief or its uploader) while the case is open",
)
def attachment_delete(request: HttpRequest, dispute_id: int, attachment_id: int) -> Status[None]:
    dispute = access_dispute(request.user, dispute_id)
    row = files.access_attachment(dispute, attachment_id)
    files.attachment_delete(actor=request.user, attachment=row)
    return Status(204, None)


# --- timeline ---


@router.get(
    "/{int:dispute_id}/timeline",
    response={200: TimelinePage, **READ_ERRORS},
    summary="The case's timeline from the audit log, newest first (order=asc: oldest first)",
)
def dispute_timeline(
    request: HttpRequest,
    dispute_id: int,
    order: Literal["desc", "asc"] = "desc",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TimelinePage:
    dispute = access_dispute(request.user, dispute_id)
    steps, page = timeline_page(
        dispute=dispute,
        cursor=cursor,
        size=limit,
        oldest_first=order == "asc",
    )
    return TimelinePage(items=[step_out(s) for s in steps], next_cursor=page.next_cursor)
