"""Dispute pages: the case file (follow-up visits, attachments, the timeline).

The case page shows this part's section (`_section_casefile.html`); its forms post here and
come back to the case page with a message, or show their own page with the errors and what was
typed. The visits due (today, overdue, upcoming) have a list of their own.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fengqiao.accounts.access import user_can
from fengqiao.core.errors import DomainError, ValidationFailed
from fengqiao.disputes import attachments as files
from fengqiao.disputes import followups
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import AttachmentKind, FollowUpState
from fengqiao.disputes.models import Dispute, FollowUp
from fengqiao.disputes.timeline import timeline_page, timeline_recent

DUE_PAGE_SIZE = 30
TIMELINE_PAGE_SIZE = 50
SECTION_STEPS = 20

SATISFACTION_CHOICES = [
    (5, gettext_lazy("5 非常满意")),
    (4, gettext_lazy("4 满意")),
    (3, gettext_lazy("3 一般")),
    (2, gettext_lazy("2 不满意")),
    (1, gettext_lazy("1 非常不满意")),
]
WHEN_LABELS = {
    "overdue": gettext_lazy("已逾期"),
    "today": gettext_lazy("今天"),
    "upcoming": gettext_lazy("即将到期"),
    "all": gettext_lazy("全部待回访"),
}


# --- forms: they read the input; the services decide ---


class FollowUpRecordForm(forms.Form):
    honoured = forms.ChoiceField(
        label=gettext_lazy("协议履行情况"),
        choices=[("yes", gettext_lazy("已履行")), ("no", gettext_lazy("未履行"))],
        widget=forms.RadioSelect,
    )
    satisfaction = forms.TypedChoiceField(
        label=gettext_lazy("满意度"),
        choices=SATISFACTION_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("回访情况"),
        required=False,
        max_length=followups.COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("协议未履行或不满意（满意度 1–2）时必填，案件将重新办理。"),
    )
    visited_at = forms.DateTimeField(
        label=gettext_lazy("回访时间"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class FollowUpCancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("取消理由"),
        max_length=followups.REASON_MAX,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如：当事人已搬离，无法回访")}),
    )


class FollowUpAddForm(forms.Form):
    due_date = forms.DateField(
        label=gettext_lazy("应回访日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=gettext_lazy("说明"), required=False, max_length=followups.REASON_MAX
    )


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类别"), choices=AttachmentKind.choices)
    file = forms.FileField(label=gettext_lazy("文件"), allow_empty_file=True)
    description = forms.CharField(
        label=gettext_lazy("说明"), required=False, max_length=files.DESCRIPTION_MAX
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "支持 %(types)s，每个文件不超过 %(limit)s；文件类型按内容识别。"
        ) % {"types": files.allowed_text(), "limit": files.limit_text()}
        self.fields["file"].widget.attrs["accept"] = (
            "image/jpeg,image/png,image/webp,image/heic,.heic,application/pdf"
        )


def _add_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's refusal on the form: per field where it has one, else on top."""
    for key, errors in exc.fields.items():
        for error in errors:
            form.add_error(key if key in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


# --- the case page's section ---


def case_url(dispute: Dispute, anchor: str = "casefile") -> str:
    return reverse("disputes:dispute_detail", args=[dispute.pk]) + f"#{anchor}"


def detail_section(request: HttpRequest, dispute: Dispute) -> dict[str, Any]:
    """Return the context of this part's section on the case page."""
    user = request.user
    can_handle = files.can_upload(user, dispute)
    rows = followups.followups_of(dispute=dispute)
    attachments = files.attachments_of(dispute=dispute)
    steps, more = timeline_recent(dispute=dispute, limit=SECTION_STEPS)
    today = timezone.localdate()
    return {
        "followups": [
            {
                "row": f,
                "waiting": f.state == FollowUpState.SCHEDULED,
                "overdue": f.state == FollowUpState.SCHEDULED and f.due_date < today,
                "due_today": f.state == FollowUpState.SCHEDULED and f.due_date == today,
            }
            for f in rows
        ],
        "can_handle": can_handle,
        "can_add_followup": can_handle and any(f.agreement_id for f in rows),
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "today": today.isoformat(),
        "satisfaction_choices": SATISFACTION_CHOICES,
        "attachments": [
            {"row": a, "can_delete": files.can_delete(user, a, dispute)} for a in attachments
        ],
        "upload_form": AttachmentForm(),
        "kinds": AttachmentKind.choices,
        "steps": steps,
        "more_steps": more,
    }


# --- follow-ups ---


def _when(request: HttpRequest) -> str:
    when = request.GET.get("when", "all")
    return when if when in followups.WHEN else "all"


@login_required
def followup_list(request: HttpRequest) -> HttpResponse:
    """The visits to make: overdue, today, upcoming; the station's or mine."""
    if not user_can(request.user, "dispute.view"):
        raise PermissionDenied
    when = _when(request)
    mine = request.GET.get("mine") == "1"
    page = followups.followups_due(
        user=request.user,
        when=when,
        mine=mine,
        cursor=request.GET.get("cursor"),
        size=DUE_PAGE_SIZE,
    )
    today = timezone.localdate()
    context = {
        "page": page,
        "rows": [
            {"row": f, "overdue": f.due_date < today, "today": f.due_date == today}
            for f in page.items
        ],
        "when": when,
        "mine": mine,
        "tabs": list(WHEN_LABELS.items()),
    }
    return render(request, "disputes/followup_list.html", context)


def _followup(request: HttpRequest, pk: int, followup_id: int) -> tuple[Dispute, FollowUp]:
    dispute = access_dispute(request.user, pk)
    return dispute, followups.access_followup(request.user, dispute, followup_id)


def _done_message(dispute: Dispute, row: FollowUp) -> str:
    if row.reopened:
        return _("回访已记录。协议未履行或当事人不满意，案件已重新办理。")
    if row.honoured is False or (row.satisfaction or 5) <= followups.DISSATISFIED_MAX:
        return _("回访已记录。案件当前为“%(status)s”，未变更状态。") % {
            "status": dispute.get_status_display()
        }
    return _("回访已记录。")


@login_required
def followup_record(request: HttpRequest, pk: int, followup_id: int) -> HttpResponse:
    """Record a visit: the form page, and the target of the case page's inline form."""
    dispute, row = _followup(request, pk, followup_id)
    if row.state != FollowUpState.SCHEDULED:
        messages.info(request, _("该回访已记录或已取消。"))
        return redirect(case_url(dispute))
    form = FollowUpRecordForm(
        request.POST or None,
        initial={"visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = followups.followup_record(
                actor=request.user,
                followup=row,
                honoured=data["honoured"],
                satisfaction=data["satisfaction"],
                comment=data["comment"],
                visited_at=data["visited_at"],
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(case_url(dispute))
        else:
            dispute.refresh_from_db()
            level = messages.WARNING if done.reopened else messages.SUCCESS
            messages.add_message(request, level, _done_message(dispute, done))
            return redirect(case_url(dispute))
    status = 422 if request.method == "POST" else 200
    context = {
        "dispute": dispute,
        "row": row,
        "form": form,
        "cancel_form": FollowUpCancelForm(),
        "can_handle": files.can_upload(request.user, dispute),
    }
    return render(request, "disputes/followup_record.html", context, status=status)


@login_required
@require_POST
def followup_cancel(request: HttpRequest, pk: int, followup_id: int) -> HttpResponse:
    dispute, row = _followup(request, pk, followup_id)
    form = FollowUpCancelForm(request.POST)
    if form.is_valid():
        try:
            followups.followup_cancel(
                actor=request.user, followup=row, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(case_url(dispute))
        else:
            messages.success(request, _("回访已取消。"))
            return redirect(case_url(dispute))
    context = {
        "dispute": dispute,
        "row": row,
        "form": FollowUpRecordForm(
            initial={"visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
        ),
        "cancel_form": form,
        "can_handle": files.can_upload(request.user, dispute),
    }
    return render(request, "disputes/followup_record.html", context, status=422)


@login_required
def followup_add(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    form = FollowUpAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            followups.followup_add(
                actor=request.user,
                dispute=dispute,
                due_date=form.cleaned_data["due_date"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(case_url(dispute))
        else:
            messages.success(request, _("已增加一次回访。"))
            return redirect(case_url(dispute))
    status = 422 if request.method == "POST" else 200
    return render(
        request, "disputes/followup_add.html", {"dispute": dispute, "form": form}, status=status
    )


# --- attachments ---


@login_required
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a file to the case: the form page, and the target of the case page's form."""
    dispute = access_dispute(request.user, pk)
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        # The service checks everything, the file above all: the form only reads the fields.
        try:
            row = files.attachment_upload(
                actor=request.user,
                dispute=dispute,
                upload=request.FILES.get("file"),
                kind=request.POST.get("kind", ""),
                description=request.POST.get("description", ""),
            )
        except ValidationFailed as exc:
            form = AttachmentForm(request.POST)
            form.is_valid()
            form.errors.pop("file", None)
            _add_errors(form, exc)
        else:
            messages.success(request, _("附件“%(name)s”已上传。") % {"name": row.name})
            return redirect(case_url(dispute, "case-attachments"))
    status = 422 if request.method == "POST" else 200
    return render(
        request, "disputes/attachment_form.html", {"dispute": dispute, "form": form}, status=status
    )


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> StreamingHttpResponse:
    dispute = access_dispute(request.user, pk)
    row = files.access_attachment(dispute, attachment_id)
    return files.attachment_download(actor=request.user, attachment=row)


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    row = files.access_attachment(dispute, attachment_id)
    try:
        files.attachment_delete(actor=request.user, attachment=row)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("附件“%(name)s”已删除。") % {"name": row.name})
    return redirect(case_url(dispute, "case-attachments"))


# --- timeline ---


@login_required
def dispute_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's whole timeline, newest first (or oldest first), a page at a time."""
    dispute = access_dispute(request.user, pk)
    oldest = request.GET.get("order") == "asc"
    steps, page = timeline_page(
        dispute=dispute,
        cursor=request.GET.get("cursor"),
        size=TIMELINE_PAGE_SIZE,
        oldest_first=oldest,
    )
    context = {"dispute": dispute, "steps": steps, "page": page, "oldest": oldest}
    return render(request, "disputes/timeline.html", context)


urlpatterns: list[URLPattern] = [
    path("followups/", followup_list, name="followup_list"),
    path("<int:pk>/followups/add/", followup_add, name="followup_add"),
    path(
        "<int:pk>/followups/<int:followup_id>/record/",
        followup_record,
        name="followup_record",
    ),
    path(
        "<int:pk>/followups/<int:followup_id>/cancel/",
        followup_cancel,
        name="followup_cancel",
    ),
    path("<int:pk>/attachments/", attachment_upload, name="attachment_upload"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/",
        attachment_download,
        name="attachment_download",
    ),
    path(
        "<int:pk>/attachments/<int:attachment_id>/delete/",
        attachment_delete,
        name="attachment_delete",
    ),
    path("<int:pk>/timeline/", dispute_timeline, name="dispute_timeline"),
]
