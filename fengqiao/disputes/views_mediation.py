"""Dispute pages: mediation — the case page's mediation section, this part's own page, and the
responses shared by its actions (pages in `views_sessions`, `views_agreements`, `views_outcomes`).

Each action is a POST form of the case page's mediation section; it redirects back to the case
page with a message, or shows the case page again with the refusal and the input kept.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.core.errors import DomainError
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import Consent, SessionState, Status
from fengqiao.disputes.forms_mediation import (
    AgreementHeadForm,
    CancelForm,
    ItemFormSet,
    ReasonForm,
    RecordForm,
    ReferralForm,
    ReferralOutcomeForm,
    SessionForm,
    SignForm,
    WithdrawForm,
)
from fengqiao.disputes.models import Dispute, Mediator
from fengqiao.disputes.referral_package import agreement_document
from fengqiao.disputes.sessions import SESSION_STATUSES

ITEM_FIELDS = {"obligor_id": "obligor", "obligee_id": "obligee"}
BLANK_ITEMS = 2
FAILED_ATTR = "_mediation_failed"


# --- the section ---


def _local_input(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _attended_value(attended: bool | None) -> str:
    return "" if attended is None else ("yes" if attended else "no")


def _party_choices(dispute: Dispute) -> list[tuple[int, str]]:
    return [(p.pk, p.name) for p in dispute.parties.order_by("id")]


def _mediator_choices(dispute: Dispute) -> list[tuple[int, str]]:
    rows = Mediator.objects.filter(station_id=dispute.station_id, active=True).order_by(
        "kind", "name", "id"
    )
    return [(m.pk, f"{m.name}（{m.get_kind_display()}）") for m in rows]


def _failed(request: HttpRequest, action: str, pk: int | None = None) -> dict[str, Any] | None:
    failed: dict[str, Any] | None = getattr(request, FAILED_ATTR, None)
    if failed and failed["action"] == action and failed.get("id") == pk:
        return failed
    return None


def _items_formset(
    parties: list[tuple[int, str]], initial: list[dict[str, Any]], data: Any = None
) -> Any:
    rows = [*initial, *({} for _i in range(BLANK_ITEMS if initial else BLANK_ITEMS + 1))]
    return ItemFormSet(
        data, prefix="items", initial=None if data else rows, form_kwargs={"parties": parties}
    )


def _agreement_rows(
    request: HttpRequest, dispute: Dispute, parties: list[tuple[int, str]], can_handle: bool
) -> list[dict[str, Any]]:
    rows = []
    for agreement in dispute.agreements.prefetch_related("items", "signatures").order_by("id"):
        doc = agreement_document(agreement)
        open_draft = agreement.concluded_at is None and dispute.status == Status.MEDIATING
        signers = []
        for party, signature in doc["signatures"]:
            failed = _failed(request, "sign", agreement.pk)
            form = (
                failed["form"]
                if failed and failed.get("party") == party.pk
                else SignForm(initial={"party": party.pk, "version": agreement.version})
            )
            signers.append({"party": party, "signature": signature, "form": form})
        edit = _failed(request, "agreement_edit", agreement.pk)
        head = formset = None
        if open_draft and can_handle:
            if edit:
                head, formset = edit["form"], edit["formset"]
            else:
                head = AgreementHeadForm(
                    initial={
                        "form": agreement.form,
                        "outcome": agreement.outcome,
                        "facts": agreement.facts,
                        "terms": agreement.terms,
                        "performance": agreement.performance,
                        "version": agreement.version,
                    }
                )
                formset = _items_formset(
                    parties,
                    [
                        {
                            "obligor": str(i.obligor_id),
                            "obligee": str(i.obligee_id or ""),
                            "description": i.description,
                            "amount": str(i.amount),
                            "due_date": i.due_date.isoformat() if i.due_date else "",
                        }
                        for i in agreement.items.all()
                    ],
                )
        declined = [
            s["party"] for s in signers if s["signature"] and s["signature"].state == "declined"
        ]
        rows.append(
            {
                **doc,
                "signers": signers,
                "declined": declined,
                "open": open_draft,
                "head": head,
                "formset": formset,
                "edit_failed": edit,
            }
        )
    return rows


def _session_rows(request: HttpRequest, dispute: Dispute, can_act: bool) -> list[dict[str, Any]]:
    rows = []
    sessions = dispute.sessions.prefetch_related("mediators", "attendance__party").order_by(
        "scheduled_at", "id"
    )
    mediators = _mediator_choices(dispute)
    for s in sessions:
        attendance = list(s.attendance.all())
        labels = [
            (
                a.pk,
                a.party.name
                if a.party is not None
                else f"{a.name}（{a.capacity}）"
                if a.capacity
                else a.name,
            )
            for a in attendance
        ]
        record = cancel = edit = None
        if can_act and s.state != SessionState.CANCELLED:
            failed = _failed(request, "record", s.pk)
            if failed:
                record = failed["form"]
            else:
                initial: dict[str, Any] = {"version": s.version, "minutes": s.minutes}
                initial["held_at"] = _local_input(s.held_at)
                for a in attendance:
                    initial[f"attended_{a.pk}"] = _attended_value(a.attended)
                record = RecordForm(initial=initial, attendance=labels)
        if can_act and s.state == SessionState.SCHEDULED:
            failed = _failed(request, "cancel", s.pk)
            cancel = failed["form"] if failed else CancelForm(initial={"version": s.version})
            failed = _failed(request, "session_edit", s.pk)
            edit = (
                failed["form"]
                if failed
                else SessionForm(
                    initial={
                        "scheduled_at": _local_input(s.scheduled_at),
                        "place": s.place,
                        "mediators": [str(m.pk) for m in s.mediators.all()],
                        "others": "\n".join(
                            f"{a.name}，{a.capacity}" if a.capacity else a.name
                            for a in attendance
                            if a.party_id is None
                        ),
                        "version": s.version,
                    },
                    mediators=mediators,
                    with_parties=False,
                )
            )
        rows.append(
            {
                "session": s,
                "attendance": [
                    (a, label) for a, (_pk, label) in zip(attendance, labels, strict=True)
                ],
                "mediators": [m.name for m in s.mediators.all()],
                "record_form": record,
                "cancel_form": cancel,
                "edit_form": edit,
                "record_failed": bool(_failed(request, "record", s.pk)),
                "edit_failed": bool(_failed(request, "session_edit", s.pk)),
            }
        )
    return rows


def _action_form(request: HttpRequest, action: str, default: Any) -> Any:
    failed = _failed(request, action)
    return failed["form"] if failed else default


def detail_section(request: HttpRequest, dispute: Dispute) -> dict[str, Any]:
    """Return the context of this part's section on the case page."""
    where = {"station_id": dispute.station_id, "area_id": dispute.area_id}
    can_handle = user_can(request.user, "dispute.handle", **where)
    parties = _party_choices(dispute)
    can_session = can_handle and dispute.status in SESSION_STATUSES
    next_statuses = set(dispute.next_statuses()) if can_handle else set()
    v = {"version": dispute.version}
    schedule_form = None
    if can_session:
        schedule_form = _action_form(
            request,
            "schedule",
            SessionForm(
                initial={"parties": [str(pk) for pk, _n in parties]},
                mediators=_mediator_choices(dispute),
                parties=parties,
            ),
        )
    agreements = _agreement_rows(request, dispute, parties, can_handle)
    new_agreement = None
    if can_handle and dispute.status == Status.MEDIATING and not any(a["open"] for a in agreements):
        failed = _failed(request, "agreement_new")
        if failed:
            new_agreement = {"head": failed["form"], "formset": failed["formset"]}
        else:
            new_agreement = {
                "head": AgreementHeadForm(initial={"form": "written", "outcome": "success"}),
                "formset": _items_formset(parties, []),
            }
    actions: dict[str, Any] = {}
    if Status.CLOSED in next_statuses:
        actions["close"] = _action_form(request, "close", ReasonForm(initial=v))
    if Status.FAILED in next_statuses:
        actions["fail"] = _action_form(request, "fail", ReasonForm(initial=v))
    if Status.REFERRED in next_statuses:
        actions["refer"] = _action_form(request, "refer", ReferralForm(initial=v))
    if Status.WITHDRAWN in next_statuses:
        actions["withdraw"] = _action_form(
            request, "withdraw", WithdrawForm(initial=v, parties=parties)
        )
    if Status.TERMINATED in next_statuses:
        actions["terminate"] = _action_form(request, "terminate", ReasonForm(initial=v))
    referrals = []
    for r in dispute.referrals.order_by("id"):
        failed = _failed(request, "referral_outcome", r.pk)
        form = None
        if can_handle:
            form = (
                failed["form"]
                if failed
                else ReferralOutcomeForm(
                    initial={
                        "outcome": r.outcome if r.outcome != "pending" else "accepted",
                        "note": r.outcome_note,
                    }
                )
            )
        referrals.append({"referral": r, "form": form})
    declined_parties = [p for p in dispute.parties.order_by("id") if p.consent == Consent.DECLINED]
    failed_any = getattr(request, FAILED_ATTR, None)
    return {
        "can_handle": can_handle,
        "can_session": can_session,
        "sessions": _session_rows(request, dispute, can_session),
        "schedule_form": schedule_form,
        "schedule_failed": bool(_failed(request, "schedule")),
        "agreements": agreements,
        "new_agreement": new_agreement,
        "new_agreement_failed": bool(_failed(request, "agreement_new")),
        "actions": actions,
        "referrals": referrals,
        "declined_parties": declined_parties,
        "failed": failed_any,
        "never_mediated": dispute.status in {Status.RECEIVED, Status.TRIAGED, Status.ASSIGNED},
    }


# --- responses ---


def _case_url(dispute: Dispute) -> str:
    return reverse("disputes:dispute_detail", kwargs={"pk": dispute.pk}) + "#mediation"


def _done(request: HttpRequest, dispute: Dispute, message: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return HttpResponseRedirect(_case_url(dispute))


def _has_template(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _case_page(request: HttpRequest, dispute: Dispute, status: int = 200) -> HttpResponse:
    """Render the case page (or this part's own page while the case page is missing)."""
    if _has_template("disputes/dispute_detail.html"):
        from fengqiao.disputes import views as case_views

        context = case_views._case_context(request, dispute)
        return render(request, "disputes/dispute_detail.html", context, status=status)
    context = {"dispute": dispute, "s": detail_section(request, dispute)}
    return render(request, "disputes/mediation_page.html", context, status=status)


def _map_errors(
    form: Any, exc: DomainError, formset: Any = None, index: list[int] | None = None
) -> None:
    """Put a service's refusal on the form: per field where there is one, else on top."""
    placed = False
    for key, errors in exc.fields.items():
        parts = key.split(".")
        if formset is not None and index is not None and parts[0] == "items" and len(parts) == 3:
            n, field = int(parts[1]), ITEM_FIELDS.get(parts[2], parts[2])
            if n < len(index):
                target = formset.forms[index[n]]
                if field in target.fields:
                    for e in errors:
                        target.add_error(field, e)
                    placed = True
                    continue
        name = {"mediator_ids": "mediators", "party_ids": "parties", "party_id": "party"}.get(
            key, key
        )
        for e in errors:
            form.add_error(name if name in form.fields else None, e)
        placed = True
    if not placed:
        form.add_error(None, exc.message)


def _refused(
    request: HttpRequest,
    dispute: Dispute,
    action: str,
    form: Any,
    exc: DomainError | None,
    **extra: Any,
) -> HttpResponse:
    """Show the case page again: the refusal on top, the user's input kept in its form."""
    status = 422
    message = _("请修改标出的错误后再提交。")
    if exc is not None:
        status, message = exc.status, exc.message
        _map_errors(form, exc, extra.get("formset"), extra.pop("index", None))
    messages.error(request, message)
    setattr(request, FAILED_ATTR, {"action": action, "form": form, "message": message, **extra})
    fresh = access_dispute(request.user, dispute.pk)
    return _case_page(request, fresh, status=status)


def _version(form: Any) -> int:
    return form.cleaned_data.get("version") or 0


# --- the mediation page (this part alone) ---


@login_required
def mediation_page(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    context = {"dispute": dispute, "s": detail_section(request, dispute)}
    return render(request, "disputes/mediation_page.html", context)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/mediation/", mediation_page, name="mediation"),
]
