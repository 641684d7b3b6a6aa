"""Privacy screen: ID numbers, phones and bank cards are found, masked, and mapped back to the original text."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import random
import re
import unicodedata
from pathlib import Path

import pytest

from services.privacy import Finding, cli_main, mask_all, screen

# --------------------------------------------------------------------------- independent helpers


def make_id(region: str, birth: str, sequence: str) -> str:
    """An 18-digit ID with its check character, computed independently (weights are 2^(17-i) mod 11)."""
    body = region + birth + sequence
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(body))
    check = (12 - total % 11) % 11
    return body + ("X" if check == 10 else str(check))


def bad_check(id18: str) -> str:
    """The same ID with a wrong check character."""
    wrong = "0" if id18[-1] != "0" else "1"
    return id18[:-1] + wrong


def make_card(prefix: str, length: int = 16) -> str:
    """A Luhn-valid card number: `prefix` padded with 7s, then the check digit."""
    body = (prefix + "7" * length)[: length - 1]
    digits = [int(d) for d in body]
    total = 0
    for i, digit in enumerate(reversed(digits)):  # rightmost body digit gets doubled
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled // 10 + doubled % 10
    return body + str((10 - total % 10) % 10)


def luhn_breaks(card: str) -> str:
    last = int(card[-1])
    return card[:-1] + str((last + 1) % 10)


def full_width(text: str) -> str:
    """ASCII digits/letters/+/-/() to their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def group(digits: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    if at < len(digits):
        parts.append(digits[at:])
    return sep.join(parts)


def kinds(text: str) -> list[str]:
    return [f.kind for f in screen(text)]


def only(text: str) -> Finding:
    findings = screen(text)
    assert len(findings) == 1, findings
    return findings[0]


SAMPLE_ID = "11010519491231002X"  # the published GB 11643 sample number


# --------------------------------------------------------------------------- ID numbers


def test_helper_agrees_with_the_published_sample() -> None:
    assert make_id("110105", "19491231", "002") == SAMPLE_ID


def test_published_sample_id_is_found_and_masked() -> None:
    text = f"村民张三，身份证号{SAMPLE_ID}，户籍本村。"
    finding = only(text)
    assert (finding.kind, finding.confidence) == ("id_number", "high")
    assert text[finding.start : finding.end] == SAMPLE_ID == finding.text
    assert finding.masked == "110105********002X"
    assert mask_all(text) == "村民张三，身份证号110105********002X，户籍本村。"


@pytest.mark.parametrize(
    ("region", "birth", "sequence"),
    [("330106", "19850704", "123"), ("440305", "20000229", "456"), ("620102", "19671115", "081")],
)
def test_generated_valid_ids_are_high_confidence(region: str, birth: str, sequence: str) -> None:
    number = make_id(region, birth, sequence)
    finding = only(f"公示名单：李四 {number} 低保户")
    assert (finding.kind, finding.confidence, finding.text) == ("id_number", "high", number)
    assert finding.masked == number[:6] + "********" + number[-4:]


def test_lowercase_x_check_character() -> None:
    finding = only("身份证 11010519491231002x 已登记")
    assert (finding.kind, finding.confidence) == ("id_number", "high")
    assert finding.text == "11010519491231002x"
    assert finding.masked == "110105********002X"


def test_typo_in_check_digit_is_a_low_confidence_id() -> None:
    finding = only(f"身份证：{bad_check(SAMPLE_ID)}")
    assert (finding.kind, finding.confidence) == ("id_number", "low")
    assert finding.masked == "110105********0020"


def test_valid_checksum_but_impossible_birth_date_is_not_an_id() -> None:
    future = make_id("110105", "20991231", "002")
    assert "id_number" not in kinds(f"编号 {future}")
    impossible = make_id("110105", "19490231", "002")
    assert "id_number" not in kinds(f"编号 {impossible}")


def test_id_grouped_with_spaces() -> None:
    number = make_id("330106", "19850704", "123")
    text = f"身份证 {number[:6]} {number[6:14]} {number[14:]} 。"
    finding = only(text)
    assert finding.kind == "id_number"
    assert finding.text == f"{number[:6]} {number[6:14]} {number[14:]}"
    assert finding.masked == number[:6] + "********" + number[-4:]


def test_fifteen_digit_old_id() -> None:
    text = "老身份证110105491231002，请更换"
    finding = only(text)
    assert (finding.kind, finding.confidence) == ("id_number", "high")
    assert finding.masked == "110105******002"
    assert len(finding.masked) == 15


def test_fifteen_digit_run_without_a_plausible_date_is_ignored() -> None:
    assert screen("流水号110105491331002") == []  # month 13


def test_valid_id_is_an_id_not_a_bank_card() -> None:
    for number in (SAMPLE_ID, make_id("620102", "19671115", "081"), make_id("430102", "19900101", "111")):
        assert kinds(number) == ["id_number"]


def test_luhn_valid_eighteen_digits_without_id_structure_is_a_card() -> None:
    card = make_card("6222", 18)
    assert card[6:14] != "" and not re.fullmatch(r"(19|20)\d{6}", card[6:14])
    finding = only(f"卡号{card}")
    assert (finding.kind, finding.confidence) == ("bank_card", "high")


# --------------------------------------------------------------------------- full-width, offsets, invisible characters


def test_full_width_id_keeps_original_offsets() -> None:
    wide = full_width(SAMPLE_ID)
    text = f"身份证：{wide}。"
    finding = only(text)
    assert finding.kind == "id_number"
    assert (finding.start, finding.end) == (4, 4 + 18)
    assert finding.text == wide
    assert finding.masked == "110105********002X"
    assert mask_all(text) == "身份证：110105********002X。"


def test_full_width_mobile_with_full_width_plus() -> None:
    text = "联系电话＋８６　１３８－１２３４－５６７８（王主任）"
    finding = only(text)
    assert finding.kind == "mobile"
    assert finding.text == "＋８６　１３８－１２３４－５６７８"
    assert text[finding.start : finding.end] == finding.text
    assert finding.masked == "+86 138****5678"


def test_characters_that_nfkc_expands_do_not_shift_offsets() -> None:
    text = "ﷺ㍱13812345678㍱"  # each of ﷺ and ㍱ becomes several characters under NFKC
    finding = only(text)
    assert (finding.start, finding.end, finding.text) == (2, 13, "13812345678")


def test_zero_width_and_emoji_around_numbers() -> None:
    text = "📞\u200b13812345678\u200d👨\u200d👩\u200d👧 卡🏦6222021234567890123\ufe0f"
    findings = screen(text)
    assert [f.kind for f in findings] == ["mobile", "bank_card"]
    assert findings[0].text == "13812345678"
    assert findings[1].text == "6222021234567890123"
    for finding in findings:
        assert text[finding.start : finding.end] == finding.text


def test_zero_width_space_inside_a_number_does_not_hide_it() -> None:
    text = "手机1381234\u200b5678"
    finding = only(text)
    assert finding.kind == "mobile"
    assert finding.text == "1381234\u200b5678"
    assert mask_all(text) == "手机138****5678"


# --------------------------------------------------------------------------- mobiles


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("+86-199-1234-5678", "+86-199****5678"),
        ("0086 15912345678", "0086 159****5678"),
        ("8617712345678", "86177****5678"),
    ],
)
def test_mobile_forms(written: str, masked: str) -> None:
    text = f"请联系村委会{written}咨询"
    finding = only(text)
    assert (finding.kind, finding.text, finding.masked) == ("mobile", written, masked)


@pytest.mark.parametrize("text", ["12812345678", "1381234567", "138123456789", "11012345678"])
def test_not_mobiles(text: str) -> None:
    assert "mobile" not in kinds(f"号码{text}。")


# --------------------------------------------------------------------------- landlines


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("010-12345678", "010-****78"),
        ("(0571)87654321", "0571-****21"),
        ("（0571）8765-4321", "0571-****21"),
        ("0755 2345 6789", "0755-****89"),
        ("0755-2345678", "0755-****78"),
        ("02087654321", "020-****21"),
    ],
)
def test_landline_forms(written: str, masked: str) -> None:
    text = f"村委会值班电话：{written}，工作日接听"
    finding = only(text)
    assert (finding.kind, finding.text, finding.masked) == ("landline", written, masked)


def test_landline_extension_is_left_outside_the_finding() -> None:
    text = "电话010-12345678转123"
    finding = only(text)
    assert finding.text == "010-12345678"
    assert mask_all(text) == "电话010-****78转123"


def test_landline_not_matched_inside_longer_digits() -> None:
    assert screen("编号9010123456789") == []


# --------------------------------------------------------------------------- bank cards


@pytest.mark.parametrize("length", [16, 17, 19])
def test_luhn_valid_cards_are_high_confidence(length: int) -> None:
    card = make_card("622202", length)
    finding = only(f"补贴发放至卡号{card}。")
    assert (finding.kind, finding.confidence, finding.masked) == ("bank_card", "high", "****" + card[-4:])


def test_luhn_invalid_card_is_low_confidence() -> None:
    card = luhn_breaks(make_card("622848", 19))
    finding = only(f"账号：{card}")
    assert (finding.kind, finding.confidence) == ("bank_card", "low")


@pytest.mark.parametrize("sep", [" ", "-", "　"])
def test_grouped_cards(sep: str) -> None:
    card = make_card("6222", 19)
    written = group(card, (4, 4, 4, 4), sep)
    text = f"开户行农商行 卡号{written}（户主）"
    finding = only(text)
    assert (finding.kind, finding.confidence, finding.text) == ("bank_card", "high", written)
    assert finding.masked == "****" + card[-4:]


def test_card_right_after_a_grouped_mobile_is_not_swallowed() -> None:
    card = make_card("6222", 16)
    text = f"电话 138 1234 5678 {group(card, (4, 4, 4, 4))}"
    assert [(f.kind, f.confidence) for f in screen(text)] == [("mobile", "high"), ("bank_card", "high")]


# --------------------------------------------------------------------------- things that are not personal


@pytest.mark.parametrize(
    "text",
    [
        "本年度补贴总额1,234,567.00元",
        "金额12345678901234567.00元",
        "合计13812345678元",
        "¥6222021234567890",
        "完成率85.5%，同比增长12.5%",
        "公示期：2026-03-31至2026-04-30",
        "2026年3月第一次村民代表大会",
        "2019 2020 2021 2022 年度",
        "占地2026亩",
        "流水号12345678901234567890",  # 20-digit run
        "订单号20260331138123456789",  # a mobile inside a longer (20-digit) run
        f"单号9{SAMPLE_ID}1",  # an ID inside a longer run
        "批次20260331138123456X",  # 18 digits + X whose date part is not a birth date
        "证书编号123456789012",  # 12 digits
        "0000 0000 0000 0000",
        "",
    ],
)
def test_false_positives(text: str) -> None:
    assert screen(text) == []


# --------------------------------------------------------------------------- findings and mask_all


def test_findings_are_sorted_and_do_not_overlap() -> None:
    card = make_card("6217", 19)
    text = f"户主{SAMPLE_ID}，电话13912345678，座机0571-87654321，卡{card}，{full_width('15012345678')}"
    findings = screen(text)
    assert [f.kind for f in findings] == ["id_number", "mobile", "landline", "bank_card", "mobile"]
    for before, after in itertools.pairwise(findings):
        assert before.end <= after.start
    masked = mask_all(text)
    assert masked == (
        "户主110105********002X，电话139****5678，座机0571-****21，卡****" + card[-4:] + "，150****5678"
    )


def test_to_json_has_exactly_the_public_keys() -> None:
    finding = only("13812345678")
    expected = {"kind": "mobile", "start": 0, "end": 11, "text": "13812345678", "masked": "138****5678"}
    assert finding.to_json() == expected


def test_finding_is_frozen() -> None:
    finding = only("13812345678")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.start = 3  # type: ignore[misc]


def test_mask_all_with_explicit_findings_and_mismatch() -> None:
    text = "a13812345678b"
    findings = screen(text)
    assert mask_all(text, findings) == "a138****5678b"
    assert mask_all(text, []) == text
    with pytest.raises(ValueError, match="does not match"):
        mask_all("x" + text, findings)


def test_mask_all_skips_a_finding_overlapping_an_earlier_one() -> None:
    text = "a13812345678b"
    finding = only(text)
    inner = Finding("mobile", 2, 12, text[2:12], "#")
    assert mask_all(text, [inner, finding]) == "a138****5678b"


def test_random_texts_leak_no_inserted_number() -> None:
    """Property: numbers dropped into random text are all found, and none of their digits survive masking."""
    fillers = [*"村委会公告关于低保户名册公示如下，。：；！？、“”（）abcdEF ", "📞", "🏠", "\u200b", "👍🏻", "\u3000"]
    for seed in range(300):
        rng = random.Random(seed)
        pieces: list[str] = []
        inserted: list[tuple[str, str]] = []
        for _ in range(rng.randint(1, 5)):
            pieces.append("".join(rng.choice(fillers) for _ in range(rng.randint(1, 6))) + rng.choice("村号：卡"))
            kind, number = _random_number(rng)
            if rng.random() < 0.3:
                number = full_width(number)
            pieces.append(number)
            inserted.append((kind, number))
        pieces.append(rng.choice("。！"))
        text = "".join(pieces)
        findings = screen(text)
        assert [f.kind for f in findings] == [kind for kind, _ in inserted], (seed, text, findings)
        assert [f.text for f in findings] == [number for _, number in inserted], (seed, text)
        masked_digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", mask_all(text)))
        for _, number in inserted:
            digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", number))
            assert digits not in masked_digits, (seed, text)


def _random_number(rng: random.Random) -> tuple[str, str]:
    choice = rng.randrange(4)
    if choice == 0:
        birth = f"{rng.randint(1930, 2015)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        return "id_number", make_id(rng.choice(["110105", "330106", "510104"]), birth, f"{rng.randint(0, 999):03d}")
    if choice == 1:
        digits = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
        written = rng.choice([digits, group(digits, (3, 4, 4), " "), group(digits, (3, 4, 4), "-")])
        return "mobile", rng.choice(["", "+86 ", "+86-", "0086 "]) + written
    if choice == 2:
        area = rng.choice(["010", "021", "0571", "0755"])
        local = f"{rng.randint(2, 9)}{rng.randint(0, 9_999_999):07d}"
        return "landline", rng.choice([f"{area}-{local}", f"({area}){local}", f"{area} {local[:4]} {local[4:]}"])
    card = make_card(rng.choice(["6222", "6217", "6228"]) + f"{rng.randint(0, 99_999_999):08d}", rng.choice([16, 19]))
    return "bank_card", rng.choice([card, group(card, (4, 4, 4, 4), " ")])


# --------------------------------------------------------------------------- CLI


def run_cli(argv: list[str], stdin_text: str = "") -> tuple[int, str, str]:
    stdin, stdout, stderr = io.StringIO(stdin_text), io.StringIO(), io.StringIO()
    code = cli_main(argv, stdin=stdin, stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_cli_json_from_stdin() -> None:
    code, out, err = run_cli(["-", "--format", "json"], f"第一行\n张三 {SAMPLE_ID} 电话13812345678\n")
    assert code == 1
    assert err == ""
    data = json.loads(out)
    assert [set(item) for item in data] == [{"kind", "start", "end", "text", "masked"}] * 2
    assert data[0] == {"kind": "id_number", "start": 7, "end": 25, "text": SAMPLE_ID, "masked": "110105********002X"}
    assert data[1]["masked"] == "138****5678"


def test_cli_json_keeps_chinese_unescaped() -> None:
    code, out, _ = run_cli(["-", "--format", "json"], "电话：１３８１２３４５６７８")
    assert code == 1
    assert "１３８１２３４５６７８" in out  # ensure_ascii=False


def test_cli_text_format_from_file(tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("村务公开\n联系人王五 13812345678\n", encoding="utf-8")
    code, out, _ = run_cli([str(notice)])
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0] == "2:7  mobile  high  13812345678 -> 138****5678"
    assert lines[-1] == "1 finding (1 mobile)"


def test_cli_clean_text_exits_zero(tmp_path: Path) -> None:
    notice = tmp_path / "clean.txt"
    notice.write_text("2026年3月31日召开村民代表大会，补贴总额1,234,567.00元。", encoding="utf-8")
    assert run_cli([str(notice)]) == (0, "no personal information found\n", "")
    assert run_cli([str(notice), "--format", "json"]) == (0, "[]\n", "")


def test_cli_missing_file_exits_two_with_one_line(tmp_path: Path) -> None:
    code, out, err = run_cli([str(tmp_path / "missing.txt")])
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "missing.txt" in err and "Traceback" not in err


def test_cli_directory_and_non_utf8_exit_two(tmp_path: Path) -> None:
    assert run_cli([str(tmp_path)])[0] == 2
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("電話".encode("big5") + b"\xff\xfe")
    code, _, err = run_cli([str(latin)])
    assert code == 2
    assert "UTF-8" in err and len(err.strip().splitlines()) == 1


def test_cli_usage_error_exits_two() -> None:
    code, _, err = run_cli([])
    assert code == 2
    assert "usage" in err
    assert run_cli(["-", "--format", "xml"])[0] == 2
