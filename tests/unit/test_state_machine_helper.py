"""kyc.state_machine: the helper every state machine of the product is built on."""

import pytest

from kyc.state_machine import IllegalTransition, StateMachine

DOOR = StateMachine(
    "door",
    {
        "closed": frozenset({"open", "locked"}),
        "open": frozenset({"closed"}),
        "locked": frozenset({"closed"}),
        "bricked_up": frozenset(),
    },
)


def test_declared_move_is_allowed_and_passes_the_check():
    assert DOOR.allowed("closed", "open")
    DOOR.check("closed", "open")  # does not raise


def test_undeclared_move_is_not_allowed():
    assert not DOOR.allowed("open", "locked")


def test_check_of_undeclared_move_raises_illegal_transition_naming_the_move():
    with pytest.raises(IllegalTransition) as raised:
        DOOR.check("open", "locked")
    assert raised.value.machine == "door"
    assert raised.value.current == "open"
    assert raised.value.target == "locked"
    assert "'open' -> 'locked'" in str(raised.value)


def test_staying_in_the_same_state_is_a_transition_like_any_other():
    """Nothing moves to its own state unless the machine says so."""
    with pytest.raises(IllegalTransition):
        DOOR.check("closed", "closed")


def test_unknown_current_state_raises_instead_of_passing():
    with pytest.raises(IllegalTransition):
        DOOR.check("ajar", "closed")


def test_unknown_target_state_raises():
    with pytest.raises(IllegalTransition):
        DOOR.check("closed", "ajar")


def test_machine_refuses_to_be_built_with_a_move_to_an_undeclared_state():
    with pytest.raises(ValueError, match="undeclared states"):
        StateMachine("broken", {"a": frozenset({"b"})})


def test_states_are_exactly_the_declared_ones():
    assert DOOR.states == {"closed", "open", "locked", "bricked_up"}


def test_a_state_without_exits_is_terminal_and_others_are_not():
    assert DOOR.is_terminal("bricked_up")
    assert not DOOR.is_terminal("closed")
