"""The outbox's gate passes a village's official numbers by one mechanism: the keys loaded in the session
(outbox.OFFICIAL_KEYS, filled by official_numbers.keys) for the row's village. No field is exempt by its name
(a notice's "supervision_phone" is screened like the rest), and `allowed` passes a number only as written
(a supervisor's allowance), not by its key in another format."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services import outbox
from services.errors import DomainError

PHONE = "0471-6543210"  # the village's supervision line, as the notice prints it
KEY = "4716543210"


def _session(**info: Any) -> Any:
    return SimpleNamespace(info=dict(info), add=lambda row: None)


def test_a_loaded_official_number_passes_in_any_field() -> None:
    session = _session(**{outbox.OFFICIAL_KEYS: {7: frozenset({KEY})}})
    row = outbox.queue(session, 1, "notice", {"body": "电话 0471 6543210", "supervision_phone": PHONE},
                       village_id=7)
    assert row.context["supervision_phone"] == PHONE


@pytest.mark.parametrize(("info", "village_id", "allowed"), [
    ({}, 7, ()),  # the path did not load the keys: fails closed
    ({outbox.OFFICIAL_KEYS: {8: frozenset({KEY})}}, 7, ()),  # another village's numbers
    ({outbox.OFFICIAL_KEYS: {7: frozenset({KEY})}}, None, ()),  # a row of no village
    ({}, 7, (KEY,)),  # the key passed as an allowance: no longer a second way in
])
def test_an_official_number_is_refused_unless_loaded_for_the_rows_village(info: dict[str, Any], village_id: int | None,
                                                                          allowed: tuple[str, ...]) -> None:
    with pytest.raises(DomainError) as refused:
        outbox.queue(_session(**info), 1, "notice", {"supervision_phone": PHONE}, village_id=village_id,
                     allowed=allowed)
    assert refused.value.key == "privacy_gate.blocked"


def test_require_clean_passes_official_keys_in_any_format() -> None:
    assert outbox.require_clean("监督电话 0471 6543210", {KEY}) == "监督电话 0471 6543210"
    with pytest.raises(DomainError):
        outbox.require_clean("监督电话 0471 6543210")
