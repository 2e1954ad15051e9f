"""Dispute pages, one module per part of the work."""

from __future__ import annotations

from fengqiao.disputes import (
    views,
    views_agreements,
    views_casefile,
    views_intake,
    views_mediation,
    views_outcomes,
    views_registry,
    views_report,
    views_routing,
    views_screening,
    views_sessions,
)

app_name = "disputes"

urlpatterns = [
    *views.urlpatterns,
    *views_intake.urlpatterns,
    *views_routing.urlpatterns,
    *views_registry.urlpatterns,
    *views_mediation.urlpatterns,
    *views_sessions.urlpatterns,
    *views_agreements.urlpatterns,
    *views_outcomes.urlpatterns,
    *views_casefile.urlpatterns,
    *views_screening.urlpatterns,
    *views_report.urlpatterns,
]
