"""Explicit state machines: every allowed move is written down, anything
else raises. Nothing in the product changes a state field except through the
services that call ``StateMachine.check``."""

from dataclasses import dataclass


class IllegalTransition(Exception):
    def __init__(self, machine: str, current: str, target: str):
        super().__init__(f"{machine}: {current!r} -> {target!r} is not allowed")
        self.machine = machine
        self.current = current
        self.target = target


@dataclass(frozen=True)
class StateMachine:
    name: str
    transitions: dict[str, frozenset[str]]

    def __post_init__(self):
        known = set(self.transitions)
        for source, targets in self.transitions.items():
            unknown = set(targets) - known
            if unknown:
                raise ValueError(f"{self.name}: {source} leads to undeclared states {unknown}")

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.transitions)

    def allowed(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())

    def check(self, current: str, target: str) -> None:
        if not self.allowed(current, target):
            raise IllegalTransition(self.name, current, target)

    def is_terminal(self, state: str) -> bool:
        return not self.transitions[state]
