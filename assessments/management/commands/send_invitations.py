from assessments.management.wave_mail import WaveMailCommand, sender
from assessments.participant_services import invitations_send


class Command(WaveMailCommand):
    help = "Email every partner of the wave's active dyads a fresh magic link."
    what = "invitations"
    send = sender(invitations_send)
