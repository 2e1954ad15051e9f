"""Dispute pages: how the case ends — close, fail, terminate, withdraw, and the referral (its
outcome, summary and package); POST forms of the case page's mediation section (see
`views_mediation`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fengqiao.core.errors import DomainError
from fengqiao.disputes import agreements, outcomes
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.forms_mediation import (
    ReasonForm,
    ReferralForm,
    ReferralOutcomeForm,
    WithdrawForm,
)
from fengqiao.disputes.models import Dispute, Referral
from fengqiao.disputes.referral_package import package_download, referral_document
from fengqiao.disputes.views_mediation import _case_url, _done, _party_choices, _refused, _version

# --- how the case ends ---


def _reason_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _refused(request, dispute, action, form, None)
    service = {
        "close": agreements.dispute_close,
        "fail": outcomes.dispute_fail,
        "terminate": outcomes.dispute_terminate,
    }[action]
    try:
        service(
            actor=request.user,
            dispute=dispute,
            version=_version(form),
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        return _refused(request, dispute, action, form, exc)
    message = {
        "close": _("案件已结案。"),
        "fail": _("已记为调解不成，可移送有关部门。"),
        "terminate": _("案件已终止。"),
    }[action]
    return _done(request, dispute, message)


@login_required
@require_POST
def dispute_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_action(request, pk, "close")


@login_required
@require_POST
def dispute_fail(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_action(request, pk, "fail")


@login_required
@require_POST
def dispute_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_action(request, pk, "terminate")


@login_required
@require_POST
def dispute_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    form = WithdrawForm(request.POST, parties=_party_choices(dispute))
    if not form.is_valid():
        return _refused(request, dispute, "withdraw", form, None)
    try:
        outcomes.dispute_withdraw(
            actor=request.user,
            dispute=dispute,
            version=_version(form),
            reason=form.cleaned_data["reason"],
            party=form.cleaned_data["party"] or None,
        )
    except DomainError as exc:
        return _refused(request, dispute, "withdraw", form, exc)
    return _done(request, dispute, _("已记录当事人撤回，案件办结。"))


@login_required
@require_POST
def referral_create(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    form = ReferralForm(request.POST)
    if not form.is_valid():
        return _refused(request, dispute, "refer", form, None)
    d = form.cleaned_data
    try:
        outcomes.referral_create(
            actor=request.user,
            dispute=dispute,
            version=_version(form),
            target=d["target"],
            receiver=d["receiver"],
            reason=d["reason"],
        )
    except DomainError as exc:
        return _refused(request, dispute, "refer", form, exc)
    return _done(request, dispute, _("案件已移送。可打印移送摘要或下载移送材料包。"))


def _referral(dispute: Dispute, rid: int) -> Referral:
    return get_object_or_404(Referral.objects.select_related("dispute"), dispute=dispute, pk=rid)


@login_required
@require_POST
def referral_outcome(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    referral = _referral(dispute, rid)
    form = ReferralOutcomeForm(request.POST)
    if not form.is_valid():
        return _refused(request, dispute, "referral_outcome", form, None, id=rid)
    try:
        outcomes.referral_outcome_record(
            actor=request.user,
            referral=referral,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        return _refused(request, dispute, "referral_outcome", form, exc, id=rid)
    return _done(request, dispute, _("已记录移送的处理结果。"))


@login_required
def referral_print(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    referral = _referral(dispute, rid)
    # The referral letter goes to a Chinese body: it is written in Chinese whatever the interface.
    with translation.override("zh-hans"):
        context = referral_document(referral)
        context["back_url"] = _case_url(dispute)
        return render(request, "disputes/referral_print.html", context)


@login_required
def referral_package(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    referral = _referral(dispute, rid)
    with translation.override("zh-hans"):
        filename, data = package_download(actor=request.user, referral=referral)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("<int:pk>/close/", dispute_close, name="mediation_close"),
    path("<int:pk>/fail/", dispute_fail, name="mediation_fail"),
    path("<int:pk>/terminate/", dispute_terminate, name="mediation_terminate"),
    path("<int:pk>/withdraw/", dispute_withdraw, name="mediation_withdraw"),
    path("<int:pk>/referrals/", referral_create, name="referral_create"),
    path("<int:pk>/referrals/<int:rid>/outcome/", referral_outcome, name="referral_outcome"),
    path("<int:pk>/referrals/<int:rid>/print/", referral_print, name="referral_print"),
    path("<int:pk>/referrals/<int:rid>/package.zip", referral_package, name="referral_package"),
]
