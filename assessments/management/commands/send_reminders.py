from assessments.management.wave_mail import WaveMailCommand
from assessments.models import Wave
from audit.models import AuditEvent
from delivery.models import Audience, DeliveryBatch
from delivery.services import deliveries_enqueue


class Command(WaveMailCommand):
    help = (
        "Queue a reminder (their one link again) for each partner who has not submitted the "
        "wave, or the invitation for one never invited; the delivery worker sends them."
    )
    action = AuditEvent.Action.REMINDERS_SENT
    what = "reminders"

    def send(self, wave: Wave) -> DeliveryBatch:
        return deliveries_enqueue(wave=wave, audience=Audience.NOT_SUBMITTED)
