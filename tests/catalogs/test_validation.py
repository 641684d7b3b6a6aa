"""Malformed data fails the whole load with a CatalogError naming the file, the item and the field."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from catalogs import CatalogError, Registry, load_registry
from catalogs.registry import PACKAGE_DIR

from .helpers import minimal_catalog, write_yaml


def broken_item(**changes: Any) -> dict[str, Any]:
    catalog = minimal_catalog()
    item = catalog["classes"][0]["items"][2]  # sw.3
    for key, value in changes.items():
        if value is None:
            item.pop(key)
        else:
            item[key] = value
    return catalog


def load_error(tmp_path: Path, data: Any, subdir: str = "items") -> tuple[str, Path]:
    path = write_yaml(tmp_path, subdir, "x.yaml", data)
    with pytest.raises(CatalogError) as caught:
        load_registry([tmp_path])
    return str(caught.value), path


def test_extra_dir_adds_a_catalog(tmp_path: Path) -> None:
    write_yaml(tmp_path, "items", "x.yaml", minimal_catalog())
    assert load_registry([tmp_path]).item("tst:sw.3").en == "Item 3"


def test_unknown_cadence(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, broken_item(cadence="weekly"))
    assert message.startswith(f"{path}: item sw.3: cadence: 'weekly' is not one of ")
    assert "'quarterly'" in message


@pytest.mark.parametrize("field", ["en", "zh", "cadence", "source", "number"])
def test_missing_item_field(tmp_path: Path, field: str) -> None:
    message, path = load_error(tmp_path, broken_item(**{field: None}))
    label = "item sw.#3" if field == "number" else "item sw.3"
    assert message == f"{path}: {label}: {field}: Field required"


def test_duplicate_item_codes(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, broken_item(number=2))
    assert message == f"{path}: item sw.2: number: duplicate item code sw.2"


def test_unknown_item_field_is_a_typo(tmp_path: Path) -> None:
    message, _ = load_error(tmp_path, broken_item(cadance="quarterly"))
    assert "item sw.3: cadance: Extra inputs are not permitted" in message


def test_ambiguous_needs_a_note(tmp_path: Path) -> None:
    message, _ = load_error(tmp_path, broken_item(ambiguous=True))
    assert "item sw.3: note: required when ambiguous" in message


def test_full_id_must_fit_callback_data(tmp_path: Path) -> None:
    message, _ = load_error(
        tmp_path,
        minimal_catalog(code="abcdef")
        | {
            "classes": [
                {
                    **minimal_catalog()["classes"][0],
                    "code": "abcd",
                    "items": [{"number": 12345, "zh": "长", "en": "Long", "cadence": "annual", "source": "t"}],
                }
            ]
        },
    )
    assert "item abcd.12345: code: full id 'abcdef:abcd.12345' exceeds 16 ASCII chars" in message


def test_missing_class_field(tmp_path: Path) -> None:
    catalog = minimal_catalog()
    del catalog["classes"][0]["names"]
    message, path = load_error(tmp_path, catalog)
    assert message == f"{path}: class sw: names: Field required"


def test_unknown_profile_reference(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, minimal_catalog(profile="nowhere"))
    assert message.startswith(f"{path}: profile: unknown profile 'nowhere'; known: ['dawukou',")


def test_unknown_profile_lookup(registry: Registry) -> None:
    with pytest.raises(CatalogError, match=r"unknown profile 'nowhere'; known: \['dawukou', 'jiangyuan'"):
        registry.profile("nowhere")


def test_unknown_catalog_and_item(registry: Registry) -> None:
    with pytest.raises(CatalogError, match="unknown catalog 'zz'"):
        registry.item("zz:sw.1")
    with pytest.raises(CatalogError, match=r"unknown item 'jyv:sw\.99'"):
        registry.item("jyv:sw.99")


def test_duplicate_catalog_code_across_dirs(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, minimal_catalog(code="jyv"))
    assert message.startswith(f"{path}: code 'jyv' already defined in ")


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, "code: [unclosed\n")
    assert message.startswith(f"{path}: cannot read:")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, "- a\n- b\n")
    assert message == f"{path}: top level must be a mapping, got list"


def test_load_is_all_or_nothing(tmp_path: Path) -> None:
    write_yaml(tmp_path, "items", "a_good.yaml", minimal_catalog(code="good"))
    write_yaml(tmp_path, "items", "b_bad.yaml", broken_item(cadence="weekly"))
    with pytest.raises(CatalogError, match=r"b_bad\.yaml"):
        load_registry([tmp_path])


def test_extra_dir_needs_a_known_layout(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="expected an items/ or profiles/ subdirectory"):
        load_registry([tmp_path])
    with pytest.raises(CatalogError, match="not a directory"):
        load_registry([tmp_path / "missing"])


def builtin_profile(name: str = "jiangyuan") -> dict[str, Any]:
    return yaml.safe_load((PACKAGE_DIR / "profiles" / f"{name}.yaml").read_text(encoding="utf-8"))


def test_extra_profile(tmp_path: Path) -> None:
    profile = builtin_profile() | {"name": "local", "keep_days": 15}
    write_yaml(tmp_path, "profiles", "local.yaml", profile)
    assert load_registry([tmp_path]).profile("local").keep_days == 15


def test_profile_unknown_rule_id(tmp_path: Path) -> None:
    profile = builtin_profile() | {"name": "local"}
    profile["cadences"]["adhoc"]["rule"] = "T-WEEKLY"
    message, path = load_error(tmp_path, profile, "profiles")
    assert message.startswith(f"{path}: cadences.adhoc.rule: 'T-WEEKLY' is not one of ")


def test_profile_borrowed_needs_source(tmp_path: Path) -> None:
    profile = builtin_profile() | {"name": "local"}
    del profile["cadences"]["monthly"]["borrowed_from"]
    message, path = load_error(tmp_path, profile, "profiles")
    assert message == f"{path}: cadences.monthly.after_period_end: borrowed_from: required when borrowed is true"


def test_profile_missing_cadence(tmp_path: Path) -> None:
    profile = builtin_profile() | {"name": "local"}
    del profile["cadences"]["staged"]
    message, path = load_error(tmp_path, profile, "profiles")
    assert message == f"{path}: cadences.staged: Field required"


def test_a_procedure_step_must_be_due_after_its_event(tmp_path: Path) -> None:
    catalog = minimal_catalog()
    catalog["procedures"] = [{"code": "syl", "names": {"zh": "四议两公开", "en": "Four and two"}, "source": "004",
                              "steps": [{"code": "resolution", "zh": "决议公开", "en": "Resolution",
                                         "cadence": "quarterly"}]}]
    message, path = load_error(tmp_path, catalog)
    assert message.startswith(f"{path}: ") and "a procedure step is due after its event" in message
