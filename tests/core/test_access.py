"""access.py: the role x action matrix."""

from __future__ import annotations

import itertools

import pytest

from brankas.core.access import ACTION_WORDS, MATRIX, Action, allowed, require
from brankas.core.errors import AccessDenied
from brankas.core.terms import ROLE_LABELS, Role

PAIRS = list(itertools.product(Role, Action))


def test_every_action_has_a_rule_and_words() -> None:
    assert set(MATRIX) == set(Action)
    assert set(ACTION_WORDS) == set(Action)
    assert all(len(words) == 2 and all(w.strip() for w in words)
               for words in ACTION_WORDS.values())


@pytest.mark.parametrize(("role", "action"), [p for p in PAIRS if p[0] not in MATRIX[p[1]]],
                         ids=lambda v: str(v))
def test_require_refuses_roles_outside_the_matrix(role: Role, action: Action) -> None:
    assert allowed(role, action) is False
    with pytest.raises(AccessDenied) as info:
        require(role.value, action)
    exc = info.value
    assert exc.code == "permission_denied"
    assert exc.kind == "denied"
    indonesian, english = ACTION_WORDS[action]
    assert role.value in exc.message("id") and indonesian in exc.message("id")
    assert role.value in exc.message("en") and english in exc.message("en")


@pytest.mark.parametrize(("role", "action"), [p for p in PAIRS if p[0] in MATRIX[p[1]]],
                         ids=lambda v: str(v))
def test_require_lets_roles_in_the_matrix_through(role: Role, action: Action) -> None:
    assert allowed(role, action) is True
    assert require(role, action) is None


@pytest.mark.parametrize(
    ("role", "action", "expected"),
    [
        (Role.SANDIMAN, Action.REGISTER, True),
        (Role.SANDIMAN, Action.OPEN_EXEMPTED, False),  # encrypts, never decrypts
        (Role.ADMIN, Action.OPEN_EXEMPTED, False),
        (Role.KADIS, Action.REGISTER, False),
        (Role.KABID, Action.OPEN_EXEMPTED, True),
        (Role.KASI, Action.MANAGE_USERS, False),
        (Role.ADMIN, Action.MANAGE_KEYS, True),
    ],
)
def test_sop_rules(role: Role, action: Action, expected: bool) -> None:
    assert allowed(role, action) is expected


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises((AccessDenied, ValueError)):
        require("bupati", Action.LIST)


def test_every_role_has_a_label() -> None:
    assert set(ROLE_LABELS) == set(Role)
