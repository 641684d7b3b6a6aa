"""catalogs is pure: it must not pull in the bot framework or the database layer."""

import subprocess
import sys

FORBIDDEN = ("aiogram", "sqlalchemy", "sqlmodel")


def test_no_framework_imports() -> None:
    code = (
        "import sys, catalogs, catalogs.deadlines; catalogs.load_registry(); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
