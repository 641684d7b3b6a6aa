"""`cunwu admin poster`: the poster a staff member gets from the bot's button, for an operator at a printer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.base.settings import Settings
from bot.process.prepare import prepare
from services.board.public import notice_board
from services.board.visibility import board_by_code
from services.errors import DomainError
from web.posters import printed


async def poster(settings: Settings, args: argparse.Namespace) -> int:
    if args.village and not args.quarter:
        print("cunwu: --village needs --quarter (e.g. 2026Q3)", file=sys.stderr)
        return 2
    runtime = await prepare(settings)
    try:
        async with runtime.sessions() as session:
            board = await (notice_board(session, args.notice) if args.notice else board_by_code(session, args.village))
        pdf = await printed(runtime.pages(), board.ref, args.size, args.lang, runtime.clock.now(), notice=args.notice,
                            quarter=args.quarter)
    except DomainError as error:
        print(f"cunwu: {runtime.texts.t(args.lang or settings.default_language, error.key, **error.params)}",
              file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    name = f"notice-{args.notice}" if args.notice else f"{args.village}-{args.quarter}"
    output: Path = args.output or Path(f"poster-{name}-{args.size}.pdf")
    output.write_bytes(pdf)
    print(f"{output} ({len(pdf) // 1024} KB)")
    if not settings.public_base_url:
        print("cunwu: PUBLIC_BASE_URL is not set, so the poster has no QR code", file=sys.stderr)
    return 0
