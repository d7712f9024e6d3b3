"""Random research codes such as ``P-7K3Q9M`` and ``D-4HX2PA``.

The alphabet leaves out 0/O, 1/I/L and U so that codes survive being read aloud
or copied by hand into a spreadsheet.
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 6


def new_code(prefix: str, *, rng: secrets.SystemRandom | None = None) -> str:
    choice = (rng or secrets.SystemRandom()).choice
    return f"{prefix}-" + "".join(choice(ALPHABET) for _ in range(CODE_LENGTH))


def new_participant_code() -> str:
    return new_code("P")


def new_dyad_code() -> str:
    return new_code("D")


def fresh_codes(model, prefix: str, count: int, chunk: int = 5000) -> list[str]:
    """``count`` new codes, distinct from each other and from every code in ``model``.

    Bulk creation skips the database's one-at-a-time defaults, and with thousands of
    people random six-letter codes do collide (about one chance in three at 23,000
    participants), so codes for a batch are drawn here and checked against the table.
    """
    codes: set[str] = set()
    while len(codes) < count:
        drawn = list({new_code(prefix) for _ in range(count - len(codes))} - codes)
        taken: set[str] = set()
        for start in range(0, len(drawn), chunk):
            found = model.objects.filter(research_code__in=drawn[start : start + chunk])
            taken.update(found.values_list("research_code", flat=True))
        codes.update(code for code in drawn if code not in taken)
    return list(codes)
