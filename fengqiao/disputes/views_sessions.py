"""Dispute pages: mediation sessions — schedule, change, record and cancel; POST forms of the
case page's mediation section (see `views_mediation`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fengqiao.core.errors import DomainError
from fengqiao.disputes import sessions
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.forms_mediation import CancelForm, RecordForm, SessionForm, parse_others
from fengqiao.disputes.models import Dispute, MediationSession
from fengqiao.disputes.views_mediation import (
    _done,
    _mediator_choices,
    _party_choices,
    _refused,
    _version,
)

# --- sessions ---


@login_required
@require_POST
def session_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    form = SessionForm(
        request.POST, mediators=_mediator_choices(dispute), parties=_party_choices(dispute)
    )
    if not form.is_valid():
        return _refused(request, dispute, "schedule", form, None)
    d = form.cleaned_data
    try:
        sessions.session_schedule(
            actor=request.user,
            dispute=dispute,
            scheduled_at=d["scheduled_at"],
            place=d["place"],
            mediator_ids=d["mediators"],
            party_ids=d["parties"],
            others=parse_others(d["others"]),
        )
    except DomainError as exc:
        return _refused(request, dispute, "schedule", form, exc)
    return _done(request, dispute, _("调解会已安排。"))


def _session(dispute: Dispute, sid: int) -> MediationSession:
    return get_object_or_404(
        MediationSession.objects.select_related("dispute"), dispute=dispute, pk=sid
    )


@login_required
@require_POST
def session_update(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    session = _session(dispute, sid)
    form = SessionForm(request.POST, mediators=_mediator_choices(dispute), with_parties=False)
    if not form.is_valid():
        return _refused(request, dispute, "session_edit", form, None, id=sid)
    d = form.cleaned_data
    try:
        sessions.session_update(
            actor=request.user,
            session=session,
            version=_version(form),
            scheduled_at=d["scheduled_at"],
            place=d["place"],
            mediator_ids=d["mediators"],
            others=parse_others(d["others"]),
        )
    except DomainError as exc:
        return _refused(request, dispute, "session_edit", form, exc, id=sid)
    return _done(request, dispute, _("调解会安排已修改。"))


@login_required
@require_POST
def session_record(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    session = _session(dispute, sid)
    labels = [
        (a.pk, a.party.name if a.party is not None else a.name)
        for a in session.attendance.select_related("party")
    ]
    form = RecordForm(request.POST, attendance=labels)
    if not form.is_valid():
        return _refused(request, dispute, "record", form, None, id=sid)
    try:
        sessions.session_record(
            actor=request.user,
            session=session,
            version=_version(form),
            minutes=form.cleaned_data["minutes"],
            held_at=form.cleaned_data["held_at"] or None,
            attendance=form.marks(),
        )
    except DomainError as exc:
        return _refused(request, dispute, "record", form, exc, id=sid)
    return _done(request, dispute, _("调解记录已保存。"))


@login_required
@require_POST
def session_cancel(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    session = _session(dispute, sid)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _refused(request, dispute, "cancel", form, None, id=sid)
    try:
        sessions.session_cancel(
            actor=request.user,
            session=session,
            version=_version(form),
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        return _refused(request, dispute, "cancel", form, exc, id=sid)
    return _done(request, dispute, _("调解会已取消。"))


urlpatterns: list[URLPattern] = [
    path("<int:pk>/sessions/", session_schedule, name="session_schedule"),
    path("<int:pk>/sessions/<int:sid>/", session_update, name="session_update"),
    path("<int:pk>/sessions/<int:sid>/record/", session_record, name="session_record"),
    path("<int:pk>/sessions/<int:sid>/cancel/", session_cancel, name="session_cancel"),
]
