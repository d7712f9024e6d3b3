"""Growth strategies shown on a participant's results page, in our own words.

Each REL subscale maps to the strategy that most directly strengthens it; the page
shows the strategies of the person's three weakest subscales. An instrument carries its
strategies, in each of its languages, on its subscales (``Subscale.strategy_in``); the
ones below, translated through the site's catalogues, serve subscales without one (an
instrument loaded before instruments carried strategies).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Strategy:
    theme: str
    title: str
    advice: str


STRATEGIES: dict[str, Strategy] = {
    "REL-LG": Strategy(
        "know yourself",
        _("Learn from each other on purpose"),
        _(
            "Before your next meeting, each write down one thing you would like to learn "
            "from the other. Swap notes and plan one conversation where the usual roles flip."
        ),
    ),
    "REL-IN": Strategy(
        "clarify expectations",
        _("Talk about where you are heading"),
        _(
            "Spend ten minutes on the bigger picture: what would make this year a success for "
            "each of you? Agree on one goal you will both keep in view."
        ),
    ),
    "REL-AF": Strategy(
        "create a safe space",
        _("Make room to be yourselves"),
        _(
            "Name one strength you have seen in your partner recently and say why it mattered. "
            "Invite each other to raise ideas that are still rough."
        ),
    ),
    "REL-CN": Strategy(
        "create positive norms",
        _("Give by need, not by tally"),
        _(
            "Agree that either of you may ask for help without it being a favour to repay. "
            "Check in on what the other needs most this month, and offer it first."
        ),
    ),
    "REL-SI": Strategy(
        "communicate and listen",
        _("Share the lead"),
        _(
            "Let the person who knows most about a topic lead that part of the conversation. "
            "When you disagree, summarise the other's view before giving yours."
        ),
    ),
    "REL-TC": Strategy(
        "build trust",
        _("Build trust in small steps"),
        _(
            "Keep every promise you make to each other, however small, and say what stays "
            "between you. Share one current challenge openly and ask for a real opinion."
        ),
    ),
}


def weakest_strategies(
    scores: dict[str, float | None],
    count: int = 3,
    offered: dict[str, Strategy] | None = None,
) -> list[Strategy]:
    """Strategies for the ``count`` lowest REL subscale scores (missing ones last), among
    ``offered`` (subscale code -> strategy; default ``STRATEGIES``)."""
    offered = STRATEGIES if offered is None else offered
    ranked = sorted(
        offered,
        key=lambda code: (scores.get(code) is None, scores.get(code) or 0.0, code),
    )
    return [offered[code] for code in ranked[:count]]
