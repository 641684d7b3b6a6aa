"""Residents ask about a published notice (deep link `q_<notice id>` from its ❓ button), optionally marking
it a complaint; staff reply or pass it to the committee; the committee requires an explanation or closes
it. /questions lists the open ones, /digest drafts the notice of replies. `a_<notice id>` sends a published
notice's attachments privately."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline import tapped
from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import voice as kb
from bot.ui.links import Opened, parse_id
from bot.ui.texts import UI
from handlers.drafting import show_preview
from models import Person
from services import Session
from services.errors import DomainError
from services.voice import questions

router = Routes("questions")
router.message.filter(F.chat.type == "private")


class Asking(StatesGroup):
    text = State()
    offered = State()  # text typed outside any conversation: about the latest notice, or a general question?


class Replying(StatesGroup):
    text = State()


# --- residents ----------------------------------------------------------------------------------------

async def ask_link(opened: Opened) -> bool:
    limit = opened.runtime.settings.question_daily_limit
    notice = await questions.start(opened.session, opened.runtime.policy, opened.person, parse_id(opened.ref),
                                   opened.runtime.clock.now(), limit)
    await opened.state.set_state(Asking.text)
    await opened.state.update_data(notice_id=notice.id)
    await opened.message.answer(opened.ui.render("question_ask", title=notice.title, limit=limit))
    return False


async def attachments_link(opened: Opened) -> bool:
    notice, files = await questions.public_attachments(opened.session, parse_id(opened.ref))
    message, ui = opened.message, opened.ui
    if not files:
        await message.answer(ui.t("voice.no_attachments", title=notice.title))
        return False
    await message.answer(ui.t("voice.attachments_of", title=notice.title, count=len(files)))
    for file in files:
        if file.kind == "photo":
            await message.answer_photo(file.file_id)
        else:
            await message.answer_document(file.file_id)
    return False


@router.message(StateFilter(None, Asking.offered), F.text, ~F.text.startswith("/"))
async def text_typed(message: Message, session: Session, person: Person, ui: UI, state: FSMContext) -> None:
    """A confirmed resident's text outside any conversation is offered as a question; anyone else's goes on to the
    fallback's answer."""
    offer = await questions.offer_for_text(session, person)
    if offer is None:
        raise SkipHandler()
    text = questions.check_text(message.text, None)
    await state.set_state(Asking.offered)
    await state.update_data(text=text)
    await message.answer(ui.render("question_offer", text=text, latest=offer.latest_title),
                         reply_markup=kb.question_offer(ui, offer.latest_id, offer.latest_title))


@router.callback_query(kb.QuestionTopic.filter())
async def topic_picked(query: CallbackQuery, callback_data: kb.QuestionTopic, session: Session, person: Person,
                       ui: UI, runtime: Runtime, state: FSMContext) -> None:
    data = await state.get_data()
    if await state.get_state() != Asking.offered.state or "text" not in data:
        raise DomainError("err.stale_button")
    await questions.start_on(session, runtime.policy, person, callback_data.notice_id, runtime.clock.now(),
                             runtime.settings.question_daily_limit)
    await state.set_state(Asking.text)
    await state.update_data(notice_id=callback_data.notice_id, photo=None)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(ui.render("question_preview", text=data["text"], has_photo=False),
                                   reply_markup=kb.question_send(ui, callback_data.notice_id))


@router.message(Asking.text, F.photo | (F.text & ~F.text.startswith("/")))
async def question_written(message: Message, session: Session, person: Person, ui: UI, state: FSMContext) -> None:
    text = message.text or message.caption or ""
    photo = message.photo[-1].file_id if message.photo else None
    notice_id = (await state.get_data()).get("notice_id")
    if notice_id is None:
        raise DomainError("err.stale_button")
    checked = await questions.written(session, person, int(notice_id), text, photo)
    await state.update_data(text=checked, photo=photo)
    await message.answer(ui.render("question_preview", text=checked, has_photo=bool(photo)),
                         reply_markup=kb.question_send(ui, int(notice_id)))


@router.message(Asking.text, ~F.text.startswith("/"))
async def question_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("voice.question_expected"))


@router.callback_query(kb.QuestionSend.filter())
async def question_sent(query: CallbackQuery, callback_data: kb.QuestionSend, session: Session, person: Person,
                        ui: UI, runtime: Runtime, state: FSMContext) -> None:
    data = await state.get_data()
    if data.get("notice_id") != callback_data.notice_id or "text" not in data:
        raise DomainError("err.stale_button")
    question = await questions.ask(session, runtime.policy, person, callback_data.notice_id, data["text"],
                                   data.get("photo"), callback_data.complaint, runtime.clock.now(),
                                   runtime.settings.question_daily_limit)
    await state.clear()
    await tapped.settle(query, ui, edit=lambda m: m.edit_text(ui.render("question_sent", complaint=question.complaint,
                                                                          due=question.due.isoformat())))


# --- staff and committee ------------------------------------------------------------------------------

Act = Callable[[CallbackQuery, int, Session, Person, UI, Runtime, FSMContext], Awaitable[None]]


async def _reply(query: CallbackQuery, question_id: int, session: Session, person: Person, ui: UI,
                 runtime: Runtime, state: FSMContext) -> None:
    question = await questions.start_reply(session, person, question_id)
    await state.set_state(Replying.text)
    await state.update_data(question_id=question.id)
    await query.answer()
    await tapped.chat_message(query).answer(ui.t("voice.ask_reply"))


async def _pass(query: CallbackQuery, question_id: int, session: Session, person: Person, ui: UI,
                runtime: Runtime, state: FSMContext) -> None:
    await questions.pass_to_committee(session, person, question_id)
    await query.answer(ui.t("voice.passed"), show_alert=True)


async def _photo(query: CallbackQuery, question_id: int, session: Session, person: Person, ui: UI,
                 runtime: Runtime, state: FSMContext) -> None:
    file_id = await questions.photo(session, person, question_id)
    await query.answer()
    await tapped.chat_message(query).answer_photo(file_id)


async def _explain(query: CallbackQuery, question_id: int, session: Session, person: Person, ui: UI,
                   runtime: Runtime, state: FSMContext) -> None:
    await questions.require_explanation(session, person, question_id, runtime.clock.now())
    await query.answer(ui.t("voice.explain_sent"), show_alert=True)


async def _close(query: CallbackQuery, question_id: int, session: Session, person: Person, ui: UI,
                 runtime: Runtime, state: FSMContext) -> None:
    await questions.close(session, person, question_id, runtime.clock.now())
    await query.answer(ui.t("voice.closed"), show_alert=True)


ACTIONS: dict[str, Act] = {"reply": _reply, "pass": _pass, "photo": _photo, "explain": _explain, "close": _close}


@router.callback_query(kb.QuestionAct.filter())
async def question_act(query: CallbackQuery, callback_data: kb.QuestionAct, session: Session, person: Person,
                       ui: UI, runtime: Runtime, state: FSMContext) -> None:
    act = ACTIONS.get(callback_data.action)
    if act is None:
        raise DomainError("err.stale_button")
    await act(query, callback_data.question_id, session, person, ui, runtime, state)


@router.message(Replying.text, F.text, ~F.text.startswith("/"))
async def reply_written(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                        state: FSMContext) -> None:
    question_id = (await state.get_data()).get("question_id")
    if not question_id:
        raise DomainError("err.stale_button")
    await questions.reply(session, person, int(question_id), message.text or "", runtime.clock.now())
    await state.clear()
    await message.answer(ui.t("voice.replied"))


@router.message(Replying.text, ~F.text.startswith("/"))
async def reply_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("voice.reply_expected"))


@router.message(Command("questions"))
async def open_questions(message: Message, session: Session, person: Person, ui: UI) -> None:
    listed = await questions.open_views(session, person)
    if not listed:
        await message.answer(ui.t("voice.no_open_questions"))
        return
    for entry, view in listed:
        make = kb.question_staff if entry.as_staff else kb.question_committee
        await message.answer(ui.render("question_line", **view),
                             reply_markup=make(ui, entry.question.id or 0, bool(entry.question.photo_file_id)))


@router.message(Command("digest"))
async def digest(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                 state: FSMContext) -> None:
    await state.clear()
    now = runtime.clock.now()

    def body(rows: list[dict[str, object]], adhoc: bool) -> str:
        # The notice body is plain text that the notice template escapes when it is shown.
        return html.unescape(ui.render("digest_body", rows=rows, adhoc=adhoc))

    notice = await questions.create_digest(session, runtime.policy, person, ui.t("voice.digest_title"), body, now)
    await show_preview(message, session, runtime, ui, notice.id or 0, state)
