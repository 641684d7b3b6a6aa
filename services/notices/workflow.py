"""The notice workflow as a declared table of states and transitions (diagram: docs/notice-workflow.md).

Every change of a notice's state goes through `transition()`, which refuses anything not in the table,
so the table is the whole truth about what can happen to a notice. Who may take a transition is a
separate question answered by services.notices.drafts and services.notices.review (roles are checked
against the village, every time).
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    PUBLISHED = "published"
    CORRECTED = "corrected"  # a published notice replaced in place by its approved correction
    RETRACTED = "retracted"
    DISCARDED = "discarded"


class Action(StrEnum):
    CREATE = "create"  # audit only: a notice comes into being as a draft
    EDIT = "edit"  # audit only: content changed while editable
    PRIVACY_MASK = "privacy_mask"  # audit only
    PRIVACY_OVERRIDE = "privacy_override"  # audit only: a supervisor allowed a finding, with a reason
    SUBMIT = "submit"
    APPROVE = "approve"  # a stage that is not the last
    PUBLISH = "publish"  # the last stage approves
    PRIVACY_RETURN = "privacy_return"  # the last approval, but the second privacy screen found something
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    DISCARD = "discard"
    SUPERSEDE = "supersede"
    REQUEST_RETRACTION = "request_retraction"
    RETRACT = "retract"


TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.DRAFT, Action.SUBMIT): State.IN_REVIEW,
    (State.CHANGES_REQUESTED, Action.SUBMIT): State.IN_REVIEW,
    (State.IN_REVIEW, Action.APPROVE): State.IN_REVIEW,
    (State.IN_REVIEW, Action.PUBLISH): State.PUBLISHED,
    (State.IN_REVIEW, Action.REQUEST_CHANGES): State.CHANGES_REQUESTED,
    (State.IN_REVIEW, Action.PRIVACY_RETURN): State.CHANGES_REQUESTED,
    (State.IN_REVIEW, Action.REJECT): State.REJECTED,
    (State.IN_REVIEW, Action.WITHDRAW): State.DRAFT,
    (State.DRAFT, Action.DISCARD): State.DISCARDED,
    (State.CHANGES_REQUESTED, Action.DISCARD): State.DISCARDED,
    (State.PUBLISHED, Action.SUPERSEDE): State.CORRECTED,
    (State.PUBLISHED, Action.REQUEST_RETRACTION): State.PUBLISHED,
    (State.PUBLISHED, Action.RETRACT): State.RETRACTED,
}

EDITABLE = frozenset({State.DRAFT, State.CHANGES_REQUESTED})
LIVE = frozenset({State.PUBLISHED})


class TransitionRefused(Exception):
    def __init__(self, state: str, action: Action) -> None:
        super().__init__(f"{action.value} is not possible from {state}")
        self.state, self.action = state, action


def transition(state: str, action: Action) -> State:
    try:
        return TRANSITIONS[(State(state), action)]
    except (KeyError, ValueError) as error:
        raise TransitionRefused(state, action) from error


def mermaid() -> str:
    """The diagram, generated from the table so the docs cannot drift (a test compares them)."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for (source, action), target in TRANSITIONS.items():
        lines.append(f"    {source.value} --> {target.value}: {action.value}")
    return "\n".join(lines)
