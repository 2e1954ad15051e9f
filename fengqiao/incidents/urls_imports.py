"""Pages of incident-history imports."""

from django.urls import path

from fengqiao.incidents import views_imports as views

urlpatterns: list = [
    path("", views.import_list, name="import_list"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("<int:pk>/errors.csv", views.import_errors_csv, name="import_errors_csv"),
]
