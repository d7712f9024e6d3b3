"""`load_instrument` validates a whole definition, reports every problem with its
location, and loads nothing unless the definition is clean."""

import copy
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assessments.instruments import validate_definition
from assessments.models import Instrument, Item

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "fixtures" / "instruments" / "continuum-default-v1.json"


def small_definition() -> dict:
    def items(prefix: str, n: int = 2) -> list[dict]:
        return [
            {"code": f"{prefix}-{i}", "mentor": f"Mentor says {i}", "protege": f"Protégé says {i}"}
            for i in range(1, n + 1)
        ]

    agree = {"min": 1, "max": 7, "labels": [f"point {i}" for i in range(1, 8)]}
    return {
        "code": "tiny",
        "version": 1,
        "title": "Tiny instrument",
        "batteries": [
            {
                "code": "REL",
                "title": "Relational",
                "scale": agree,
                "subscales": [
                    {"code": "REL-TC", "title": "Trust", "items": items("REL-TC")},
                    {"code": "REL-CN", "title": "Norms", "items": items("REL-CN")},
                ],
            },
            {
                "code": "STR",
                "title": "Strain",
                "scale": {"min": 1, "max": 5, "labels": list("ABCDE")},
                "subscales": [{"code": "STR", "title": "Strain", "items": items("STR", 3)}],
            },
        ],
    }


def broken(change) -> dict:
    definition = copy.deepcopy(small_definition())
    change(definition)
    return definition


def rel_item(d: dict, subscale: int = 0, item: int = 0) -> dict:
    return d["batteries"][0]["subscales"][subscale]["items"][item]


BROKEN = {
    "duplicate item code": (
        lambda d: rel_item(d, 0, 1).update(code="REL-TC-1"),
        "batteries[0].subscales[0].items[1].code",
        "duplicate item code REL-TC-1",
    ),
    "duplicate subscale code": (
        lambda d: d["batteries"][0]["subscales"][1].update(code="REL-TC"),
        "batteries[0].subscales[1].code",
        "duplicate subscale code REL-TC",
    ),
    "subscale without items": (
        lambda d: d["batteries"][0]["subscales"][1].update(items=[]),
        "batteries[0].subscales[1].items",
        "subscale REL-CN has no items",
    ),
    "missing protégé wording": (
        lambda d: rel_item(d).pop("protege"),
        "batteries[0].subscales[0].items[0].protege",
        "the protege wording is missing",
    ),
    "blank mentor wording": (
        lambda d: rel_item(d).update(mentor="   "),
        "batteries[0].subscales[0].items[0].mentor",
        "the mentor wording is missing",
    ),
    "item code with a space": (
        lambda d: rel_item(d).update(code="REL-TC 1"),
        "batteries[0].subscales[0].items[0].code",
        "letters, digits",
    ),
    "inverted scale": (
        lambda d: d["batteries"][0]["scale"].update(min=7, max=1),
        "batteries[0].scale",
        "0 ≤ min < max",
    ),
    "too few labels": (
        lambda d: d["batteries"][1]["scale"].update(labels=["A", "B"]),
        "batteries[1].scale.labels",
        "needs exactly 5 labels",
    ),
    "unknown battery": (
        lambda d: d["batteries"][1].update(code="XYZ"),
        "batteries[1].code",
        "must be one of REL, CAR, PSY, STR, OVR",
    ),
    "item code outside its subscale": (
        lambda d: rel_item(d, 1, 0).update(code="REL-XX-1"),
        "batteries[0].subscales[1].items[0].code",
        "must start with REL-CN-",
    ),
    "non-boolean reverse key": (
        lambda d: rel_item(d).update(reverse_keyed="yes"),
        "batteries[0].subscales[0].items[0].reverse_keyed",
        "must be true or false",
    ),
    "version zero": (lambda d: d.update(version=0), "version", "at least 1"),
    "misspelt key": (
        lambda d: rel_item(d).update(revers_keyed=True),
        "batteries[0].subscales[0].items[0]",
        "unknown key 'revers_keyed'",
    ),
    "no batteries": (lambda d: d.update(batteries=[]), "batteries", "at least one battery"),
}


def test_the_small_definition_is_valid():
    assert validate_definition(small_definition()) == []


@pytest.mark.parametrize("kind", BROKEN)
def test_each_broken_definition_is_reported_by_name_and_location(kind):
    change, location, message = BROKEN[kind]
    problems = validate_definition(broken(change))
    assert any(p.location == location and message in p.message for p in problems), problems


def test_every_problem_is_reported_at_once():
    def two_faults(d):
        rel_item(d).pop("mentor")
        d["batteries"][1]["scale"].update(labels=[])

    assert len(validate_definition(broken(two_faults))) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("kind", BROKEN)
def test_load_instrument_loads_nothing_from_a_broken_file(kind, tmp_path):
    change, location, _ = BROKEN[kind]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken(change)))
    with pytest.raises(CommandError, match="nothing was loaded") as error:
        call_command("load_instrument", str(path))
    assert location in str(error.value)
    assert not Instrument.objects.exists() and not Item.objects.exists()


@pytest.mark.django_db
def test_a_file_that_is_not_json_is_reported_with_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"code": "tiny",\n  "version": }')
    with pytest.raises(CommandError, match=r"bad.json:2:\d+: invalid JSON"):
        call_command("load_instrument", str(path))


@pytest.mark.django_db
def test_a_file_in_another_encoding_is_reported(tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes('{"title": "Protégé"}'.encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("load_instrument", str(path))


@pytest.mark.django_db
def test_loading_twice_changes_nothing_and_changed_content_needs_a_new_version(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(small_definition()))
    call_command("load_instrument", str(path))
    call_command("load_instrument", str(path))
    assert Instrument.objects.count() == 1 and Item.objects.count() == 7
    path.write_text(json.dumps(broken(lambda d: d.update(title="Changed"))))
    with pytest.raises(CommandError, match="give the changed definition a new version"):
        call_command("load_instrument", str(path))


@pytest.mark.django_db
def test_the_default_instrument_loads_with_the_designed_counts():
    call_command("load_instrument", str(DEFAULT))
    instrument = Instrument.objects.get(code="continuum-default", version=1)
    items = Item.objects.filter(subscale__battery__instrument=instrument)
    counts = {
        code: items.filter(subscale__battery__code=code).count()
        for code in ("REL", "CAR", "PSY", "STR", "OVR")
    }
    assert counts == {"REL": 18, "CAR": 15, "PSY": 12, "STR": 6, "OVR": 3}
    assert all(item.text_mentor.strip() and item.text_protege.strip() for item in items)
    scales = {b.code: (b.scale_min, b.scale_max) for b in instrument.batteries.all()}
    assert scales == {"REL": (1, 7), "CAR": (1, 7), "PSY": (1, 7), "STR": (1, 5), "OVR": (1, 7)}
    assert all(
        len(b.scale_labels) == b.scale_max - b.scale_min + 1 for b in instrument.batteries.all()
    )
    na = {b: items.filter(subscale__battery__code=b, allow_na=True).count() for b in scales}
    assert na == {"REL": 18, "CAR": 15, "PSY": 12, "STR": 0, "OVR": 0}
    reverse = items.filter(reverse_keyed=True)
    assert 1 <= reverse.count() <= 6
    assert {r.subscale.battery.code for r in reverse} <= {"REL"}
    assert len({r.subscale_id for r in reverse}) == reverse.count()


def test_default_subscales_follow_the_design():
    definition = json.loads(DEFAULT.read_text())
    subscales = {b["code"]: [s["code"] for s in b["subscales"]] for b in definition["batteries"]}
    assert subscales == {
        "REL": ["REL-LG", "REL-IN", "REL-AF", "REL-CN", "REL-SI", "REL-TC"],
        "CAR": ["CAR-SP", "CAR-EX", "CAR-CO", "CAR-PR", "CAR-CH"],
        "PSY": ["PSY-RM", "PSY-AC", "PSY-CS", "PSY-FR"],
        "STR": ["STR"],
        "OVR": ["OVR"],
    }
