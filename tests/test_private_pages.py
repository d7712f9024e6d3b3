"""Pages built for one person are never kept by a browser or proxy cache, and a
password-less link never signs in a privileged account."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Invitation, Wave
from assessments.tokens import invitation_token
from tests import factories
from tests.test_settings import manage

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
    return Wave.objects.get(cohort__program__slug="demo", number=2)


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("mentor@example.org", "/me/"),
        ("mentor@example.org", "/me/data/"),
        ("coordinator@example.org", "/coordinate/"),
        ("coordinator@example.org", "/coordinate/demo/2026/"),
        ("admin@example.org", "/exports/"),
    ],
)
def test_personal_pages_say_private_no_store(client, demo, who, url):
    from relationships.models import User

    client.force_login(User.objects.get(email=who))
    page = client.get(url)
    assert page.status_code == 200
    control = {part.strip() for part in page["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= control


def test_a_magic_link_never_signs_in_a_staff_or_superuser_account(client, demo):
    admin = factories.UserFactory(email="boss@example.org", is_staff=True, is_superuser=True)
    dyad = demo.cohort.dyads.first()
    dyad.mentor.user = admin
    dyad.mentor.save(update_fields=["user"])
    invitation, _ = Invitation.objects.get_or_create(wave=demo, dyad=dyad, participant=dyad.mentor)
    link = reverse("assessments:magic_link", args=[invitation_token(invitation)])
    answer = client.post(link)
    assert answer.status_code == 403
    assert "_auth_user_id" not in client.session


PROXY_PROBE = """
from django.conf import settings
print(getattr(settings, "SECURE_PROXY_SSL_HEADER", None))
"""


@pytest.mark.parametrize(("behind", "expected"), [("0", "None"), ("1", "HTTP_X_FORWARDED_PROTO")])
def test_the_forwarded_protocol_is_trusted_only_behind_a_declared_proxy(behind, expected):
    secret = "k" * 20 + "production-like-secret-with-enough-entropy-9x"
    run = manage("shell", "-c", PROXY_PROBE, SECRET_KEY=secret, DEBUG="0", BEHIND_TLS_PROXY=behind)
    assert run.returncode == 0, run.stderr
    assert expected in run.stdout
