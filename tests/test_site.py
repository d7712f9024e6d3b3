from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_answers_after_a_database_round_trip(client, django_assert_num_queries):
    with django_assert_num_queries(4):  # the round trip, then the queue (test_healthz.py)
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == response.json()["database"] == "ok"


@pytest.mark.django_db
def test_home_and_login_pages_render(client):
    assert "continuum" in client.get("/").content.decode().lower()
    login = client.get("/accounts/login/")
    assert login.status_code == 200
    assert 'name="username"' in login.content.decode()


@pytest.mark.django_db
def test_a_user_signs_in_with_email(client):
    from tests.factories import PASSWORD, UserFactory

    UserFactory(email="ana@example.org")
    response = client.post(
        "/accounts/login/", {"username": "Ana@Example.org", "password": PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/accounts/password/reset/", "Reset your password"),
        ("/accounts/password/reset/MQ/bad-token/", "no longer valid"),
    ],
)
def test_password_pages_render_with_their_titles(client, url, title):
    page = client.get(url, follow=True)
    assert page.status_code == 200 and title in page.content.decode()


@pytest.mark.django_db
def test_the_password_change_page_asks_for_the_old_and_new_password(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    page = client.get("/accounts/password/").content.decode()
    assert "Choose a password" in page and 'name="old_password"' in page


@pytest.mark.django_db
def test_the_home_page_points_each_person_to_their_pages(client, cast):
    client.force_login(cast.mentor.user)
    assert "/me/" in client.get("/").content.decode()
    client.force_login(cast.coordinator)
    page = client.get("/").content.decode()
    assert "Program dashboards" in page and "My surveys and results" not in page
