"""The dimensions of a dispute (TAXONOMIES.md), kept apart so that each can be reported."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    SCREENING = "screening", _("主动排查")
    APPLICATION = "application", _("依申请")
    POLICE_CALL = "police_call", _("110/警情转入")
    TIP = "tip", _("群众/志愿者反映")
    REFERRAL = "referral", _("委托移送")


class Referrer(models.TextChoices):
    """Who handed the dispute over, when the source is 委托移送."""

    COURT = "court", _("法院")
    PROCURATORATE = "procuratorate", _("检察院")
    PETITION = "petition", _("信访部门")
    OTHER = "other", _("其他部门")


class Scale(models.TextChoices):
    INDIVIDUAL = "individual", _("个体")
    GROUP = "group", _("一般群体")
    MAJOR_GROUP = "major_group", _("重大群体")


class Grade(models.TextChoices):
    TRIVIA = "trivia", _("日常琐事")
    CIVIL = "civil", _("民间纠纷")
    MAJOR = "major", _("重大矛盾")


class Colour(models.TextChoices):
    RED = "red", _("红色")
    ORANGE = "orange", _("橙色")
    YELLOW = "yellow", _("黄色")
    BLUE = "blue", _("蓝色")


# Higher is more serious: an override may never hide a colour that rises above it.
SEVERITY: dict[str, int] = {Colour.BLUE: 0, Colour.YELLOW: 1, Colour.ORANGE: 2, Colour.RED: 3}


class Channel(models.TextChoices):
    COMMUNITY = "community", _("人民调解")
    LAWYER = "lawyer", _("律师调解")
    JUDICIAL = "judicial", _("司法所调解")
    POLICE = "police", _("警调联动")
    SECTOR = "sector", _("行业/单位调解")
    JOINT = "joint", _("联合调解")


class Status(models.TextChoices):
    RECEIVED = "received", _("登记受理")
    TRIAGED = "triaged", _("已研判")
    ASSIGNED = "assigned", _("已分流指派")
    MEDIATING = "mediating", _("调解中")
    AGREED = "agreed", _("已达成协议")
    CLOSED = "closed", _("已结案")
    FAILED = "failed", _("调解不成")
    REFERRED = "referred", _("已移送")
    WITHDRAWN = "withdrawn", _("当事人撤回")
    TERMINATED = "terminated", _("已终止")
    REOPENED = "reopened", _("重新办理")


class Supervision(models.TextChoices):
    NONE = "none", _("正常")
    YELLOW = "yellow", _("黄牌督办")
    RED = "red", _("红牌督办")


class ThreatState(models.TextChoices):
    NONE = "none", _("未发现")
    PENDING = "pending", _("待人工确认")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已排除")


class PartyKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("单位/组织")


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")
    OTHER = "other", _("其他当事人")


class Consent(models.TextChoices):
    UNDECIDED = "undecided", _("未表态")
    AGREED = "agreed", _("同意调解")
    DECLINED = "declined", _("拒绝调解")


class Outcome(models.TextChoices):
    """How the mediation ended (TAXONOMIES.md: outcome)."""

    SUCCESS = "success", _("调解成功")
    PARTIAL = "partial", _("部分成功")
    FAILED = "failed", _("调解不成")
    WITHDRAWN = "withdrawn", _("当事人撤回")
    TERMINATED = "terminated", _("终止")


class MediatorKind(models.TextChoices):
    COMMUNITY = "community", _("人民调解员")
    LAWYER = "lawyer", _("律师")
    JUDICIAL = "judicial", _("司法所工作人员")
    JOINT = "joint", _("联合调解组成员")
    POLICE = "police", _("民警")
    SECTOR = "sector", _("行业/单位调解员")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class SessionState(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    HELD = "held", _("已召开")
    CANCELLED = "cancelled", _("已取消")


class AgreementForm(models.TextChoices):
    ORAL = "oral", _("口头协议")
    WRITTEN = "written", _("书面协议")


class Signature(models.TextChoices):
    PENDING = "pending", _("未签署")
    SIGNED = "signed", _("已签署")
    DECLINED = "declined", _("拒绝签署")


class ReferralTarget(models.TextChoices):
    LITIGATION = "litigation", _("诉讼（法院）")
    ARBITRATION = "arbitration", _("仲裁")
    LABOUR = "labour", _("劳动监察")
    PETITION = "petition", _("信访")
    OTHER = "other", _("其他部门")


class ReferralOutcome(models.TextChoices):
    PENDING = "pending", _("待反馈")
    ACCEPTED = "accepted", _("已受理")
    RESOLVED = "resolved", _("已处理完毕")
    DECLINED = "declined", _("不予受理")


class FollowUpKind(models.TextChoices):
    DAYS_7 = "days_7", _("协议后7日回访")
    DAYS_30 = "days_30", _("协议后30日回访")
    ITEM_DUE = "item_due", _("履行期限回访")
    OTHER = "other", _("其他回访")


class FollowUpState(models.TextChoices):
    SCHEDULED = "scheduled", _("待回访")
    DONE = "done", _("已回访")
    CANCELLED = "cancelled", _("已取消")


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("照片")
    SCAN = "scan", _("扫描件")
    DOCUMENT = "document", _("文书")
    OTHER = "other", _("其他")


class VisitResult(models.TextChoices):
    NOTHING = "nothing", _("未发现矛盾")
    DISPUTE = "dispute", _("发现矛盾纠纷")
    RESOLVED = "resolved", _("当场化解")
    REVISIT = "revisit", _("需再次走访")
