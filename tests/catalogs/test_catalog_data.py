"""The transcribed catalogs: counts, languages, codes, roles, procedures, and fidelity to the seeds."""

from pathlib import Path

import pytest

from catalogs import Item, Registry
from catalogs.catalog import MAX_FULL_ID

SEEDS = Path("/work/shared/seeds")


@pytest.mark.parametrize(
    ("code", "counts"),
    [
        ("jyv", {"zd": 9, "sw": 21, "cw": 18}),
        ("jyc", {"zd": 9, "sw": 16, "cw": 5}),
        ("yb", {"dw": 1, "zw": 1, "cw": 1, "fw": 1}),
        ("dwk", {"dw": 1, "sw": 5, "cw": 7, "bm": 1}),
        ("yl", {"wq": 6}),
    ],
)
def test_item_counts(registry: Registry, code: str, counts: dict[str, int]) -> None:
    assert {klass.code: len(klass.items) for klass in registry.catalog(code).classes} == counts


def test_community_finance_keeps_the_source_numbering(registry: Registry) -> None:
    assert [item.number for item in _items(registry, "jyc", "cw")] == [1, 2, 3, 5, 6]


def test_every_item_is_complete(registry: Registry) -> None:
    for catalog in registry.catalogs.values():
        for item in catalog.items():
            assert item.zh.strip() and item.en.strip() and item.source, item.full_id
            assert not item.zh.endswith(("；", ";")), item.full_id
            assert item.en.isascii(), item.full_id
            assert len(item.full_id) <= MAX_FULL_ID and item.full_id.isascii(), item.full_id
            assert not item.ambiguous or item.note, item.full_id


def test_full_ids_resolve(registry: Registry) -> None:
    item = registry.item("jyv:sw.20")
    assert (item.full_id, item.code, item.class_code, item.catalog_code) == ("jyv:sw.20", "sw.20", "sw", "jyv")


def test_question_replies_role(registry: Registry) -> None:
    assert sorted(item.full_id for item in registry.items_with_role("question_replies")) == ["jyc:sw.15", "jyv:sw.20"]
    assert [item.full_id for item in registry.catalog("jyv").with_role("question_replies")] == ["jyv:sw.20"]


def test_catalog_headers(registry: Registry) -> None:
    kinds = {code: catalog.unit_kind for code, catalog in registry.catalogs.items()}
    assert kinds == {"jyv": "village", "jyc": "community", "yb": "village", "dwk": "village", "yl": "village"}
    assert {code: c.profile for code, c in registry.catalogs.items()} == {
        "jyv": "jiangyuan",
        "jyc": "jiangyuan",
        "yb": "yubei",
        "dwk": "dawukou",
        "yl": None,
    }


def test_cadence_readings_from_000(registry: Registry) -> None:
    rules = _items(registry, "jyv", "zd")
    assert {item.cadence for item in rules if not item.zh.startswith("其他")} == {"long_term"}
    # catch-alls ("其他…") are disclosed when a matter arises, never owed as periodic duties (issue 12)
    catch_alls = [i for c in ("jyv", "jyc") for i in registry.catalog(c).items() if i.zh.startswith("其他")]
    assert len(catch_alls) == 6 and {i.cadence for i in catch_alls} == {"adhoc"}
    assert registry.item("jyv:cw.17").owner == "supervisor" and registry.item("jyv:cw.1").owner == "staff"
    assert registry.item("jyv:sw.1").cadence == "long_term"  # T-LONG: term goals, annual plans
    assert registry.item("jyv:sw.18").cadence == "immediate"  # T-NOW: new benefit policies
    assert registry.item("jyv:sw.7").cadence == "immediate"  # T-NOW: meeting resolutions
    assert registry.item("jyv:sw.13").cadence == "staged"  # T-STAGED: long projects
    assert registry.item("jyc:sw.10").cadence == "staged"  # 老旧小区改造, named in 000
    assert registry.item("jyv:sw.3").cadence == "adhoc"  # elections
    assert registry.item("jyv:cw.1").finance and registry.item("jyc:cw.3").finance


def test_seed_classes_are_represented_once_each(registry: Registry) -> None:
    assert all(item.ambiguous for item in registry.catalog("yb").items())
    assert [klass.names.zh for klass in registry.catalog("yb").classes] == ["党务", "政务", "财务", "服务"]
    assert [item.zh for item in _items(registry, "dwk", "cw")] == [
        "資產",
        "資金",
        "資源",
        "債權債務",
        "審計",
        "項目",
        "公益",
    ]
    assert [item.zh for item in registry.catalog("yl").items()] == [
        "重大事项决策",
        "工程招投标",
        "集体资产管理",
        "村级救助救济",
        "村级阳光村务",
        "公共服务",
    ]


def test_four_deliberations_two_disclosures(registry: Registry) -> None:
    (procedure,) = registry.catalog("yl").procedures
    assert procedure.names.zh == "四议两公开"
    assert [step.code for step in procedure.steps] == ["propose", "discuss", "review", "decide", "resolution", "result"]
    disclosures = {step.code: step.cadence for step in procedure.disclosures()}
    assert disclosures == {"resolution": "immediate", "result": "adhoc"}


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed documents not present")
@pytest.mark.parametrize("code", ["jyv", "jyc"])
def test_jiangyuan_items_are_verbatim(registry: Registry, code: str) -> None:
    seed = next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8")
    missing = [item.full_id for item in registry.catalog(code).items() if item.zh not in seed]
    assert missing == []


def _items(registry: Registry, catalog: str, klass: str) -> list[Item]:
    found = registry.catalog(catalog).klass(klass)
    assert found is not None, f"{catalog} has no class {klass}"
    return list(found.items)
