"""Pages of this part of the command room: hotspots."""

from django.urls import URLPattern, path

from fengqiao.analytics.views_hotspots import hotspots_page

urlpatterns: list[URLPattern] = [
    path("", hotspots_page, name="hotspots"),
]
