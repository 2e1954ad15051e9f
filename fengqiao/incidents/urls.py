"""Pages of the incident log, and of history imports (urls_imports)."""

from django.urls import include, path

app_name = "incidents"

urlpatterns: list = [
    path("imports/", include("fengqiao.incidents.urls_imports")),
]
