"""An invitation names the partners as the dyad's program supplied them, never with a
name another program stored for the same person."""

import pytest
from django.utils import timezone

from assessments.models import Invitation
from delivery.messages import delivery_message
from delivery.models import Delivery, Kind
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_invitation_uses_the_names_this_program_supplied(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    dyad = factories.DyadFactory()
    dyad.mentor.name = "Bea Secret"  # what another program called her
    dyad.mentor.save(update_fields=["name"])
    dyad.mentor_name, dyad.protege_name = "Beatriz", "Pat"
    dyad.save(update_fields=["mentor_name", "protege_name"])
    wave = factories.WaveFactory(cohort=dyad.cohort)
    for person, own, partner in ((dyad.protege, "Pat", "Beatriz"), (dyad.mentor, "Beatriz", "Pat")):
        invitation = Invitation.objects.create(wave=wave, dyad=dyad, participant=person)
        delivery = Delivery(invitation=invitation, kind=Kind.INVITATION, sequence=0)
        message = delivery_message(delivery, now=timezone.now())
        assert f"Hello {own}" in message.body and partner in message.body
        assert "Bea Secret" not in message.body + message.alternatives[0][0]
