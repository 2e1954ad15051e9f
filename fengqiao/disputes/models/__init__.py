"""The disputes app's tables, one module per part of the work."""

from fengqiao.disputes.models.cases import (
    FINISHED,
    NOT_YET_MEDIATED,
    REASON_REQUIRED,
    TRANSITIONS,
    Dispute,
    DisputeLink,
    DisputeType,
    Party,
    StatType,
)
from fengqiao.disputes.models.mediation import (
    Agreement,
    AgreementItem,
    AgreementSignature,
    Attachment,
    Attendance,
    FollowUp,
    MediationSession,
    Referral,
)
from fengqiao.disputes.models.rollups import DisputeDaily, DisputeMonthly
from fengqiao.disputes.models.routing import Extension, LawyerDuty, Mediator, RoutingRule
from fengqiao.disputes.models.screening import ScreeningVisit

__all__ = [
    "FINISHED",
    "NOT_YET_MEDIATED",
    "REASON_REQUIRED",
    "TRANSITIONS",
    "Agreement",
    "AgreementItem",
    "AgreementSignature",
    "Attachment",
    "Attendance",
    "Dispute",
    "DisputeDaily",
    "DisputeLink",
    "DisputeMonthly",
    "DisputeType",
    "Extension",
    "FollowUp",
    "LawyerDuty",
    "MediationSession",
    "Mediator",
    "Party",
    "Referral",
    "RoutingRule",
    "ScreeningVisit",
    "StatType",
]
