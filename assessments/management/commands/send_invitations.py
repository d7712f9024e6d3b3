from assessments.management.wave_mail import WaveMailCommand
from assessments.models import Wave
from audit.models import AuditEvent
from delivery.models import Audience, DeliveryBatch
from delivery.services import deliveries_enqueue


class Command(WaveMailCommand):
    help = (
        "Queue an invitation for every partner of the wave's active dyads who has not been "
        "invited and has not submitted; the delivery worker sends them."
    )
    action = AuditEvent.Action.INVITATIONS_SENT
    what = "invitations"

    def send(self, wave: Wave) -> DeliveryBatch:
        return deliveries_enqueue(wave=wave, audience=Audience.NOT_INVITED)
