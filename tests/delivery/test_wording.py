"""A program's wording of its emails: placeholders are checked before saving, filled
from plain strings only, and the HTML part escapes every word and value."""

import pytest
from django.template.loader import render_to_string

from delivery import wording

VALUES = {
    "name": "Pat",
    "partner": "Beatriz",
    "role": "protégé",
    "program": "Bridges",
    "wave": "Wave 2",
    "closes_on": "14 March 2027",
    "link": "http://testserver/invite/1-abc/",
}


@pytest.mark.parametrize(
    "body",
    ["Hello {name}, open {link}", "{link}", "Braces {{like this}} stay: {link}"],
)
def test_a_body_with_known_placeholders_and_the_link_passes(body):
    assert wording.body_problems(body) == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("Hello {nom}, {link}", "{nom} is not a placeholder"),
        ("Hello {0}, {link}", "{0} is not a placeholder"),
        ("Hello {}, {link}", "{} is not a placeholder"),
        ("Hello {name.__class__}, {link}", "{name.__class__} is not a placeholder"),
        ("Hello {name[0]}, {link}", "is not a placeholder"),
        ("Hello {name!r}, {link}", "Write {name} with nothing else"),
        ("Hello {name:>40}, {link}", "Write {name} with nothing else"),
        ("Hello {name, {link}", "has no partner"),
        ("Hello } {link}", "has no partner"),
        ("Hello {name}, answer the survey", "must hold {link}"),
    ],
)
def test_an_unknown_placeholder_or_a_body_without_the_link_is_refused(body, says):
    assert says in " ".join(wording.body_problems(body))


def test_a_subject_cannot_carry_the_link_nor_a_second_line():
    assert "{link} is not a placeholder" in " ".join(wording.subject_problems("Go {link}"))
    assert "one line" in " ".join(wording.subject_problems("Hello\nthere"))
    assert wording.subject_problems("Your {program} survey, {name}") == []


def test_filling_uses_the_values_as_plain_text_and_keeps_doubled_braces():
    text = wording.fill("Hi {name} {{x}} from {program}: {link}", VALUES)
    assert text == "Hi Pat {x} from Bridges: http://testserver/invite/1-abc/"


def test_a_value_with_line_breaks_keeps_the_subject_on_one_line():
    subject = wording.fill("Survey from {program}", {**VALUES, "program": "A\r\nBcc: x@y"})
    assert wording.one_line(subject) == "Survey from A Bcc: x@y"


def test_the_html_part_escapes_the_coordinators_words_and_every_value():
    body = "<script>alert(1)</script> {name}\nsecond line\n\nOpen {link}"
    values = {**VALUES, "name": "<b>Pat</b>", "link": 'http://x/"onmouseover="y'}
    html = render_to_string("emails/message.html", {"paragraphs": wording.paragraphs(body, values)})
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Pat&lt;/b&gt;" in html and "<b>" not in html
    assert '<a href="http://x/&quot;onmouseover=&quot;y">' in html
    assert html.count("<p>") == 2 and "<br>" in html


@pytest.mark.parametrize("kind", ["invitation", "reminder"])
@pytest.mark.parametrize("program", ["Bridges", "The Mentoring Programme", "STEM Circle"])
def test_the_default_wording_reads_naturally_whatever_the_programs_name(kind, program):
    subject = wording.fill(wording.default_subject(kind), {**VALUES, "program": program})
    body = wording.fill(wording.default_body(kind), {**VALUES, "program": program})
    assert wording.body_problems(wording.default_body(kind)) == []
    assert subject in {f"Your survey from {program}", f"Reminder: your survey from {program}"}
    assert body.startswith("Hello Pat,") and VALUES["link"] in body
    assert "closes on 14 March 2027" in body
    if kind == "invitation":
        assert f"the {program} survey about your mentoring relationship with Beatriz" in body
    else:
        assert f"your {program} survey is still waiting for you" in body
