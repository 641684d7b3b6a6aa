"""The township's desk in Telegram: /report (the villages ranked, worst first, with the chart), /console (a
one-time sign-in link to the web console), and the urge and rectification buttons on the reports."""

from __future__ import annotations

from datetime import timedelta

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import desk as kb
from bot.ui.keyboards.desk import DeskRectify, DeskRectifyAsk, DeskUrge
from bot.ui.texts import UI
from models import Person
from services import Session
from services.deadlines import compliance
from services.errors import DomainError
from services.township import access, actions, ranking, signin
from services.township.views import chart_title, ranking_view

router = Routes("desk")


def _console(runtime: Runtime) -> str | None:
    base = runtime.settings.public_base_url
    return f"{base.rstrip('/')}/console" if base else None


@router.message(Command("report"), F.chat.type == "private")
async def report(message: Message, command: CommandObject, session: Session, person: Person, ui: UI,
                 runtime: Runtime) -> None:
    """The ranking of each township the person inspects, then its chart (of the quarter asked for, if any)."""
    now = runtime.clock.now()
    asked = (command.args or "").strip()
    chart_quarter = compliance.parse_quarter(asked) if asked else None
    for township in await access.townships_of(session, person.id or 0):
        found = await ranking.rank(session, runtime.policy, [township], now)
        view = ranking_view(found, runtime.policy.today(None, now))
        needing = [(v.village_id, v.name) for v in found.needing_action]
        await message.answer(ui.render("desk_report", **view, console=_console(runtime)),
                             reply_markup=kb.villages(ui, needing, _console(runtime)))
        quarter = chart_quarter or compliance.parse_quarter(found.quarter)
        chart = await compliance.township_report(session, runtime.policy, township, quarter, now)
        png = compliance.chart_png(chart, compliance.legend(ui.texts.plain, ui.lang),
                                   chart_title(ui.texts.plain, ui.lang, chart, now), ui.lang)
        await message.answer_photo(BufferedInputFile(png, f"report-{township.code}-{found.quarter}.png"))


@router.message(Command("console"), F.chat.type == "private")
async def console(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime) -> None:
    base = runtime.settings.public_base_url
    if not base:
        await message.answer(ui.t("desk.no_console"))
        return
    secret = await signin.new_link(session, person, runtime.clock.now(), runtime.settings.admin_ids)
    minutes = int(signin.LINK_LIFE / timedelta(minutes=1))
    app = kb.console_app(ui, f"{base.rstrip('/')}/console/app") if base.startswith("https://") else None
    await message.answer(ui.t("desk.console_link", url=f"{base.rstrip('/')}/console/in/{secret}", minutes=minutes),
                         protect_content=True, reply_markup=app)


@router.callback_query(DeskUrge.filter())
async def urge(query: CallbackQuery, callback_data: DeskUrge, session: Session, person: Person, ui: UI,
               runtime: Runtime) -> None:
    village, told = await actions.urge(session, runtime.policy, person, callback_data.village_id, None,
                                       runtime.clock.now())
    await query.answer()
    await query.message.answer(ui.t("desk.urged", village=village.name, told=told))  # type: ignore[union-attr]


@router.callback_query(DeskRectifyAsk.filter())
async def rectify_ask(query: CallbackQuery, callback_data: DeskRectifyAsk, session: Session, person: Person,
                      ui: UI) -> None:
    _, village = await access.village(session, person.id or 0, callback_data.village_id)
    await query.answer()
    await query.message.answer(ui.t("desk.pick_deadline", village=village.name),  # type: ignore[union-attr]
                               reply_markup=kb.deadlines(ui, village.id or 0))


@router.callback_query(DeskRectify.filter())
async def rectify(query: CallbackQuery, callback_data: DeskRectify, session: Session, person: Person, ui: UI,
                  runtime: Runtime) -> None:
    if callback_data.days not in kb.DEADLINE_DAYS:
        raise DomainError("err.stale_button")
    now = runtime.clock.now()
    _, village = await access.village(session, person.id or 0, callback_data.village_id)
    deadline = runtime.policy.today(village, now) + timedelta(days=callback_data.days)
    order = await actions.rectify(session, runtime.policy, person, village.id or 0, deadline, None, now)
    await query.answer()
    await query.message.answer(ui.t("desk.ordered", village=village.name,  # type: ignore[union-attr]
                                    deadline=order.deadline.isoformat(), count=len(order.what)))
