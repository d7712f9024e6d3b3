"""Item-level answers reach nobody but their author (and holders of
``assessments.view_answers``, such as admins; DESIGN §7): every URL of the project is
fetched by every persona, staff without a permission included, after the mentor has
answered part of a survey, and only the mentor's own pages (and an admin's view of them)
show a chosen answer."""

import re

import pytest
from django.urls import reverse

from assessments.models import Answer
from tests.test_permissions import EXPECTED, PERSONAS, url_for, user_of

# A radio button of an item (codes like REL-LG-1) that is shown as chosen.
CHOSEN = re.compile(
    r'<input(?=[^>]*type="radio")(?=[^>]*name="(?:REL|CAR|PSY|STR|OVR)-[^"]*")[^>]*checked'
)
MAY_SEE = {"mentor", "admin"}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_author_sees_chosen_answers_on_any_page(client, world, answered, persona):
    user = user_of(persona, world)
    if user is not None:
        client.force_login(user)
    shown = []
    for name in sorted(EXPECTED):
        response = client.get(url_for(name, world), follow=True)
        body = b"".join(response) if response.streaming else response.content
        if CHOSEN.search(body.decode(errors="replace")):
            shown.append(name)
    if persona in MAY_SEE:
        assert "assessments:survey_page" in shown  # the check can see answers at all
    assert persona in MAY_SEE or shown == [], shown


@pytest.mark.django_db
def test_an_admin_reads_a_response_with_its_answers_in_the_admin(client, world, answered):
    client.force_login(user_of("admin", world))
    page = client.get(reverse("admin:assessments_response_change", args=[answered.pk]))
    assert page.status_code == 200 and page.text.count('value="3"') >= 9


@pytest.mark.django_db
def test_staff_view_a_survey_read_only_and_change_nothing(client, world, answered):
    from assessments.models import Response

    client.force_login(user_of("admin", world))
    dyad = world["dyad"]
    page = reverse("assessments:survey_page", args=[dyad.research_code, 2, 1])
    shown = client.get(page + "?role=protege")
    assert shown.status_code == 200 and "has not opened the survey yet" in shown.text
    assert not Response.objects.filter(dyad=dyad, wave__number=2, role="protege").exists()
    before = list(Answer.objects.filter(response=answered).values_list("item_id", "value"))
    assert client.post(page, {"REL-LG-1": "7", "next": "1"}).status_code == 403
    assert list(Answer.objects.filter(response=answered).values_list("item_id", "value")) == before
    mentor_view = client.get(page)
    assert "disabled" in mentor_view.text and "data-autosave-url" not in mentor_view.text
