from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "fengqiao.disputes"
    verbose_name = "矛盾纠纷"

    def ready(self) -> None:
        # The rollups follow every write of a case, follow-up or screening visit.
        from fengqiao.disputes import rollups

        rollups.connect()
