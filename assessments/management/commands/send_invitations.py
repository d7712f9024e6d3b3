from assessments.invitations import invitations_send
from assessments.management.wave_mail import WaveMailCommand, sender


class Command(WaveMailCommand):
    help = "Email every partner of the wave's active dyads a fresh magic link."
    what = "invitations"
    send = sender(invitations_send)
