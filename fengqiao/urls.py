"""URL routes: pages per app, the API at /api/v1/."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from fengqiao import views
from fengqiao.api import api
from fengqiao.core import views as core_views

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("", views.home, name="home"),
    path("audit/", views.audit_list, name="audit_list"),
    path("pii/<str:label>/<int:pk>/<str:field>/reveal", views.reveal, name="pii_reveal"),
    path("accounts/", include("fengqiao.accounts.urls")),
    path("areas/", include("fengqiao.areas.urls")),
    path("disputes/", include("fengqiao.disputes.urls")),
    path("incidents/", include("fengqiao.incidents.urls")),
    path("analytics/", include("fengqiao.analytics.urls")),
    path("djadmin/", admin.site.urls),
]

handler403 = "fengqiao.core.views.error_403"
handler404 = "fengqiao.core.views.error_404"
handler500 = "fengqiao.core.views.error_500"
