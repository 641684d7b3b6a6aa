"""The screen's reading of numbers (issue 11, point 2): every written form of a personal number is found,
and amounts, dates, order and contract numbers, ISBNs, serials and credit codes are not, in the library
and through the `cunwu screen` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import uscc

from bot.cli import main as cli
from services.privacy import number_key, screen
from tests.services.test_privacy import SAMPLE_ID, bad_check, full_width, luhn_breaks, make_card, make_id

CARD_19 = make_card("622202", 19)
CARD_16 = make_card("6217", 16)
ID_2 = make_id("330106", "19850704", "123")


def luhn_valid_bad_id() -> str:
    """An 18-digit ID (real date, province) whose check digit is wrong but which passes Luhn."""
    body = SAMPLE_ID[:17]
    for last in "0123456789":
        number = body + last
        if last != SAMPLE_ID[-1] and make_card(number[:-1], 18) == number:
            return number
    raise AssertionError("no Luhn-valid variant")


def numeric_credit_code() -> str:
    """A unified social credit code made of digits only whose positions 7-14 read as a birth date."""
    body = "12110119490101123"  # 1 institution, 2 …, region 110119, organisation code 490101123…
    return body + uscc.calc_check_digit(body)


# (text, kind, confidence, the number as written)
POSITIVES: list[tuple[str, str, str, str]] = [
    ("请联系王五13812345678元旦前报名", "mobile", "high", "13812345678"),
    ("报名电话13812345678元月截止", "mobile", "high", "13812345678"),
    ("回复13812345678%即可", "mobile", "high", "13812345678"),
    ("电话13812345678abc", "mobile", "high", "13812345678"),
    ("电话 1 3 8 1 2 3 4 5 6 7 8 王五", "mobile", "high", "1 3 8 1 2 3 4 5 6 7 8"),
    ("电话 138  1234  5678 王五", "mobile", "high", "138  1234  5678"),
    ("电话 138.1234.5678 王五", "mobile", "high", "138.1234.5678"),
    ("电话 1381 2345 678 王五", "mobile", "high", "1381 2345 678"),
    ("电话 138-1234 5678 王五", "mobile", "high", "138-1234 5678"),
    ("电话 138 - 1234 . 5678 王五", "mobile", "high", "138 - 1234 . 5678"),
    ("电话１３８－１２３４－５６７８", "mobile", "high", "１３８－１２３４－５６７８"),
    ("电话138\u200b1234\u200c5678", "mobile", "high", "138\u200b1234\u200c5678"),
    ("电话+86 138.1234.5678", "mobile", "high", "+86 138.1234.5678"),
    ("电话19212345678", "mobile", "high", "19212345678"),
    ("电话15412345678", "mobile", "low", "15412345678"),  # a prefix not opened (yet): still a mobile
    ("座机0571.8765.4321", "landline", "high", "0571.8765.4321"),
    ("座机 0571 - 8765 4321", "landline", "high", "0571 - 8765 4321"),
    ("座机+86 571 8765 4321", "landline", "high", "+86 571 8765 4321"),
    ("座机0086-10-82345678", "landline", "high", "0086-10-82345678"),
    (f"身份证{SAMPLE_ID}号", "id_number", "high", SAMPLE_ID),
    (f"身份证{SAMPLE_ID}元旦前交", "id_number", "high", SAMPLE_ID),
    (f"身份证{SAMPLE_ID}ab", "id_number", "high", SAMPLE_ID),
    ("身份证 " + " ".join(ID_2), "id_number", "high", " ".join(ID_2)),
    (f"身份证 {ID_2[:6]}.{ID_2[6:14]}.{ID_2[14:]}", "id_number", "high", f"{ID_2[:6]}.{ID_2[6:14]}.{ID_2[14:]}"),
    (f"身份证 {ID_2[:6]}-{ID_2[6:10]}-{ID_2[10:14]}-{ID_2[14:]}", "id_number", "high",
     f"{ID_2[:6]}-{ID_2[6:10]}-{ID_2[10:14]}-{ID_2[14:]}"),
    (f"身份证{full_width(SAMPLE_ID)}", "id_number", "high", full_width(SAMPLE_ID)),
    (f"编号{SAMPLE_ID}", "id_number", "high", SAMPLE_ID),  # a checked ID is personal whatever word precedes it
    (f"身份证{bad_check(SAMPLE_ID)}", "id_number", "low", bad_check(SAMPLE_ID)),
    (f"证件{luhn_valid_bad_id()}", "id_number", "low", luhn_valid_bad_id()),  # not a bank card
    (f"卡 {CARD_19[:6]} {CARD_19[6:]}", "bank_card", "high", f"{CARD_19[:6]} {CARD_19[6:]}"),
    (f"补贴打入{CARD_19}", "bank_card", "high", CARD_19),  # Luhn and a UnionPay prefix: no word needed
    (f"尾号 {'.'.join(CARD_16[i:i + 4] for i in range(0, 16, 4))}", "bank_card", "high",
     ".".join(CARD_16[i : i + 4] for i in range(0, 16, 4))),
    (f"账号：{luhn_breaks(CARD_19)}", "bank_card", "low", luhn_breaks(CARD_19)),
    (f"卡号 {make_card('1234', 16)}", "bank_card", "high", make_card("1234", 16)),  # a word, and Luhn holds
    (f"开户银行 农商行 {luhn_breaks('1234567890123456')}", "bank_card", "low", luhn_breaks("1234567890123456")),
]

NEGATIVES: list[str] = [
    # amounts
    "合计13812345678元",
    "收入：13812345678",
    "支出 ¥1,234,567.89",
    "金额为13812345678.00元",
    "本年度补贴总额12,345,678,901元",
    "其中13812345678.5万元待拨付",
    f"¥{luhn_breaks('6222021234567890')}",
    "同比增长12.5%，完成率85.5%",
    # dates
    "公示期：2026-03-31至2026-04-30",
    "2026.03.31 2026.04.30 两次会议",
    "2026-03-31 2026-04-30",
    "日期20260331，2026年3月31日",
    # order and contract numbers, serials
    "订单号：20260331138123456789",
    "订单号 13812345678",
    "快递单号 1381234567890",
    "合同编号：2026033113812",
    "合同编号HT-2026-0331-13812345678",
    "项目编号XM-13812345678-A",
    "项目编号 13812345678-A",
    "XM13812345678-A 已立项",
    "序列号 SN2026033113812345678",
    "SN:13812345678",
    "流水号12345678901234567890",
    "批次20260331138123456X",
    "发票号码 1381234567890123",
    # ISBNs
    "ISBN 978-7-111-54742-6",
    "ISBN 7-111-54742-0",
    "ISBN 9787111547426",
    # unified social credit codes
    "统一社会信用代码91350100M000100Y43",
    f"信用代码 {numeric_credit_code()}",
    # other numbers
    "0000 0000 0000 0000",
    "2019 2020 2021 2022 年度",
    "第1 2 3 4 5 6 7 8 9 10 11 项",
    "邮编310000，共12345678户",
]


@pytest.mark.parametrize(("text", "kind", "confidence", "written"), POSITIVES)
def test_every_written_form_is_found(text: str, kind: str, confidence: str, written: str) -> None:
    findings = screen(text)
    assert [(f.kind, f.confidence, f.text) for f in findings] == [(kind, confidence, written)]


@pytest.mark.parametrize("text", NEGATIVES)
def test_what_is_not_personal_is_not_flagged(text: str) -> None:
    assert screen(text) == []


def test_the_numeric_credit_code_would_otherwise_read_as_a_probable_id() -> None:
    code = numeric_credit_code()
    assert code[:2] == "12" and code[6:14] == "19490101"  # a province and a birth date: only stdnum's check says no


@pytest.mark.parametrize(
    ("registered", "written"),
    [("13812345678", "138-1234-5678"), ("138-1234-5678", "+86 138 1234 5678"), ("0571-87654321", "(0571)8765 4321"),
     ("057187654321", "0571.8765.4321")],
)
def test_official_numbers_are_never_flagged_in_another_format(registered: str, written: str) -> None:
    key = number_key(registered)
    assert key is not None
    text = f"监督电话：{written}，王五13912345678"
    assert [f.text for f in screen(text)] == [written, "13912345678"]
    assert [f.text for f in screen(text, official={key})] == ["13912345678"]


@pytest.mark.parametrize("text", ["12345", "电话13812345678，13912345678", "合计13812345678元", ""])
def test_number_key_needs_exactly_one_phone(text: str) -> None:
    assert number_key(text) is None


# --------------------------------------------------------------------------- through `cunwu screen`


def cunwu_screen(path: Path, *extra: str) -> tuple[int, list[dict[str, object]]]:
    """The real command in a process of its own (the `cunwu` entry point: bot.cli.main)."""
    done = subprocess.run([sys.executable, "-c", "import sys; from bot.cli.main import main; sys.exit(main())",
                           "screen", str(path), "--format", "json", *extra],
                          capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)
    assert done.stderr == ""
    return done.returncode, json.loads(done.stdout)


def test_cunwu_screen_finds_every_positive_and_flags_no_negative(tmp_path: Path) -> None:
    positives, negatives = tmp_path / "positives.txt", tmp_path / "negatives.txt"
    positives.write_text("\n".join(text for text, *_ in POSITIVES) + "\n", encoding="utf-8")
    negatives.write_text("\n".join(NEGATIVES) + "\n", encoding="utf-8")

    code, found = cunwu_screen(positives)
    text = positives.read_text(encoding="utf-8")
    assert code == 1
    assert [(item["kind"], item["text"]) for item in found] == [(kind, written) for _, kind, _, written in POSITIVES]
    lines = [text.count("\n", 0, int(str(item["start"]))) for item in found]
    assert lines == list(range(len(POSITIVES)))  # one finding on each line, none elsewhere

    assert cunwu_screen(negatives) == (0, [])


def test_cunwu_screen_official_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--official` through the command's own parser (bot.cli.main), in this process."""
    notice = tmp_path / "notice.txt"
    notice.write_text("监督电话 138-1234-5678；联系人王五 13912345678\n", encoding="utf-8")
    assert cli.main(["screen", str(notice), "--format", "json", "--official", "13812345678"]) == 1
    assert [item["text"] for item in json.loads(capsys.readouterr().out)] == ["13912345678"]
    assert cli.main(["screen", str(notice), "--official", "13812345678", "--official", "139 1234 5678"]) == 0
    assert capsys.readouterr().out == "no personal information found\n"
