"""The language switcher and ``<html lang>`` on every page each persona may open (the
pages come from the persona matrix of ``test_permissions``)."""

import csv
import io
import json
import re

import pytest

from tests.test_languages import COOKIE, SWITCHER, html_lang
from tests.test_permissions import EXPECTED, url_for, user_of

pytestmark = pytest.mark.django_db


def html_pages(world, persona: str):
    """Every page ``persona`` may open (200 with HTML), from the persona matrix."""
    for name, statuses in sorted(EXPECTED.items()):
        if statuses[persona] == 200:
            yield name, url_for(name, world)


@pytest.mark.parametrize("persona", ["anonymous", "mentor", "coordinator", "admin"])
def test_every_page_has_the_language_switcher_and_its_lang(client, world, persona):
    user = user_of(persona, world)
    if user is not None:
        client.force_login(user)
    client.cookies[COOKIE] = "fr"
    missing = []
    for name, url in html_pages(world, persona):
        response = client.get(url)
        if not response["Content-Type"].startswith("text/html"):
            continue
        if SWITCHER not in response.content.decode() or html_lang(response) != "fr":
            missing.append(name)
    assert missing == []


def test_machines_get_numbers_with_a_decimal_point_in_french(client, world):
    """People read 4,25 in French; the CSV list and the charts' data keep 4.25."""
    client.force_login(user_of("coordinator", world))
    client.cookies[COOKIE] = "fr"
    download = client.get(url_for("coordinate:dyad_list", world))
    csv_text = b"".join(download.streaming_content).decode()
    cells = [cell for row in csv.reader(io.StringIO(csv_text)) for cell in row]
    assert any(re.fullmatch(r"-?\d+\.\d+", cell) for cell in cells)
    assert not [cell for cell in cells if re.fullmatch(r"-?\d+,\d+", cell)]
    page = client.get(url_for("coordinate:cohort", world)).content.decode()
    assert html_lang_of(page) == "fr"
    figures = re.findall(r'<script id="[^"]+" type="application/json">(.*?)</script>', page, re.S)
    assert figures
    texts = [text for figure in figures for text in strings_in(json.loads(figure))]
    assert not [text for text in texts if re.fullmatch(r"-?\d+,\d+", text)]


def strings_in(value) -> list[str]:
    if isinstance(value, dict):
        return [text for inner in value.values() for text in strings_in(inner)]
    if isinstance(value, list):
        return [text for inner in value for text in strings_in(inner)]
    return [value] if isinstance(value, str) else []


def html_lang_of(text: str) -> str:
    found = re.search(r'<html lang="([^"]*)"', text)
    return found.group(1) if found else ""
