"""Pages of the incident log, and of history imports (urls_imports)."""

from django.urls import include, path

from fengqiao.incidents import views

app_name = "incidents"

urlpatterns: list = [
    path("", views.incident_list, name="incident_list"),
    path("new/", views.incident_create, name="incident_create"),
    path("settings/", views.incident_settings, name="incident_settings"),
    path("<int:pk>/", views.incident_detail, name="incident_detail"),
    path("<int:pk>/edit/", views.incident_edit, name="incident_edit"),
    path("<int:pk>/<slug:move>/", views.incident_move, name="incident_move"),
    path("imports/", include("fengqiao.incidents.urls_imports")),
]
