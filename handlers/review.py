"""Reviewers decide with inline buttons; a request for changes or a rejection asks for a reason.
Supervisors also allow privacy findings (with a reason) and approve retractions."""

from __future__ import annotations

from aiogram import Bot, F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline import tapped
from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import notices as kb
from bot.ui.keyboards.notices import PrivacyAllow, Retract, Review
from bot.ui.replies import send_long
from bot.ui.texts import UI
from models import Person
from services import Session
from services.notices import drafts, publication, review, screening
from services.notices.notice_view import notice_view

router = Routes("review")
APPROVE_ANSWERS = {"approve": "review.approved", "published": "review.published", "privacy": "review.privacy_returned"}


class Reasons(StatesGroup):
    review = State()
    allow = State()



async def _decide(session: Session, runtime: Runtime, person: Person, data: dict[str, int | str],
                  reason: str | None) -> review.Outcome:
    return await review.decide(session, runtime.policy, person, int(data["notice_id"]), int(data["version"]),
                                int(data["stage"]), str(data["decision"]), reason, runtime.clock.now())


@router.callback_query(Review.filter())
async def review_tapped(query: CallbackQuery, callback_data: Review, session: Session, person: Person,
                        ui: UI, runtime: Runtime, state: FSMContext, bot: Bot) -> None:
    data = callback_data.model_dump(mode="json")
    if callback_data.decision == "approve":
        outcome = await _decide(session, runtime, person, data, None)
        answer = ui.plain(APPROVE_ANSWERS["published" if outcome.published else outcome.decision])
        await tapped.settle(query, ui, answer, show_alert=outcome.decision == "privacy",
                            edit=lambda m: _record_in_place(bot, ui, outcome, m.chat.id, m.message_id))
        return
    # Check now (role, stage, version) so a stale button is refused before asking for a reason.
    notice = await drafts.get(session, callback_data.notice_id)
    await review.check_reviewer(session, runtime.policy, person, notice, callback_data.version, callback_data.stage)
    await state.set_state(Reasons.review)
    if query.message is not None:  # that message is rewritten with the decision once the reason comes
        data.update(chat_id=query.message.chat.id, message_id=query.message.message_id)
    await state.update_data(**data)
    await query.answer()
    await tapped.chat_message(query).answer(ui.t(f"review.ask_reason_{callback_data.decision.value}"))


async def _record_in_place(bot: Bot, ui: UI, outcome: review.Outcome, chat_id: int, message_id: int) -> None:
    """The tapped request shows the decision: a copy the bot queued is rewritten by the delivery worker (its
    buttons go now); the footer /review sent is rewritten here."""
    if (chat_id, message_id) in outcome.recorded_in:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
        return
    await bot.edit_message_text(ui.render("review_footer", title=outcome.notice.title, decided=outcome.decided),
                                chat_id=chat_id, message_id=message_id)


@router.message(Reasons.review, F.chat.type == "private", F.text, ~F.text.startswith("/"))
async def review_reason(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                        state: FSMContext, bot: Bot) -> None:
    data = await state.get_data()
    outcome = await _decide(session, runtime, person, data, message.text)
    await state.clear()
    await message.answer(ui.t(f"review.done_{outcome.decision}"))
    if data.get("message_id"):
        await _record_in_place(bot, ui, outcome, int(data["chat_id"]), int(data["message_id"]))


@router.message(Command("review"), F.chat.type == "private")
async def waiting(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime) -> None:
    rows = await review.waiting_for(session, person)
    if not rows:
        await message.answer(ui.t("review.nothing"))
        return
    for notice in rows:
        view = await notice_view(session, runtime.policy, notice)
        await send_long(message, ui.render("notice", **view), ui.render("review_footer", **view),
                        kb.review(ui, notice.id or 0, notice.version, notice.stage))


@router.callback_query(PrivacyAllow.filter())
async def allow_tapped(query: CallbackQuery, callback_data: PrivacyAllow, session: Session, person: Person,
                       ui: UI, state: FSMContext) -> None:
    finding = await screening.finding_to_allow(session, person, callback_data.notice_id, callback_data.key)
    await state.set_state(Reasons.allow)
    await state.update_data(notice_id=callback_data.notice_id, key=callback_data.key)
    await query.answer()
    await tapped.chat_message(query).answer(ui.t("privacy.ask_reason_one", kind=ui.t(f"kind.{finding.kind}"),
                                                 text=finding.text))


@router.message(Reasons.allow, F.chat.type == "private", F.text, ~F.text.startswith("/"))
async def allow_reason(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                       state: FSMContext) -> None:
    data = await state.get_data()
    finding = await screening.allow_finding(session, person, int(data["notice_id"]), str(data.get("key", "")),
                                          message.text or "", runtime.clock.now())
    await state.clear()
    await message.answer(ui.t("privacy.allowed_one", kind=ui.t(f"kind.{finding.kind}"), masked=finding.masked))


@router.message(Reasons.review, F.chat.type == "private", ~F.text.startswith("/"))
@router.message(Reasons.allow, F.chat.type == "private", ~F.text.startswith("/"))
async def reason_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("review.reason_expected"))


@router.callback_query(Retract.filter())
async def retract_tapped(query: CallbackQuery, callback_data: Retract, session: Session, person: Person,
                         ui: UI, runtime: Runtime) -> None:
    await publication.retract(session, person, callback_data.notice_id, None, runtime.clock.now())
    await tapped.settle(query, ui, ui.plain("retract.done"), edit=lambda m: m.edit_reply_markup(reply_markup=None))
