from assessments.invitations import reminders_send
from assessments.management.wave_mail import WaveMailCommand, sender


class Command(WaveMailCommand):
    help = "Remind, with a fresh magic link, each partner who has not submitted the wave."
    what = "reminders"
    send = sender(reminders_send)
