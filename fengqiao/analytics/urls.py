"""Pages of the command room: briefing and orders, dashboards, hotspots."""

from django.urls import include, path

app_name = "analytics"

urlpatterns: list = [
    path("briefings/", include("fengqiao.analytics.urls_briefing")),
    path("dashboard/", include("fengqiao.analytics.urls_dashboard")),
    path("hotspots/", include("fengqiao.analytics.urls_hotspots")),
]
