"""The wording of participant emails: named placeholders, their checks and rendering.

A program may reword its invitation and its reminder (``MessageTemplate``): a subject
and a plain-text body with named placeholders such as ``{name}`` and ``{link}``. The
HTML part of the email is built from the same body, never typed by a coordinator:
paragraphs (separated by a blank line) become ``<p>``, line breaks ``<br>`` and
``{link}`` a link, while every word of the body and every value is escaped by the
template that draws it (``emails/message.html``). Nobody can put markup, script or a
tracking image into a message, and the two parts of an email never drift apart.

Placeholders are filled by ``fill`` from plain strings only: ``str.format`` is never
applied to a coordinator's text, so ``{name.__class__}`` and the like read nothing.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

LINK = "link"
# Placeholder → what it stands for (the form's help lists them in this order).
PLACEHOLDERS = {
    "name": _("the person's name, as the program supplied it"),
    "partner": _("their partner's name"),
    "role": _("their role: mentor or protégé"),
    "program": _("the program's name"),
    "wave": _("the wave, such as “Wave 2”"),
    "closes_on": _("the day the survey closes, such as “14 March 2027”"),
    LINK: _("their personal survey link (required in the body)"),
}
MAX_SUBJECT = 200
MAX_BODY = 5000
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


@dataclass(frozen=True)
class Part:
    """A run of text in a rendered paragraph line; ``link`` when it is the survey link."""

    text: str
    link: bool = False


def _pieces(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """``string.Formatter.parse`` of ``text``; raises ``ValueError`` on unpaired braces."""
    return list(string.Formatter().parse(text))


def placeholder_problems(text: str, *, allowed: set[str]) -> list[str]:
    """What is wrong with the placeholders of ``text`` (empty when nothing is).

    A placeholder is a known name in braces, nothing more: no position (``{0}``), no
    attribute or index (``{name.x}``), no conversion or format (``{name!r}``,
    ``{name:>9}``). A brace meant as a brace is written twice: ``{{`` or ``}}``.
    """
    try:
        pieces = _pieces(text)
    except ValueError:
        return [str(_("A brace { or } has no partner; write {{ or }} for a brace itself."))]
    problems = []
    for _literal, field, conversion, spec in pieces:
        if field is None:
            continue
        if field not in allowed:
            shown = "{" + field + "}"
            problems.append(str(_("%(placeholder)s is not a placeholder you can use here."))
                            % {"placeholder": shown})  # fmt: skip
        elif conversion or spec:
            problems.append(str(_("Write {%(name)s} with nothing else inside the braces."))
                            % {"name": field})  # fmt: skip
    return list(dict.fromkeys(problems))


def uses(text: str, name: str) -> bool:
    """Whether ``text`` (already checked) holds the placeholder ``name``."""
    return any(field == name for _literal, field, _c, _s in _pieces(text))


def subject_problems(subject: str) -> list[str]:
    """Problems of a subject line: unknown placeholders, the link, line breaks."""
    problems = placeholder_problems(subject, allowed=set(PLACEHOLDERS) - {LINK})
    if "\n" in subject or "\r" in subject:
        problems.append(str(_("A subject is one line.")))
    return problems


def body_problems(body: str) -> list[str]:
    """Problems of a body: unknown placeholders, or no ``{link}`` to the survey."""
    problems = placeholder_problems(body, allowed=set(PLACEHOLDERS))
    if not problems and not uses(body, LINK):
        problems.append(str(_("The body must hold {link}: without it nobody can answer.")))
    return problems


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each placeholder replaced by its value (``{{`` → ``{``)."""
    return "".join(
        literal + ("" if field is None else values.get(field, "{" + field + "}"))
        for literal, field, _c, _s in _pieces(text)
    )


def one_line(text: str) -> str:
    """A subject with any line break a value brought in turned into a space."""
    return " ".join(text.split())


def paragraphs(body: str, values: Mapping[str, str]) -> list[list[list[Part]]]:
    """The body as paragraphs of lines of parts, for the HTML template to draw (it
    escapes every part). ``{link}`` becomes a link part; everything else is text."""
    drawn = []
    for block in PARAGRAPH_BREAK.split(body.replace("\r\n", "\n").strip()):
        lines = [[]]
        for literal, field, _c, _s in _pieces(block):
            for index, piece in enumerate(literal.split("\n")):
                if index:
                    lines.append([])
                if piece:
                    lines[-1].append(Part(piece))
            if field is not None:
                shown = values.get(field, "{" + field + "}")
                lines[-1].append(Part(shown, link=field == LINK))
        drawn.append(lines)
    return drawn


# --- the wording a program starts with ---------------------------------------------------

DEFAULT_SUBJECTS = {
    "invitation": _("Your survey from {program}"),
    "reminder": _("Reminder: your survey from {program}"),
}
_OPENINGS = {
    "invitation": _(
        "It is time for the {program} survey about your mentoring relationship with "
        "{partner}, where you are the {role}."
    ),
    "reminder": _("A friendly reminder: your {program} survey is still waiting for you."),
}
_LINK_LINES = _("Open your survey with this personal link (do not share it):\n{link}")
_CLOSING = _(
    "It takes about 10 minutes and your answers are saved as you go. This link works on "
    "any device, as often as you need, until you submit or the survey closes on "
    "{closes_on}; every reminder carries the same link.\nYour partner never sees your "
    "answers. The link opens your own survey only: please do not forward it."
)


def default_subject(kind: str) -> str:
    return str(DEFAULT_SUBJECTS[kind])


def default_body(kind: str) -> str:
    """The body every program starts with: it reads the same whatever the program's
    name, and names the partner as the program supplied them."""
    hello = _("Hello {name},")
    return "\n\n".join(str(part) for part in (hello, _OPENINGS[kind], _LINK_LINES, _CLOSING))
