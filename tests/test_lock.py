"""The lock files: what `make install` and .ci/run install, and what a server runs.

``requirements.txt`` (the app) and ``requirements-dev.txt`` (the app, tests and tools)
are compiled from ``pyproject.toml`` by ``make lock``. These tests fail when the lock
drifts: from the environment the suite runs in, from ``pyproject.toml``'s bounds, or
between the two files.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.M)
PROJECT = "continuum"


def pins(name: str) -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line of a lock file."""
    text = (ROOT / name).read_text()
    return {canonicalize_name(n): version for n, version in PIN.findall(text)}


def unhashed(name: str) -> list[str]:
    """Pinned packages of a lock file that carry no ``--hash``."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text())
    return [b.split("==")[0] for b in blocks if PIN.match(b) and "--hash=sha256:" not in b]


def installed() -> dict[str, str]:
    """``{canonical name: version}`` of every distribution in this interpreter's
    environment, the project itself left out."""
    found = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    found.pop(PROJECT, None)
    return found


def declared() -> list[Requirement]:
    """The runtime and dev requirements of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]


def test_the_environment_is_exactly_the_dev_lock():
    """A package missing, extra or at another version means the lock and this
    environment differ: `make install` brings the environment back to the lock."""
    locked, present = pins("requirements-dev.txt"), installed()
    differ = {
        name: (locked.get(name), present.get(name))
        for name in locked.keys() | present.keys()
        if locked.get(name) != present.get(name)
    }
    assert differ == {}, f"(locked, installed) per package; run `make install`: {differ}"


def test_every_declared_requirement_is_locked_within_its_bounds():
    """pyproject.toml changed without `make lock` shows here."""
    locked = pins("requirements-dev.txt")
    outside = {
        str(r): locked.get(canonicalize_name(r.name))
        for r in declared()
        if locked.get(canonicalize_name(r.name)) not in r.specifier
    }
    assert outside == {}, f"run `make lock`: {outside}"


def test_every_declared_requirement_has_an_upper_bound():
    unbounded = [
        str(r)
        for r in declared()
        if not any(s.operator in ("<", "<=", "==", "~=") for s in r.specifier)
    ]
    assert unbounded == []


def test_the_app_lock_is_the_dev_lock_without_the_tools():
    app, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in app} == app
    assert {"django", "gunicorn", "psycopg2-binary"} <= app.keys()
    assert not {"pytest", "ruff", "pip-tools"} & app.keys()


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_pin_carries_its_hashes(name):
    assert pins(name) and unhashed(name) == []


def test_the_lock_was_compiled_for_this_python():
    header = (ROOT / "requirements.txt").read_text()
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in header


def test_make_install_and_ci_install_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    stamp = re.search(r"^\$\(STAMP\): (.*)$", makefile, re.M).group(1).split()
    assert {"requirements.txt", "requirements-dev.txt"} <= set(stamp)
    assert "-r requirements-dev.txt" in makefile and "pip-sync" in makefile
    assert re.search(r"^lock:", makefile, re.M)
