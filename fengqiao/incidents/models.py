"""Incidents (警情): the 110 code tree, the incident log, its rollups and imports."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fengqiao.core.models import BaseModel
from fengqiao.core.pii import EncryptedTextField
from fengqiao.incidents.choices import Disposition, Linkage, Source, Status
from fengqiao.incidents.querysets import IncidentQuerySet


class IncidentCategory(models.Model):
    """A node of the 110 code tree: a class (100000), a category (100100) or a subcategory."""

    code = models.CharField(_("编码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=80)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    # The top-level class (刑事, 治安, …) of this node; a class is its own.
    class_code = models.CharField(_("大类编码"), max_length=6)
    sort = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("警情类别")
        verbose_name_plural = _("警情类别")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_class(self) -> bool:
        return self.parent_id is None


class StationIncidentConfig(models.Model):
    """A station's settings for incidents: repeats, the briefing's hour, hotspot resolution."""

    station = models.OneToOneField(
        "areas.Area", on_delete=models.CASCADE, related_name="+", verbose_name=_("派出所")
    )
    # An address or caller with at least `repeat_min` incidents within `repeat_days` is flagged.
    repeat_min = models.PositiveSmallIntegerField(_("重复报警次数阈值"), default=3)
    repeat_days = models.PositiveSmallIntegerField(_("重复报警统计天数"), default=30)
    briefing_hour = models.PositiveSmallIntegerField(_("晨会研判生成时刻（时）"), default=7)
    briefing_minute = models.PositiveSmallIntegerField(_("晨会研判生成时刻（分）"), default=0)
    hotspot_resolution = models.PositiveSmallIntegerField(_("热点网格分辨率（H3）"), default=9)

    class Meta:
        verbose_name = _("警情设置")
        verbose_name_plural = _("警情设置")
        constraints = [
            models.CheckConstraint(condition=Q(repeat_min__gte=2), name="incident_repeat_min"),
            models.CheckConstraint(condition=Q(repeat_days__gte=1), name="incident_repeat_days"),
            models.CheckConstraint(condition=Q(briefing_hour__lte=23), name="briefing_hour"),
            models.CheckConstraint(condition=Q(briefing_minute__lte=59), name="briefing_minute"),
            models.CheckConstraint(
                condition=Q(hotspot_resolution__gte=5) & Q(hotspot_resolution__lte=12),
                name="hotspot_resolution_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.station_id)


# Where an incident may go from each state. Closing needs a disposition (services).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RECEIVED: frozenset({Status.DISPATCHED, Status.CLOSED}),
    Status.DISPATCHED: frozenset({Status.ON_SCENE, Status.CLOSED}),
    Status.ON_SCENE: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class Incident(BaseModel):
    """An incident (警情): a call or a finding, dispatched, attended and closed with a code."""

    # The FK columns led by a composite index below carry no index of their own: every
    # index on this table is paid again by each of a million imported rows.
    station = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("派出所"),
        db_index=False,
    )
    community = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("社区/村"),
        db_index=False,
    )
    area = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("网格"),
        db_index=False,
    )
    case_number = models.CharField(_("警情编号"), max_length=24)
    # The number in the 110 system or the export it came from (接警单号); "" when entered here.
    external_id = models.CharField(_("接警单号"), max_length=40, blank=True)

    source = models.CharField(_("警情来源"), max_length=20, choices=Source.choices)
    category = models.ForeignKey(
        IncidentCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("警情类别")
    )
    # Copied from the category at intake: the rollups and filters need no join.
    class_code = models.CharField(_("大类编码"), max_length=6, editable=False)
    reported_at = models.DateTimeField(_("报警时间"))
    occurred_at = models.DateTimeField(_("发生时间"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # The address folded for matching repeats (simplified, no spaces or punctuation).
    address_key = models.CharField(max_length=200, blank=True, editable=False)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    narrative = models.TextField(_("简要警情"))

    caller_name = EncryptedTextField(_("报警人"), blank=True, default="")
    caller_phone = EncryptedTextField(_("报警电话"), blank=True, default="")
    # Keyed digest of the caller's phone, for repeats without decrypting; "" when unknown.
    caller_bidx = models.CharField(max_length=32, blank=True, editable=False)

    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处警民警"),
        db_index=False,  # partial index below: most incidents name no officer
    )
    # The team sent, by name, until the patrol alliance keeps teams of its own.
    team = models.CharField(_("处警队伍"), max_length=60, blank=True)
    dispatched_at = models.DateTimeField(_("派警时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("处结时间"), null=True, blank=True)
    disposition = models.CharField(
        _("处置结果"), max_length=16, choices=Disposition.choices, blank=True
    )
    linkage = models.CharField(_("联动单位"), max_length=16, choices=Linkage.choices, blank=True)
    disposition_note = models.TextField(_("处置情况"), blank=True)
    # False only for an invalid call (无效警情); counted apart in the figures.
    valid = models.BooleanField(_("有效警情"), default=True)
    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("转入纠纷"),
        db_index=False,  # partial index below: few incidents become disputes
    )

    # Repeats (services): set when the address or the caller reached the station's threshold.
    repeat_address = models.BooleanField(_("重复报警地址"), default=False)
    repeat_caller = models.BooleanField(_("重复报警人"), default=False)
    repeat_reasons = models.JSONField(_("重复报警依据"), default=list, blank=True)

    import_job = models.ForeignKey(
        "incidents.ImportJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("导入批次"),
    )
    intake_key = models.CharField(max_length=64, blank=True, editable=False)
    search_text = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)

    audit_redacted: ClassVar[frozenset[str]] = frozenset(
        {"caller_name", "caller_phone", "caller_bidx"}
    )
    pii_fields: ClassVar[dict[str, str]] = {"caller_name": "name", "caller_phone": "phone"}
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = TRANSITIONS

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("警情")
        verbose_name_plural = _("警情")
        indexes = [
            models.Index(fields=["station", "id"], name="incident_station"),
            models.Index(fields=["station", "reported_at"], name="incident_station_reported"),
            models.Index(fields=["station", "status", "id"], name="incident_station_status"),
            models.Index(fields=["station", "class_code", "id"], name="incident_station_class"),
            models.Index(fields=["community", "id"], name="incident_community"),
            models.Index(fields=["area", "id"], name="incident_area"),
            models.Index(fields=["area", "reported_at"], name="incident_area_reported"),
            # Repeats look back a few weeks at one address or one caller of the station.
            models.Index(fields=["station", "address_key", "reported_at"], name="incident_address"),
            models.Index(fields=["station", "caller_bidx", "reported_at"], name="incident_caller"),
            models.Index(
                fields=["officer"], name="incident_officer", condition=Q(officer__isnull=False)
            ),
            models.Index(
                fields=["dispute"], name="incident_dispute", condition=Q(dispute__isnull=False)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "case_number"], name="incident_case_number_unique"
            ),
            models.UniqueConstraint(
                fields=["station", "external_id"],
                condition=~Q(external_id=""),
                name="incident_external_id_unique",
            ),
            models.UniqueConstraint(
                fields=["station", "intake_key"],
                condition=~Q(intake_key=""),
                name="incident_intake_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(occurred_at__lte=models.F("reported_at")),
                name="incident_occurred_before_reported",
            ),
        ]

    def __str__(self) -> str:
        return self.case_number


# The rollups' keys: see IncidentDaily.
ROLLUP_FK: dict[str, Any] = {"db_constraint": False, "db_index": False}


class IncidentDaily(models.Model):
    """One station-day's incidents of one grid and one category (the rollup every figure reads).

    Counted on the day reported (接警日期), in the station's time zone. Rebuilt from the
    incident table by `fengqiao rollup_incidents`; kept current after every write.
    """

    # Derived rows, rebuilt in bulk (millions at a time): no constraint checks, and no index
    # beyond the key; the unique key's leading station column serves the station's reads.
    station = models.ForeignKey(
        "areas.Area", on_delete=models.CASCADE, related_name="+", **ROLLUP_FK
    )
    day = models.DateField()
    community = models.ForeignKey(
        "areas.Area", on_delete=models.CASCADE, related_name="+", **ROLLUP_FK
    )
    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+", **ROLLUP_FK)
    category = models.ForeignKey(
        IncidentCategory, on_delete=models.CASCADE, related_name="+", **ROLLUP_FK
    )
    class_code = models.CharField(max_length=6)
    count = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("警情日汇总")
        verbose_name_plural = _("警情日汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "day", "area", "category"], name="incidentdaily_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.day} {self.area_id} {self.category_id}"


class IncidentHourly(models.Model):
    """One station-day's incidents of one hour and one class: the hour-by-weekday heatmap."""

    station = models.ForeignKey(
        "areas.Area", on_delete=models.CASCADE, related_name="+", **ROLLUP_FK
    )
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    class_code = models.CharField(max_length=6)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("警情时段汇总")
        verbose_name_plural = _("警情时段汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "day", "hour", "class_code"], name="incidenthourly_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.day} {self.hour} {self.class_code}"


class IncidentMonthly(models.Model):
    """One station-month's marginal counts along one dimension (what the dashboards read).

    dim is "category" (key: category id), "class" (the class code as a number), "grid" (area
    id), "community" (area id) or
    "hour_dow" (key: ISO weekday × 24 + hour, weekday 0 = Monday; valid is not kept there).
    Derived from the daily and hourly rows by `incidents.rollups`.
    """

    station = models.ForeignKey(
        "areas.Area", on_delete=models.CASCADE, related_name="+", **ROLLUP_FK
    )
    month = models.DateField()
    dim = models.CharField(max_length=12)
    key = models.IntegerField()
    count = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("警情月汇总")
        verbose_name_plural = _("警情月汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "dim", "month", "key"], name="incidentmonthly_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.month} {self.dim} {self.key}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("等待中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("有错误，未导入")
    CANCELLED = "cancelled", _("已取消")


class ImportJob(BaseModel):
    """One upload of incident history (a 110 export), imported whole or not at all."""

    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    original_name = models.CharField(_("文件名"), max_length=200)
    # Where the upload waits for the worker, under the media directory; removed when done.
    stored_path = models.CharField(max_length=300, editable=False)
    file_format = models.CharField(_("格式"), max_length=8)
    encoding = models.CharField(_("编码"), max_length=20, blank=True)
    mapping = models.JSONField(_("列对应"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    imported_rows = models.PositiveIntegerField(_("已导入行数"), default=0)
    error_count = models.PositiveIntegerField(_("错误行数"), default=0)
    # The first errors, one per bad row: {"row": n, "column": name, "message": text}.
    errors = models.JSONField(_("错误"), default=list, blank=True)
    message = models.TextField(_("说明"), blank=True)
    cancel_requested = models.BooleanField(_("已请求取消"), default=False)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("警情导入")
        verbose_name_plural = _("警情导入")
        indexes = [models.Index(fields=["station", "id"], name="incidentimport_station")]

    def __str__(self) -> str:
        return self.original_name
