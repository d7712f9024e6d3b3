from django.apps import AppConfig


class RelationshipsConfig(AppConfig):
    name = "relationships"
    verbose_name = "Programs and dyads"

    def ready(self) -> None:
        from . import languages  # noqa: F401  (connects the sign-in receiver)
