"""Dispute pages: the station's registers — the mediator registry, the lawyers' duty rota and
the routing list (分流清单).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fengqiao.areas.models import Area
from fengqiao.core.errors import DomainError
from fengqiao.core.pii import mask_id_number, mask_phone
from fengqiao.disputes import registry, routing
from fengqiao.disputes.choices import Channel, Grade, MediatorKind
from fengqiao.disputes.models import DisputeType, LawyerDuty, Mediator
from fengqiao.disputes.views_routing import _version

# --- station pickers ---


def _pick_station(request: HttpRequest, perm: str) -> tuple[Area, list[Area]]:
    stations = registry.stations_for(request.user, perm)
    if not stations:
        raise PermissionDenied
    wanted = request.GET.get("station") or request.POST.get("station")
    for s in stations:
        if str(s.pk) == wanted:
            return s, stations
    return stations[0], stations


def _form_errors(form: forms.Form, exc: DomainError) -> None:
    for key, errors in exc.fields.items():
        for error in errors:
            form.add_error(key if key in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


# --- the mediator registry ---


def _control(widget: type[forms.Widget] = forms.TextInput) -> forms.Widget:
    return widget(attrs={"class": "form-control"})


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class MediatorForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        choices=MediatorKind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    name = forms.CharField(
        label=gettext_lazy("姓名"),
        max_length=60,
        widget=_control(),
        error_messages={"required": gettext_lazy("请填写调解员姓名。")},
    )
    organisation = forms.CharField(
        label=gettext_lazy("所在单位"), max_length=100, required=False, widget=_control()
    )
    phone = forms.CharField(
        label=gettext_lazy("联系电话"), max_length=40, required=False, widget=_control()
    )
    id_number = forms.CharField(
        label=gettext_lazy("身份证号码"), max_length=40, required=False, widget=_control()
    )
    address = forms.CharField(
        label=gettext_lazy("住址"), max_length=200, required=False, widget=_control()
    )
    specialties = forms.CharField(
        label=gettext_lazy("擅长类型"),
        max_length=400,
        required=False,
        widget=_control(),
        help_text=gettext_lazy("纠纷类型编码，用逗号分隔，例如 01,0903。"),
    )
    user_id = forms.ChoiceField(
        label=gettext_lazy("系统账号"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    active = forms.BooleanField(label=gettext_lazy("在岗"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, station: Area, mediator: Mediator | None, **kw: Any):
        super().__init__(*args, **kw)
        users = registry.user_candidates(station_id=station.pk)
        _choices(self, "user_id").choices = [("", _("（无）"))] + [
            (str(u.pk), u.label) for u in users
        ]
        if mediator is not None:
            keep = _("留空表示不修改（当前：%(v)s）。")
            self.fields["phone"].help_text = keep % {"v": mask_phone(mediator.phone) or "—"}
            self.fields["id_number"].help_text = keep % {
                "v": mask_id_number(mediator.id_number) or "—"
            }

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        for secret in ("phone", "id_number"):
            if not data.get(secret) and "keep_blank" in self.initial:
                data.pop(secret, None)
        return data


@login_required
def mediator_list(request: HttpRequest) -> HttpResponse:
    station, stations = _pick_station(request, "mediator.manage")
    qs = registry.mediators_of(station_id=station.pk)
    kind = request.GET.get("kind") or ""
    if kind in MediatorKind.values:
        qs = qs.filter(kind=kind)
    rows = list(qs.order_by("-active", "kind", "name", "id"))
    counts = routing.open_counts([m.pk for m in rows])
    items = [
        {
            "m": m,
            "phone": mask_phone(m.phone),
            "open": counts.get(m.pk, 0),
        }
        for m in rows
    ]
    return render(
        request,
        "disputes/mediator_list.html",
        {
            "station": station,
            "stations": stations,
            "items": items,
            "kind": kind,
            "kinds": MediatorKind.choices,
        },
    )


@login_required
def mediator_create(request: HttpRequest) -> HttpResponse:
    station, _stations = _pick_station(request, "mediator.manage")
    form = MediatorForm(request.POST or None, station=station, mediator=None)
    if request.method == "POST" and form.is_valid():
        try:
            m = registry.mediator_create(
                actor=request.user, station_id=station.pk, **form.changes()
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("调解员“%(name)s”已登记。") % {"name": m.name})
            return redirect(f"{reverse('disputes:mediator_list')}?station={station.pk}")
    return render(
        request, "disputes/mediator_form.html", {"form": form, "mediator": None, "station": station}
    )


@login_required
def mediator_update(request: HttpRequest, pk: int) -> HttpResponse:
    m = registry.access_mediator(request.user, pk)
    initial = {
        "kind": m.kind,
        "name": m.name,
        "organisation": m.organisation,
        "address": m.address,
        "specialties": ",".join(m.specialties),
        "user_id": str(m.user_id or ""),
        "active": m.active,
        "version": m.version,
        "keep_blank": True,
    }
    form = MediatorForm(request.POST or None, station=m.station, mediator=m, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            registry.mediator_update(
                actor=request.user,
                mediator=m,
                version=form.cleaned_data["version"] or 0,
                **form.changes(),
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("调解员信息已保存。"))
            return redirect(f"{reverse('disputes:mediator_list')}?station={m.station_id}")
    return render(
        request, "disputes/mediator_form.html", {"form": form, "mediator": m, "station": m.station}
    )


@login_required
@require_POST
def mediator_active(request: HttpRequest, pk: int) -> HttpResponse:
    m = registry.access_mediator(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        registry.mediator_set_active(
            actor=request.user, mediator=m, version=_version(request), active=active
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            (_("%(name)s已恢复在岗。") if active else _("%(name)s已停用。")) % {"name": m.name},
        )
    return redirect(f"{reverse('disputes:mediator_list')}?station={m.station_id}")


# --- the duty rota ---


@login_required
def rota(request: HttpRequest) -> HttpResponse:
    station, stations = _pick_station(request, "mediator.manage")
    today = timezone.localdate()
    first, last = registry.month_bounds(request.GET.get("month"), today)
    prev_month = (first.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    next_month = (last + timedelta(days=1)).strftime("%Y-%m")
    return render(
        request,
        "disputes/rota.html",
        {
            "station": station,
            "stations": stations,
            "days": registry.rota_month(station_id=station.pk, first=first, last=last),
            "month": first.strftime("%Y-%m"),
            "prev_month": prev_month,
            "next_month": next_month,
            "today": today,
            "mediators": registry.pool_choices(station_id=station.pk),
            "values": request.GET,
        },
    )


@login_required
@require_POST
def rota_add(request: HttpRequest) -> HttpResponse:
    station, _stations = _pick_station(request, "mediator.manage")
    day = request.POST.get("day", "")
    try:
        m = Mediator.objects.filter(
            station=station, pk=int(request.POST.get("mediator_id") or 0)
        ).first()
        if m is None:
            raise DomainError(_("请选择本所的调解员。"))
        registry.duty_add(
            actor=request.user, mediator_id=m.pk, day=day, note=request.POST.get("note", "")
        )
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("请选择本所的调解员。")))
    else:
        messages.success(request, _("已安排%(name)s于%(day)s值班。") % {"name": m.name, "day": day})
    month = day[:7] if len(day) >= 7 else ""
    return redirect(f"{reverse('disputes:rota')}?station={station.pk}&month={month}")


@login_required
@require_POST
def rota_remove(request: HttpRequest, pk: int) -> HttpResponse:
    duty = LawyerDuty.objects.select_related("mediator").filter(pk=pk).first()
    if duty is None or not registry.can_manage(request.user, duty.station_id):
        raise Http404
    month = duty.day.strftime("%Y-%m")
    station_id = duty.station_id
    registry.duty_remove(actor=request.user, duty=duty)
    messages.success(request, _("已取消该日值班。"))
    return redirect(f"{reverse('disputes:rota')}?station={station_id}&month={month}")


# --- the routing list ---


class RuleForm(forms.Form):
    type_code = forms.ChoiceField(
        label=gettext_lazy("纠纷类型"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text=gettext_lazy("大类包括其下所有小类；留空表示任意类型。"),
    )
    grade = forms.ChoiceField(
        label=gettext_lazy("分级"),
        required=False,
        choices=[("", gettext_lazy("任意分级")), *Grade.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    community_id = forms.ChoiceField(
        label=gettext_lazy("社区/村"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("调解方式"),
        choices=Channel.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    pool = forms.MultipleChoiceField(
        label=gettext_lazy("调解员库"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    use_duty_rota = forms.BooleanField(label=gettext_lazy("加入当日值班律师"), required=False)
    note = forms.CharField(
        label=gettext_lazy("说明"), max_length=200, required=False, widget=_control()
    )
    active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, station: Area, **kw: Any):
        super().__init__(*args, **kw)
        types = DisputeType.objects.filter(active=True).order_by("code")
        _choices(self, "type_code").choices = [("", _("任意类型"))] + [
            (t.code, f"{t.code} {t.name}") for t in types
        ]
        communities = Area.objects.filter(
            station_id=station.pk, kind__in=("community", "village")
        ).order_by("name")
        _choices(self, "community_id").choices = [("", _("任意社区/村"))] + [
            (str(c.pk), c.name) for c in communities
        ]
        _choices(self, "pool").choices = [
            (str(m.pk), f"{m.name}（{m.get_kind_display()}）")
            for m in registry.pool_choices(station_id=station.pk)
        ]

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    station, stations = _pick_station(request, "dispute.route")
    return render(
        request,
        "disputes/rule_list.html",
        {
            "station": station,
            "stations": stations,
            "rules": list(registry.rules_of(station_id=station.pk)),
        },
    )


def _rule_page(request: HttpRequest, form: RuleForm, rule: Any, station: Area) -> HttpResponse:
    return render(
        request, "disputes/rule_form.html", {"form": form, "rule": rule, "station": station}
    )


@login_required
def rule_create(request: HttpRequest) -> HttpResponse:
    station, _stations = _pick_station(request, "dispute.route")
    form = RuleForm(request.POST or None, station=station)
    if request.method == "POST" and form.is_valid():
        try:
            registry.rule_create(actor=request.user, station_id=station.pk, **form.changes())
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("分流规则已添加。"))
            return redirect(f"{reverse('disputes:rule_list')}?station={station.pk}")
    return _rule_page(request, form, None, station)


@login_required
def rule_update(request: HttpRequest, pk: int) -> HttpResponse:
    rule = registry.access_rule(request.user, pk)
    station = Area.objects.get(pk=rule.station_id)
    initial = {
        "type_code": rule.type.code if rule.type is not None else "",
        "grade": rule.grade,
        "community_id": str(rule.community_id or ""),
        "channel": rule.channel,
        "pool": [str(p) for p in rule.pool.values_list("pk", flat=True)],
        "use_duty_rota": rule.use_duty_rota,
        "note": rule.note,
        "active": rule.active,
        "version": rule.version,
    }
    form = RuleForm(request.POST or None, station=station, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            registry.rule_update(
                actor=request.user,
                rule=rule,
                version=form.cleaned_data["version"] or 0,
                **form.changes(),
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("分流规则已保存。"))
            return redirect(f"{reverse('disputes:rule_list')}?station={station.pk}")
    return _rule_page(request, form, rule, station)


urlpatterns: list[URLPattern] = [
    path("mediators/", mediator_list, name="mediator_list"),
    path("mediators/new/", mediator_create, name="mediator_create"),
    path("mediators/<int:pk>/edit/", mediator_update, name="mediator_update"),
    path("mediators/<int:pk>/active/", mediator_active, name="mediator_active"),
    path("rota/", rota, name="rota"),
    path("rota/add/", rota_add, name="rota_add"),
    path("rota/<int:pk>/remove/", rota_remove, name="rota_remove"),
    path("routing-list/", rule_list, name="rule_list"),
    path("routing-list/new/", rule_create, name="rule_create"),
    path("routing-list/<int:pk>/edit/", rule_update, name="rule_update"),
]
