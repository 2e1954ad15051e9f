"""Dispute pages: the lists (queues, filters, search, export) and the case page.

The case page is a shell: its header, facts, parties and the moves on the case are built
here; each part of the work (intake, routing, mediation, …) adds a section through
`views_<part>.detail_section` and its template `disputes/_section_<part>.html`.
"""

from __future__ import annotations

import tempfile
from importlib import import_module
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fengqiao.accounts.access import user_can
from fengqiao.areas.models import Area
from fengqiao.core.errors import Conflict, DomainError
from fengqiao.core.pagination import Page, keyset_page
from fengqiao.core.pii import mask_id_number, mask_phone
from fengqiao.disputes import selectors, services
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import Colour, Status, ThreatState
from fengqiao.disputes.exports import ExportTooLarge
from fengqiao.disputes.exports import dispute_export as write_export
from fengqiao.disputes.forms import (
    TABS,
    ConsentForm,
    DisputeFilterForm,
    OverrideForm,
    ThreatReviewForm,
    TransitionForm,
    community_of,
    filter_audit,
)
from fengqiao.disputes.models import REASON_REQUIRED, Dispute, DisputeLink, DisputeType, Party

PAGE_SIZE = 30
# The colour links count open cases up to this many, shown as "1000+".
COUNT_LIMIT = 1000
# The parts that add a section to the case page, in the order the page shows them.
# Their modules are imported when the page is built: they may import this one.
SECTION_PARTS = ("intake", "routing", "mediation", "casefile", "screening")
# What a list row reads: never the narrative, the search text or the areas' boundaries.
ROW_COLUMNS = (
    "id",
    "case_number",
    "station_id",
    "community__name",
    "area__name",
    "type__code",
    "type__name",
    "mediator__name",
    "status",
    "grade",
    "colour",
    "threat_state",
    "supervision",
    "deadline",
    "reported_at",
    "address",
    "version",
)


def _require_view(request: HttpRequest) -> None:
    if not user_can(request.user, "dispute.view"):
        raise PermissionDenied


# --- lists ---


def _filter_form(request: HttpRequest) -> DisputeFilterForm:
    """Return the filter form bound to the query string, checked; choices are what the user sees."""
    areas = Area.objects.visible_to(request.user, "dispute.view")
    grids = areas.grids().select_related("parent").order_by("path")
    community_id = community_of(request.GET)
    if community_id:
        grids = grids.filter(parent_id=community_id)
    form = DisputeFilterForm(
        request.GET or None,
        types=list(DisputeType.objects.only("id", "code", "name", "parent_id").order_by("code")),
        communities=list(areas.communities().order_by("path")),
        grids=list(grids),
    )
    form.is_valid()
    return form


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    form = _filter_form(request)
    page: Any
    if form.is_bound and form.errors:
        # A filter that cannot be read lists nothing: listing everything would look like an
        # answer to the question the user asked.
        page = Page(items=[], next_cursor=None, has_next=False)
    else:
        parties = Prefetch(
            "parties", queryset=Party.objects.only("id", "dispute_id", "name", "role")
        )
        qs = (
            selectors.dispute_search(user=request.user, **form.filters())
            .select_related("type", "community", "area", "mediator")
            .only(*ROW_COLUMNS)
            .prefetch_related(parties)
        )
        page = keyset_page(qs, order=("-id",), cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    tab = form.current_tab if not form.errors.get("tab") else "open"
    counts = selectors.dispute_colour_counts(user=request.user, limit=COUNT_LIMIT)
    colours = [
        (value, label, f"{COUNT_LIMIT}+" if counts[value] >= COUNT_LIMIT else counts[value])
        for value, label in Colour.choices
    ]
    context = {
        "form": form,
        "page": page,
        "tab": tab,
        "tabs": TABS,
        "colours": colours,
        "current_colour": form.filters().get("colour") if not form.errors else None,
        "narrowed": form.is_bound and (bool(form.errors) or form.narrowed()),
        "today": timezone.localdate(),
        "can_intake": user_can(request.user, "dispute.intake"),
    }
    return render(request, "disputes/dispute_list.html", context)


@login_required
def dispute_export(request: HttpRequest) -> FileResponse | HttpResponseRedirect:
    _require_view(request)
    form = _filter_form(request)
    back = f"{reverse('disputes:dispute_list')}?{request.GET.urlencode()}"
    if form.is_bound and form.errors:
        # The list page shows what is wrong with the filters; export nothing meanwhile.
        return redirect(back)
    filters = form.filters()
    # A temporary file, not memory: FileResponse closes it when the download ends.
    fh = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        write_export(
            actor=request.user,
            fh=fh,
            filters=filters,
            audit_filters=filter_audit({"tab": form.current_tab, **filters}),
        )
        fh.seek(0)
    except ExportTooLarge as exc:
        fh.close()
        messages.error(request, exc.message)
        return redirect(back)
    except BaseException:
        fh.close()
        raise
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        fh,
        as_attachment=True,
        filename=f"矛盾纠纷-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- the case page ---


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _sections(request: HttpRequest, dispute: Dispute) -> tuple[dict[str, Any], list[Any]]:
    """Return each part's section context and the (template, context) pairs to include.

    A part whose template does not exist yet is left out, and its section is not computed.
    """
    sections: dict[str, Any] = {}
    included: list[tuple[str, dict[str, Any]]] = []
    for part in SECTION_PARTS:
        name = f"disputes/_section_{part}.html"
        if not _template_exists(name):
            continue
        module = import_module(f"fengqiao.disputes.views_{part}")
        sections[part] = module.detail_section(request, dispute)
        included.append((name, sections[part]))
    return sections, included


def _links(dispute: Dispute, user: Any) -> list[dict[str, Any]]:
    """Return the repeats of the case, both ways; the other case links only if visible."""
    rows: list[dict[str, Any]] = []
    earlier = DisputeLink.objects.filter(dispute=dispute).select_related("other")
    later = DisputeLink.objects.filter(other=dispute).select_related("dispute")
    for link in earlier:
        rows.append({"link": link, "case": link.other, "direction": "earlier"})
    for link in later:
        rows.append({"link": link, "case": link.dispute, "direction": "later"})
    ids = [r["case"].pk for r in rows]
    visible = (
        set(Dispute.objects.visible_to(user).filter(pk__in=ids).values_list("id", flat=True))
        if ids
        else set()
    )
    for r in rows:
        r["visible"] = r["case"].pk in visible
    return rows


# Moves made by their own step on the case page (assignment, signatures, referral), not here.
OWN_STEP = frozenset({Status.ASSIGNED, Status.AGREED, Status.REFERRED})


def _moves(
    dispute: Dispute, can_handle: bool, failed: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Return the status moves the user may make, each with its form (the failed one bound)."""
    if not can_handle:
        return []
    labels = dict(Status.choices)
    moves = []
    for to in dispute.next_statuses():
        if to in OWN_STEP:
            continue
        form: TransitionForm
        if failed and failed["action"] == "transition" and failed.get("to") == to:
            form = failed["form"]
        else:
            form = TransitionForm(initial={"to": to, "version": dispute.version})
        moves.append(
            {
                "to": to,
                "label": labels[to],
                "needs_reason": to in REASON_REQUIRED,
                "form": form,
                "failed": bool(
                    failed and failed["action"] == "transition" and failed.get("to") == to
                ),
            }
        )
    return moves


def _parties(
    dispute: Dispute, can_handle: bool, failed: dict[str, Any] | None
) -> list[dict[str, Any]]:
    rows = []
    for p in dispute.parties.all().order_by("id"):
        form: ConsentForm | None = None
        if can_handle:
            if failed and failed["action"] == "consent" and failed.get("party_id") == p.pk:
                form = failed["form"]
            else:
                form = ConsentForm(initial={"consent": p.consent, "note": p.consent_note})
        if form is not None:
            # Several parties' forms on one page: their fields need ids of their own.
            form.auto_id = f"consent-{p.pk}-%s"
        rows.append(
            {
                "party": p,
                "masked_phone": mask_phone(p.phone),
                "masked_id": mask_id_number(p.id_number),
                "form": form,
            }
        )
    return rows


def _case_context(
    request: HttpRequest, dispute: Dispute, failed: dict[str, Any] | None = None
) -> dict[str, Any]:
    where = {"station_id": dispute.station_id, "area_id": dispute.area_id}
    can_handle = user_can(request.user, "dispute.handle", **where)
    can_override = user_can(request.user, "dispute.override", **where)
    today = timezone.localdate()
    override_form = None
    if can_override and not dispute.finished:
        if failed and failed["action"] == "override":
            override_form = failed["form"]
        else:
            override_form = OverrideForm(
                initial={
                    "grade": dispute.grade,
                    "colour": dispute.colour,
                    "version": dispute.version,
                }
            )
    threat_note = ""
    if failed and failed["action"] == "threat":
        threat_note = failed["form"].data.get("note", "")
    threat_pending = dispute.threat_state == ThreatState.PENDING
    if failed is not None:
        # The form the user filled may be gone from the page (the case moved on meanwhile):
        # then what they typed is shown with the error, so nothing is lost.
        action = failed["action"]
        shown = {
            "transition": can_handle and failed.get("to") in dispute.next_statuses(),
            "override": override_form is not None,
            "threat": threat_pending,
            "consent": can_handle,
        }.get(action, False)
        data = failed["form"].data
        failed["kept"] = "" if shown else str(data.get("reason") or data.get("note") or "").strip()
    sections, included = _sections(request, dispute)
    grid = dispute.area
    return {
        "dispute": dispute,
        "reasons": dispute.reason_texts(),
        "overdue": bool(dispute.deadline and dispute.deadline < today and not dispute.finished),
        "today": today,
        "parties": _parties(dispute, can_handle, failed),
        "links": _links(dispute, request.user),
        "moves": _moves(dispute, can_handle, failed),
        "can_handle": can_handle,
        "can_override": can_override,
        "can_reveal": user_can(request.user, "pii.reveal", **where),
        "override_form": override_form,
        "threat_pending": threat_pending,
        "threat_note": threat_note,
        "failed": failed,
        "sections": sections,
        "section_list": included,
        "grid_boundary": grid.boundary if dispute.lat is not None else None,
    }


@login_required
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    return render(request, "disputes/dispute_detail.html", _case_context(request, dispute))


def _refused(
    request: HttpRequest, pk: int, action: str, form: Any, exc: DomainError | None, **extra: Any
) -> HttpResponse:
    """Show the case page again with the refusal and the user's input kept.

    After a Conflict the form moves to the newest version: saving again is then a deliberate
    act after seeing what the other person changed.
    """
    dispute = access_dispute(request.user, pk)
    status = 422
    message = _("请修改标出的错误后再提交。")
    if exc is not None:
        message = exc.message
        status = exc.status
        if isinstance(exc, Conflict) and "version" in form.fields:
            data = form.data.copy()
            data["version"] = str(dispute.version)
            form = type(form)(data)
            form.is_valid()
        for key, errors in exc.fields.items():
            name = key if key in form.fields else None
            for error in errors:
                if name is not None and error not in form.errors.get(name, []):
                    form.add_error(name, error)
    failed = {"action": action, "form": form, "message": message, **extra}
    if isinstance(exc, Conflict):
        failed["conflict"] = True
    return render(
        request,
        "disputes/dispute_detail.html",
        _case_context(request, dispute, failed),
        status=status,
    )


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return redirect("disputes:dispute_detail", pk=pk)


@login_required
@require_POST
def dispute_transition(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    form = TransitionForm(request.POST)
    to = request.POST.get("to", "")
    if not form.is_valid():
        return _refused(request, pk, "transition", form, None, to=to)
    try:
        services.dispute_transition(
            actor=request.user,
            dispute=dispute,
            to=form.cleaned_data["to"],
            version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        return _refused(request, pk, "transition", form, exc, to=to)
    label = dict(Status.choices)[form.cleaned_data["to"]]
    return _done(request, pk, _("案件状态已变更为“%(status)s”。") % {"status": label})


@login_required
@require_POST
def dispute_override(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, "override", form, None)
    try:
        services.dispute_triage_override(
            actor=request.user,
            dispute=dispute,
            grade=form.cleaned_data["grade"],
            colour=form.cleaned_data["colour"],
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except DomainError as exc:
        return _refused(request, pk, "override", form, exc)
    return _done(request, pk, _("分级和预警颜色已调整。"))


@login_required
@require_POST
def dispute_threat_review(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    form = ThreatReviewForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, "threat", form, None)
    confirmed = form.cleaned_data["decision"] == "confirm"
    try:
        services.dispute_threat_review(
            actor=request.user,
            dispute=dispute,
            confirmed=confirmed,
            version=form.cleaned_data["version"],
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        return _refused(request, pk, "threat", form, exc)
    message = _("已确认威胁或暴力字词。") if confirmed else _("已排除威胁或暴力字词。")
    return _done(request, pk, message)


@login_required
@require_POST
def party_consent(request: HttpRequest, pk: int, party_id: int) -> HttpResponse:
    dispute = access_dispute(request.user, pk)
    party = Party.objects.filter(dispute=dispute, pk=party_id).first()
    if party is None:
        raise Http404
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, "consent", form, None, party_id=party.pk)
    try:
        services.party_consent_record(
            actor=request.user,
            party=party,
            consent=form.cleaned_data["consent"],
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        return _refused(request, pk, "consent", form, exc, party_id=party.pk)
    return _done(request, pk, _("已记录%(name)s的调解意愿。") % {"name": party.name})


urlpatterns: list[URLPattern] = [
    path("", dispute_list, name="dispute_list"),
    path("export.xlsx", dispute_export, name="dispute_export"),
    path("<int:pk>/", dispute_detail, name="dispute_detail"),
    path("<int:pk>/transition/", dispute_transition, name="dispute_transition"),
    path("<int:pk>/override/", dispute_override, name="dispute_override"),
    path("<int:pk>/threat-review/", dispute_threat_review, name="dispute_threat_review"),
    path("<int:pk>/parties/<int:party_id>/consent/", party_consent, name="dispute_party_consent"),
]
