"""The notice workflow table: the diagram in the docs is generated from it (and this test fails when they
differ), and `transition()` refuses whatever the table does not declare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.notices.workflow import EDITABLE, TRANSITIONS, Action, State, TransitionRefused, mermaid, transition

DOC = Path(__file__).resolve().parents[2] / "docs" / "notice-workflow.md"


def test_the_documented_diagram_is_the_table() -> None:
    block = re.search(r"```mermaid\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None, "docs/notice-workflow.md has no mermaid block"
    regenerate = "python -c 'from services.notices.workflow import mermaid; print(mermaid())'"
    assert block.group(1) == mermaid(), f"the diagram is out of date; regenerate it with {regenerate}"


def test_every_declared_transition_is_taken_and_nothing_else() -> None:
    for (source, action), target in TRANSITIONS.items():
        assert transition(source.value, action) is target
    undeclared = [(s, a) for s in State for a in Action if (s, a) not in TRANSITIONS]
    for source, action in undeclared:
        with pytest.raises(TransitionRefused):
            transition(source.value, action)
    with pytest.raises(TransitionRefused):
        transition("no-such-state", Action.SUBMIT)


@pytest.mark.parametrize(("source", "action", "target"), [
    (State.DRAFT, Action.SUBMIT, State.IN_REVIEW),
    (State.IN_REVIEW, Action.PUBLISH, State.PUBLISHED),
    (State.IN_REVIEW, Action.PRIVACY_RETURN, State.CHANGES_REQUESTED),
    (State.PUBLISHED, Action.SUPERSEDE, State.CORRECTED),
    (State.PUBLISHED, Action.RETRACT, State.RETRACTED),
])
def test_the_rules_of_the_seeds(source: State, action: Action, target: State) -> None:
    assert transition(source, action) is target


def test_final_states_have_no_way_out_and_only_drafts_are_editable() -> None:
    for final in (State.REJECTED, State.CORRECTED, State.RETRACTED, State.DISCARDED):
        assert not [a for (s, a) in TRANSITIONS if s is final]
    assert {State.DRAFT, State.CHANGES_REQUESTED} == EDITABLE
    audit_only = {Action.CREATE, Action.EDIT, Action.PRIVACY_MASK, Action.PRIVACY_OVERRIDE}
    assert not [a for (_, a) in TRANSITIONS if a in audit_only]
    assert all(line in mermaid() for line in ("[*] --> draft", "in_review --> published: publish"))
