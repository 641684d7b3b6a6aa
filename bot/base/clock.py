"""Time as a dependency, so tests, the demo and benchmarks can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class ShiftedClock:
    """Real time, moved to `start` when made: it runs on from there (a frozen clock would stall the
    delivery worker's retry-after waits). The demo's simulated clock."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


class FileClock:
    """TESTS AND DEMOS ONLY (setting FAKE_CLOCK_FILE): the time written in a file (ISO 8601 with an offset),
    running on from the moment the file was written; real time while the file is missing or empty.

    It lets the end-to-end tests move the clock of a real `cunwu run` process from outside, as the demo's
    deadlines chapter needs ("a quarter passes"). The file is read again only when its mtime changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._seen: int | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._current_offset()

    def _current_offset(self) -> timedelta:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return timedelta(0)
        if stat.st_mtime_ns != self._seen:
            self._seen = stat.st_mtime_ns
            text = self.path.read_text(encoding="utf-8").strip()
            written = datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC)
            self._offset = datetime.fromisoformat(text) - written if text else timedelta(0)
        return self._offset

    def set(self, when: datetime) -> None:
        """Write `when` as the time now (atomically, so a reader never sees half a line)."""
        if when.tzinfo is None:
            raise ValueError("FileClock needs an aware datetime")
        partial = self.path.with_suffix(".partial")
        partial.write_text(when.isoformat(), encoding="utf-8")
        partial.replace(self.path)
