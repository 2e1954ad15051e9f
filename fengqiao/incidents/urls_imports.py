"""Pages of incident-history imports."""

urlpatterns: list = []
