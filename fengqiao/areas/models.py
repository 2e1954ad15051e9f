"""The jurisdiction tree, police grids laid over grids, and places."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fengqiao.areas.querysets import AreaQuerySet, PlaceQuerySet
from fengqiao.core.models import BaseModel
from fengqiao.core.pii import EncryptedTextField


class AreaKind(models.TextChoices):
    DISTRICT = "district", _("分局")
    STATION = "station", _("派出所")
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("村")
    GRID = "grid", _("网格")


# Which kind may sit under which: a station's children are communities or villages.
PARENT_KINDS: dict[str, set[str | None]] = {
    AreaKind.DISTRICT: {None},
    AreaKind.STATION: {AreaKind.DISTRICT},
    AreaKind.COMMUNITY: {AreaKind.STATION},
    AreaKind.VILLAGE: {AreaKind.STATION},
    AreaKind.GRID: {AreaKind.COMMUNITY, AreaKind.VILLAGE},
}


class ZoneKind(models.TextChoices):
    BUILT = "built", _("已建成区")
    TRANSITIONAL = "transitional", _("过渡区")
    UNDEVELOPED = "undeveloped", _("待开发区")


class Area(BaseModel):
    """A node of the jurisdiction tree: district bureau > station > community/village > grid."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=AreaKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    # Materialised path of ids ("/1/4/17/"): "everything beneath" is one prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    station = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("派出所"),
    )
    zone = models.CharField(_("区域类型"), max_length=20, choices=ZoneKind.choices, blank=True)
    boundary = models.JSONField(_("边界"), null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    centroid_lng = models.FloatField(null=True, blank=True)
    population = models.PositiveIntegerField(_("人口"), null=True, blank=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["path"]
        indexes = [models.Index(fields=["station", "kind"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_station(self) -> bool:
        return self.kind == AreaKind.STATION


class PoliceGrid(BaseModel):
    """A police grid (警格): the beat of one community officer, laid over governance grids."""

    station = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="police_grids", verbose_name=_("派出所")
    )
    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="police_grids",
        verbose_name=_("责任民警"),
    )
    grids = models.ManyToManyField(
        Area, through="PoliceGridLink", related_name="police_grid_links", blank=True
    )

    class Meta:
        verbose_name = _("警格")
        verbose_name_plural = _("警格")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PoliceGridLink(models.Model):
    """A grid belonging to a police grid from one date until another; the rows are history."""

    police_grid = models.ForeignKey(PoliceGrid, on_delete=models.CASCADE, related_name="links")
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("警格网格对应")
        verbose_name_plural = _("警格网格对应")
        ordering = ["-valid_from"]
        constraints = [
            # A grid sits in at most one police grid at a time.
            models.UniqueConstraint(
                fields=["grid"],
                condition=models.Q(valid_to__isnull=True),
                name="policegridlink_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.police_grid_id} ⊃ {self.grid_id} ({self.valid_from}–{self.valid_to or ''})"


class PlaceGroup(models.TextChoices):
    NINE_SMALL = "nine_small", _("九小场所")
    SPECIAL = "special", _("特种行业")
    OTHER = "other", _("其他场所")


class PlaceKind(models.Model):
    """A kind of place from the code list (TAXONOMIES.md); codes are stable."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=60)
    group = models.CharField(_("类别"), max_length=20, choices=PlaceGroup.choices)
    sort = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("场所类型")
        verbose_name_plural = _("场所类型")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class Place(BaseModel):
    """A venue, shop, school, enterprise, compound or office that the station looks after."""

    station = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    community = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区/村")
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="places", verbose_name=_("网格")
    )
    kind = models.ForeignKey(PlaceKind, on_delete=models.PROTECT, verbose_name=_("场所类型"))
    name = models.CharField(_("名称"), max_length=120)
    address = models.CharField(_("地址"), max_length=200)
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="places",
        verbose_name=_("责任民警"),
    )
    notes = models.TextField(_("备注"), blank=True)
    search_text = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)

    audit_redacted: ClassVar[frozenset[str]] = frozenset({"contact_phone"})
    pii_fields: ClassVar[dict[str, str]] = {"contact_phone": "phone"}

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("场所")
        verbose_name_plural = _("场所")
        indexes = [
            models.Index(fields=["station", "id"]),
            models.Index(fields=["station", "kind", "id"]),
            models.Index(fields=["community", "id"]),
            models.Index(fields=["area", "id"]),
        ]

    def __str__(self) -> str:
        return self.name
