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
