"""The documents name tests that exist: every ``tests/FILE.py::test_name`` (and every
``tests/FILE.py``) mentioned in docs/ resolves."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
REFERENCE = re.compile(r"(tests/[\w/]+\.py)((?:::\w+|`?, `?::\w+)*)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_test_a_document_names_exists(doc):
    missing = []
    for path, names in REFERENCE.findall(doc.read_text()):
        source = ROOT / path
        if not source.exists():
            missing.append(path)
            continue
        text = source.read_text()
        for name in re.findall(r"::(\w+)", names):
            if not re.search(rf"def {name}\(", text):
                missing.append(f"{path}::{name}")
    assert missing == []
