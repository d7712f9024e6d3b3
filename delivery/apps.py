from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Email delivery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bounces reported by an API mail provider's webhook (docs/delivery.md); without
        # django-anymail installed there is no such webhook to listen to.
        try:
            from anymail.signals import tracking
        except ImportError:
            return

        from .bounces import on_tracking

        tracking.connect(on_tracking, dispatch_uid="delivery.bounces")
