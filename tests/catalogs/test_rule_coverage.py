"""Every rule id of DOMAIN.md is known to the code and cited by at least one profile."""

import re
import typing
from pathlib import Path

import pytest

from catalogs import Registry
from catalogs.deadlines import event_rules
from catalogs.vocabulary import RuleId

DOMAIN = Path("/work/shared/DOMAIN.md")
KNOWN = set(typing.get_args(RuleId))


@pytest.mark.skipif(not DOMAIN.is_file(), reason="DOMAIN.md not present")
def test_rule_ids_match_domain() -> None:
    ids = set(re.findall(r"^\| (T-[A-Z0-9-]+) \|", DOMAIN.read_text(encoding="utf-8"), flags=re.M))
    assert ids == KNOWN


def test_every_rule_id_is_cited_by_some_profile(registry: Registry) -> None:
    cited: set[str] = set()
    for profile in registry.profiles.values():
        cited |= {profile.rule_for(c).rule for c in ("long_term", "annual", "quarterly", "monthly")}
        cited |= {rule.rule for rule in event_rules(profile).values()}
        cited |= {profile.keep_rule.rule, profile.finance_rule.rule}
    assert cited == KNOWN
