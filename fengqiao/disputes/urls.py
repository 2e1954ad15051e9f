"""Dispute pages, one module per part of the work."""

from __future__ import annotations

from fengqiao.disputes import (
    views,
    views_casefile,
    views_intake,
    views_mediation,
    views_report,
    views_routing,
    views_screening,
)

app_name = "disputes"

urlpatterns = [
    *views.urlpatterns,
    *views_intake.urlpatterns,
    *views_routing.urlpatterns,
    *views_mediation.urlpatterns,
    *views_casefile.urlpatterns,
    *views_screening.urlpatterns,
    *views_report.urlpatterns,
]
