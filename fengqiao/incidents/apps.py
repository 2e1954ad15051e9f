from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "fengqiao.incidents"
    verbose_name = "警情"

    def ready(self) -> None:
        # The rollups follow every save and delete of an incident (incidents.rollups).
        from fengqiao.incidents import rollups

        rollups.connect()
