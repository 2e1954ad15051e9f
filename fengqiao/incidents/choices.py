"""The dimensions of an incident (警情): how it came in, where it stands, how it ended."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    DISPATCH_110 = "dispatch_110", _("110 指令")
    WALK_IN = "walk_in", _("来所报警")
    PHONE = "phone", _("电话报警")
    VIDEO = "video", _("视频巡查")
    VOLUNTEER = "volunteer", _("群众/志愿者线索")
    PATROL = "patrol", _("巡逻发现")


class Status(models.TextChoices):
    RECEIVED = "received", _("已接警")
    DISPATCHED = "dispatched", _("已派警")
    ON_SCENE = "on_scene", _("已到场")
    CLOSED = "closed", _("已处结")


class Disposition(models.TextChoices):
    ON_SPOT = "on_spot", _("现场处置")
    CRIMINAL_CASE = "criminal_case", _("刑事立案")
    ADMIN_CASE = "admin_case", _("行政立案")
    DISPUTE = "dispute", _("转为矛盾纠纷")
    REFERRED = "referred", _("移交联动单位")
    INVALID = "invalid", _("无效警情")


class Linkage(models.TextChoices):
    """The linkage department an incident is handed to (社会联动)."""

    MEDICAL_120 = "120", _("120 急救")
    FIRE_119 = "119", _("119 消防")
    LABOUR = "labour", _("劳动监察")
    MUNICIPAL = "municipal", _("城管/市政")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    OTHER = "other", _("其他部门")
