"""Pages of this part of the command room."""

urlpatterns: list = []
