"""Instruments carry their wording in several languages: every declared language is
complete, pages show the request's language, each response keeps the language it was
answered in, and scores never depend on it."""

import copy
import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from assessments.instruments import validate_definition
from assessments.languages import language_for
from assessments.models import DyadWaveResult, Instrument, Item, Response, Subscale, Wave
from assessments.services import instrument_load
from assessments.survey.services import answers_save, response_open, response_submit
from tests.factories import CohortFactory, DyadFactory, ResponseFactory, WaveFactory
from tests.test_instruments import small_definition

DEFAULT = Path(__file__).resolve().parent.parent / "fixtures/instruments/continuum-default-v1.json"
LANGUAGES = ("en", "es", "fr")


def default_definition() -> dict:
    return json.loads(DEFAULT.read_text(encoding="utf-8"))


def every_item(definition: dict):
    for battery in definition["batteries"]:
        for subscale in battery["subscales"]:
            yield from subscale["items"]


def wording(item: dict, language: str, side: str) -> str:
    return item[side] if language == "en" else item["translations"][language][side]


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request's language stays active in the thread after it: later tests expect the
    default one."""
    yield
    translation.deactivate()


@pytest.fixture
def world(db):
    instrument, _ = instrument_load(definition=default_definition())
    cohort = CohortFactory()
    wave = WaveFactory(cohort=cohort, instrument=instrument, number=1)
    return Wave.objects.select_related("instrument").get(pk=wave.pk)


def page_url(name: str, dyad, wave, *extra) -> str:
    return reverse(f"assessments:{name}", args=[dyad.research_code, wave.number, *extra])


def answer_values(wave) -> dict[str, str]:
    """The same answers for everyone: a pattern over the items, a few "not applicable"."""
    items = Item.objects.filter(subscale__battery__instrument=wave.instrument).select_related(
        "subscale__battery"
    )
    values = {}
    for n, item in enumerate(
        items.order_by("subscale__battery__order", "subscale__order", "order")
    ):
        battery = item.subscale.battery
        points = battery.scale_max - battery.scale_min + 1
        values[item.code] = (
            "na" if item.allow_na and n % 11 == 4 else str(battery.scale_min + (n * 3) % points)
        )
    return values


def answer(dyad, wave, role: str, language: str, values: dict[str, str]) -> Response:
    person = dyad.mentor if role == "mentor" else dyad.protege
    response = response_open(dyad=dyad, wave=wave, participant=person, language=language)
    answers_save(response=response, values=values, language=language)
    return response_submit(response=response)


# The definition format -------------------------------------------------------------


def test_the_default_instrument_is_complete_in_english_spanish_and_french():
    definition = default_definition()
    assert definition["languages"] == list(LANGUAGES)
    assert validate_definition(definition) == []


@pytest.mark.django_db
def test_loading_stores_every_language_of_every_text(world):
    instrument = world.instrument
    assert instrument.languages == ["en", "es", "fr"]
    assert instrument.title_in("fr").startswith("Questionnaire Continuum")
    for item in Item.objects.filter(subscale__battery__instrument=instrument):
        for language in ("es", "fr"):
            for role in ("mentor", "protege"):
                assert item.text_for(role, language) != item.text_for(role), item.code
    for battery in instrument.batteries.all():
        for language in ("es", "fr"):
            assert len(battery.points_in(language)) == len(battery.points)
            assert battery.points_in(language) != battery.points
            assert battery.intro_in("mentor", language) != battery.intro_mentor
    rel = Subscale.objects.filter(battery__instrument=instrument, battery__code="REL")
    assert {s.strategy_in(code) is not None for s in rel for code in LANGUAGES} == {True}


def without_spanish_protege_wording(definition: dict) -> dict:
    broken = copy.deepcopy(definition)
    item = broken["batteries"][1]["subscales"][0]["items"][1]
    del item["translations"]["es"]["protege"]
    return broken


def test_a_missing_wording_is_reported_with_item_side_field_and_place():
    problems = validate_definition(without_spanish_protege_wording(default_definition()))
    assert [str(p) for p in problems] == [
        "batteries[1].subscales[0].items[1].translations.es.protege: "
        "item CAR-SP-2: the es protégé-side wording is missing"
    ]


@pytest.mark.django_db
def test_load_instrument_refuses_an_incomplete_language_and_loads_nothing(tmp_path):
    path = tmp_path / "incomplete.json"
    path.write_text(json.dumps(without_spanish_protege_wording(default_definition())))
    with pytest.raises(CommandError, match="nothing was loaded") as error:
        call_command("load_instrument", str(path))
    assert "item CAR-SP-2: the es protégé-side wording is missing" in str(error.value)
    assert not Instrument.objects.exists()


@pytest.mark.parametrize(
    ("change", "location", "message"),
    [
        (
            lambda d: d["batteries"][0]["translations"]["fr"]["scale"].update(labels=["Oui"]),
            "batteries[0].translations.fr.scale.labels",
            "battery REL: the fr scale point labels need 7 labels",
        ),
        (
            lambda d: d["batteries"][0]["subscales"][0]["translations"].update(de={}),
            "batteries[0].subscales[0].translations.de",
            "language de is not declared",
        ),
        (
            lambda d: d["batteries"][0]["subscales"][3]["translations"]["es"]["strategy"].pop(
                "advice"
            ),
            "batteries[0].subscales[3].translations.es.strategy.advice",
            "subscale REL-CN: the es growth strategy advice is missing",
        ),
        (
            lambda d: d["translations"]["es"].update(titel="x"),
            "translations.es.titel",
            "unknown key 'titel'",
        ),
        (lambda d: d.update(languages=["en", "es", "es"]), "languages[2]", "listed twice"),
        (lambda d: d.update(languages=["English"]), "languages[0]", "not a language code"),
    ],
)
def test_each_translation_fault_is_named_where_it_is(change, location, message):
    definition = default_definition()
    change(definition)
    problems = validate_definition(definition)
    assert any(p.location == location and message in p.message for p in problems), problems


@pytest.mark.django_db
def test_a_definition_without_languages_loads_in_english_only():
    instrument, created = instrument_load(definition=small_definition())
    assert created and instrument.languages == ["en"]
    item = Item.objects.filter(subscale__battery__instrument=instrument).first()
    assert item.translations == {} and item.text_for("protege", "es") == item.text_protege


@pytest.mark.django_db
def test_an_answered_version_gains_a_language_but_never_changes_its_wording():
    english = small_definition()
    instrument, _ = instrument_load(definition=english)
    ResponseFactory(wave=WaveFactory(instrument=instrument))
    spanish = copy.deepcopy(english)
    spanish["languages"] = ["en", "es"]
    spanish["translations"] = {"es": {"title": "Instrumento pequeño"}}
    for battery in spanish["batteries"]:
        labels = [f"punto {n}" for n in range(len(battery["scale"]["labels"]))]
        battery["translations"] = {"es": {"title": "B", "scale": {"labels": labels}}}
        for subscale in battery["subscales"]:
            subscale["translations"] = {"es": {"title": "S"}}
            for item in subscale["items"]:
                item["translations"] = {"es": {"mentor": "Dice", "protege": "Dice también"}}
    gained, created = instrument_load(definition=spanish)
    assert not created and gained.pk == instrument.pk
    instrument.refresh_from_db()
    assert instrument.languages == ["en", "es"]
    item = Item.objects.filter(subscale__battery__instrument=instrument).first()
    assert item.text_for("protege", "es") == "Dice también"
    assert item.text_for("protege", "en") == item.text_protege == english_protege(english)
    reworded = copy.deepcopy(spanish)
    reworded["batteries"][0]["subscales"][0]["items"][0]["mentor"] = "Changed"
    with pytest.raises(ValueError, match="new version"):
        instrument_load(definition=reworded)


def english_protege(definition: dict) -> str:
    return definition["batteries"][0]["subscales"][0]["items"][0]["protege"]


@pytest.mark.parametrize(
    ("requested", "available", "shown"),
    [
        ("es", ["en", "es", "fr"], "es"),
        ("es-mx", ["en", "es", "fr"], "es"),
        ("pt-br", ["pt", "en"], "pt"),
        ("es", ["en", "es-419"], "es-419"),
        ("de", ["en", "es", "fr"], "en"),
        ("es", ["fr", "en"], "fr"),
        (None, ["en"], "en"),
    ],
)
def test_a_page_shows_the_requested_language_else_the_first(requested, available, shown):
    assert language_for(requested, available) == shown


# The wording of the default instrument ---------------------------------------------


@pytest.mark.parametrize("language", ["es", "fr"])
def test_the_two_sides_stay_mirrored_in_every_language(language):
    for item in every_item(default_definition()):
        same_in_english = item["mentor"] == item["protege"]
        same_here = wording(item, language, "mentor") == wording(item, language, "protege")
        assert same_in_english == same_here, item["code"]


# One term for each role in each language, and none of the others.
TERMS = {
    "es": {"mentor": r"\bmentor/a\b", "protege": r"\bmentorizado/a\b",
           "avoid": r"protegid|mentorad|\bmentee|\btutor|mentorizad[oa]\b(?!/a)"},
    "fr": {"mentor": r"\bmentor\b", "protege": r"mentoré\(e\)",
           "avoid": r"protégé|\bmentee|\btuteur|mentoré(?!\(e\))|\bmentore\b"},
}  # fmt: skip


@pytest.mark.parametrize("language", ["es", "fr"])
def test_each_language_names_each_role_with_one_term(language):
    terms = TERMS[language]
    for item in every_item(default_definition()):
        mentor, protege = (wording(item, language, side) for side in ("mentor", "protege"))
        assert not re.search(terms["avoid"], mentor + protege, re.IGNORECASE), item["code"]
        if item["protege"].startswith("My mentor"):
            assert re.search(terms["mentor"], protege, re.IGNORECASE), item["code"]
        if "my protégé" in item["mentor"].lower():
            assert re.search(terms["protege"], mentor, re.IGNORECASE), item["code"]


# Pages and responses ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_survey_page_speaks_the_requests_language(client, world):
    dyad = DyadFactory(cohort=world.cohort)
    client.force_login(dyad.protege.user)
    page = client.get(page_url("survey_page", dyad, world, 1), HTTP_ACCEPT_LANGUAGE="es").text
    item = Item.objects.get(subscale__battery__instrument=world.instrument, code="REL-LG-2")
    assert item.text_for("protege", "es") in page and item.text_protege not in page
    assert "Totalmente de acuerdo" in page and "Funciones relacionales" in page
    assert "«La otra persona» se refiere a tu mentor/a." in page


@pytest.mark.django_db
def test_a_language_the_instrument_lacks_falls_back_to_its_first(client, world):
    dyad = DyadFactory(cohort=world.cohort)
    client.force_login(dyad.mentor.user)
    page = client.get(page_url("survey_page", dyad, world, 2), HTTP_ACCEPT_LANGUAGE="de").text
    item = Item.objects.get(subscale__battery__instrument=world.instrument, code="CAR-SP-1")
    assert escape(item.text_mentor) in page and "Strongly agree" in page


@pytest.mark.django_db
def test_an_instrument_without_the_requested_language_is_shown_and_kept_in_its_first(client):
    instrument, _ = instrument_load(definition=small_definition())
    wave = WaveFactory(instrument=instrument, number=1)
    dyad = DyadFactory(cohort=wave.cohort)
    client.force_login(dyad.mentor.user)
    page = client.get(page_url("survey_page", dyad, wave, 1), HTTP_ACCEPT_LANGUAGE="es").text
    assert "Mentor says 1" in page and "7 · point 7" in page
    saved = client.post(
        page_url("survey_autosave", dyad, wave), {"REL-TC-1": "5"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert saved.status_code == 200
    assert Response.objects.get(dyad=dyad).language == "en"


@pytest.mark.django_db
def test_partners_answer_in_their_own_languages_and_each_response_keeps_its_own(client, world):
    dyad, values = DyadFactory(cohort=world.cohort), answer_values(world)
    for person, language in ((dyad.mentor, "es"), (dyad.protege, "fr")):
        client.force_login(person.user)
        saved = client.post(
            page_url("survey_autosave", dyad, world), values, HTTP_ACCEPT_LANGUAGE=language
        )
        assert saved.status_code == 200
        client.post(page_url("survey_review", dyad, world), HTTP_ACCEPT_LANGUAGE=language)
    languages = dict(Response.objects.filter(dyad=dyad).values_list("role", "language"))
    assert languages == {"mentor": "es", "protege": "fr"}
    assert Response.objects.submitted().filter(dyad=dyad).count() == 2


@pytest.mark.django_db
def test_a_language_the_instrument_lacks_is_refused_when_saving(world):
    dyad = DyadFactory(cohort=world.cohort)
    response = response_open(dyad=dyad, wave=world, participant=dyad.mentor)
    with translation.override("en"), pytest.raises(ValidationError, match="not available in de"):
        answers_save(response=response, values={"REL-LG-1": "5"}, language="de")
    assert not response.answers.exists() and response.language == "en"


@pytest.mark.django_db
def test_the_results_page_shows_titles_and_strategies_in_the_language(client, world):
    dyad, values = DyadFactory(cohort=world.cohort), answer_values(world)
    answer(dyad, world, "mentor", "fr", values)
    answer(dyad, world, "protege", "es", values)
    client.force_login(dyad.protege.user)
    url = page_url("results", dyad, world)
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").text
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").text
    assert "Confianza, apertura y compromiso" in spanish and "Trust, disclosure" not in spanish
    assert "Confiance, ouverture et engagement" in french
    titles = {s.strategy_in("es")[0] for s in Subscale.objects.filter(strategy_title__gt="")}
    assert sum(title in spanish for title in titles) == 3


# Scoring ---------------------------------------------------------------------------

SCORED = ("rel", "car", "psy", "str", "ovr", "kram", "cn", "position", "state", "congruence")
SCORES = [f.name for f in DyadWaveResult._meta.fields if f.name.split("_")[0] in SCORED]


@pytest.mark.django_db
def test_the_same_answers_score_the_same_in_every_language(world):
    values = answer_values(world)
    pairs = [("en", "en"), ("es", "es"), ("fr", "fr"), ("es", "fr"), ("fr", "en")]
    results = []
    for mentor_language, protege_language in pairs:
        dyad = DyadFactory(cohort=world.cohort)
        answer(dyad, world, "mentor", mentor_language, values)
        answer(dyad, world, "protege", protege_language, values)
        result = DyadWaveResult.objects.values(*SCORES, "subscales").get(dyad=dyad, wave=world)
        results.append(result)
    assert results[0]["state"] != "unplaced" and results[0]["rel_mentor"] is not None
    assert all(result == results[0] for result in results[1:])
    spoken = Response.objects.filter(wave=world).values_list("language", flat=True)
    assert set(spoken) == {"en", "es", "fr"}
