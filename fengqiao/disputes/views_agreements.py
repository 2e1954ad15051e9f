"""Dispute pages: the mediation agreement — draft, change, sign and print; POST forms of the
case page's mediation section (see `views_mediation`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fengqiao.core.errors import DomainError
from fengqiao.disputes import agreements
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import Signature
from fengqiao.disputes.forms_mediation import AgreementHeadForm, ItemFormSet, SignForm
from fengqiao.disputes.models import Agreement, Dispute
from fengqiao.disputes.referral_package import agreement_document
from fengqiao.disputes.views_mediation import _case_url, _done, _party_choices, _refused, _version

# --- the agreement ---


def _agreement_input(request: HttpRequest, dispute: Dispute) -> tuple[Any, Any, list[int], bool]:
    """Return the head form, the items formset, the formset index of each item, and validity."""
    head = AgreementHeadForm(request.POST)
    formset = ItemFormSet(
        request.POST, prefix="items", form_kwargs={"parties": _party_choices(dispute)}
    )
    ok = head.is_valid() & formset.is_valid()
    index = [i for i, f in enumerate(formset.forms) if f.is_valid() and not f.is_blank()]
    return head, formset, index, ok


def _agreement_values(head: Any, formset: Any, index: list[int]) -> dict[str, Any]:
    d = head.cleaned_data
    return {
        "form": d["form"],
        "outcome": d["outcome"],
        "facts": d["facts"],
        "terms": d["terms"],
        "performance": d["performance"],
        "items": [formset.forms[i].item() for i in index],
    }


@login_required
@require_POST
def agreement_create(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    head, formset, index, ok = _agreement_input(request, dispute)
    if not ok:
        return _refused(request, dispute, "agreement_new", head, None, formset=formset)
    try:
        agreement = agreements.agreement_create(
            actor=request.user, dispute=dispute, **_agreement_values(head, formset, index)
        )
    except DomainError as exc:
        return _refused(request, dispute, "agreement_new", head, exc, formset=formset, index=index)
    return _done(
        request,
        dispute,
        _("调解协议%(number)s已起草，请各方当事人签署。") % {"number": agreement.number},
    )


def _agreement(dispute: Dispute, aid: int) -> Agreement:
    return get_object_or_404(Agreement.objects.select_related("dispute"), dispute=dispute, pk=aid)


@login_required
@require_POST
def agreement_update(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    agreement = _agreement(dispute, aid)
    head, formset, index, ok = _agreement_input(request, dispute)
    if not ok:
        return _refused(request, dispute, "agreement_edit", head, None, id=aid, formset=formset)
    try:
        agreements.agreement_update(
            actor=request.user,
            agreement=agreement,
            version=_version(head),
            **_agreement_values(head, formset, index),
        )
    except DomainError as exc:
        return _refused(
            request, dispute, "agreement_edit", head, exc, id=aid, formset=formset, index=index
        )
    return _done(request, dispute, _("调解协议已修改。"))


@login_required
@require_POST
def agreement_sign(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    agreement = _agreement(dispute, aid)
    form = SignForm(request.POST)
    party_id = form.data.get("party")
    try:
        party = int(str(party_id))
    except ValueError:
        raise Http404 from None
    if not form.is_valid():
        return _refused(request, dispute, "sign", form, None, id=aid, party=party)
    try:
        signed = agreements.agreement_sign(
            actor=request.user,
            agreement=agreement,
            party=party,
            state=form.cleaned_data["state"],
            note=form.cleaned_data["note"],
            version=_version(form),
        )
    except DomainError as exc:
        return _refused(request, dispute, "sign", form, exc, id=aid, party=party)
    if signed.concluded_at is not None:
        message = _("各方当事人均已签署，调解协议生效，已安排回访。")
    elif form.cleaned_data["state"] == Signature.DECLINED:
        message = _("已记录当事人拒绝签署。协议在其签署前不能生效。")
    else:
        message = _("已记录当事人签署。")
    return _done(request, dispute, message)


@login_required
def agreement_print(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    agreement = _agreement(dispute, aid)
    # The 人民调解协议书 is a Chinese legal document, whatever language the interface speaks.
    with translation.override("zh-hans"):
        context = agreement_document(agreement)
        context["back_url"] = _case_url(dispute)
        return render(request, "disputes/agreement_print.html", context)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/agreements/", agreement_create, name="agreement_create"),
    path("<int:pk>/agreements/<int:aid>/", agreement_update, name="agreement_update"),
    path("<int:pk>/agreements/<int:aid>/sign/", agreement_sign, name="agreement_sign"),
    path("<int:pk>/agreements/<int:aid>/print/", agreement_print, name="agreement_print"),
]
