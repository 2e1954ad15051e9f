"""Pages of this part of the command room: the dashboard."""

from django.urls import URLPattern, path

from fengqiao.analytics.views_dashboard import dashboard_page

urlpatterns: list[URLPattern] = [
    path("", dashboard_page, name="dashboard"),
]
