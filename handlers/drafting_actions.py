"""The buttons under a draft: edit, attachments, finance table, privacy screen, submit, save, discard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import notices as kb
from bot.ui.keyboards.notices import DraftAction
from bot.ui.texts import UI
from handlers.drafting import Drafting, show_preview
from models import Person
from services import Session
from services.notices import drafting, drafts, finance_sheet, review, screening
from services.notices.finance_table import STATEMENT_COLUMNS
from services.people.roles import Role

router = Routes("drafting_actions")


class Ctx:
    """What every draft button needs, gathered once."""

    def __init__(self, query: CallbackQuery, session: Session, person: Person, ui: UI, runtime: Runtime,
                 state: FSMContext, notice_id: int) -> None:
        self.query, self.session, self.person, self.ui = query, session, person, ui
        self.runtime, self.state, self.notice_id = runtime, state, notice_id
        self.message: Message = query.message  # type: ignore[assignment]

    @property
    def now(self):
        return self.runtime.clock.now()


async def _ask(ctx: Ctx, state: object, key: str, done: str | None = None) -> None:
    await drafts.editable(ctx.session, ctx.person, ctx.notice_id)
    await ctx.state.set_state(state)  # type: ignore[arg-type]
    await ctx.state.update_data(notice_id=ctx.notice_id, body_started=False)
    markup = kb.single(ctx.ui, ctx.notice_id, done, "btn.done") if done else None
    await ctx.message.answer(ctx.ui.t(key), reply_markup=markup)


async def _ask_table(ctx: Ctx) -> None:
    """The finance table: typed lines, or a sheet uploaded from the template sent here (CSV and Excel)."""
    await _ask(ctx, Drafting.table, "finance.ask")
    ui = ctx.ui
    headings = [ui.plain(f"finance.columns.{c}") for c in ("item", *STATEMENT_COLUMNS)]
    items = [ui.plain("finance.example.one"), ui.plain("finance.example.two")]
    name = ui.plain("finance.file_name")
    await ctx.message.answer_document(BufferedInputFile(finance_sheet.template_xlsx(headings, items), f"{name}.xlsx"),
                                      caption=ui.plain("finance.template"))
    await ctx.message.answer_document(BufferedInputFile(finance_sheet.template_csv(headings, items), f"{name}.csv"))


async def _preview(ctx: Ctx) -> None:
    await show_preview(ctx.message, ctx.session, ctx.runtime, ctx.ui, ctx.notice_id, ctx.state)


async def _submit(ctx: Ctx) -> None:
    notice = await drafts.editable(ctx.session, ctx.person, ctx.notice_id)
    findings = await screening.findings_of(ctx.session, notice)
    if findings:
        await ctx.message.answer(ctx.ui.render("privacy_findings", findings=findings),
                                 reply_markup=kb.privacy(ctx.ui, ctx.notice_id))
        return
    notice = await review.submit(ctx.session, ctx.runtime.policy, ctx.person, ctx.notice_id, ctx.now)
    await ctx.state.clear()
    await ctx.message.answer(ctx.ui.render("submitted", notice=notice, role=Role(notice.review_chain[0]).value))


async def _mask(ctx: Ctx) -> None:
    await screening.mask_findings(ctx.session, ctx.person, ctx.notice_id, ctx.now)
    await _preview(ctx)


async def _ask_allow(ctx: Ctx) -> None:
    asked = await screening.ask_to_allow(ctx.session, ctx.person, ctx.notice_id)
    await ctx.message.answer(ctx.ui.t("privacy.asked", count=asked))


async def _save(ctx: Ctx) -> None:
    await drafts.editable(ctx.session, ctx.person, ctx.notice_id)
    await ctx.state.clear()
    await ctx.message.answer(ctx.ui.t("draft.saved"))


async def _discard(ctx: Ctx) -> None:
    await drafts.discard(ctx.session, ctx.person, ctx.notice_id, ctx.now)
    await ctx.state.clear()
    await ctx.message.answer(ctx.ui.t("draft.discarded"))


async def _withdraw(ctx: Ctx) -> None:
    await drafts.withdraw(ctx.session, ctx.person, ctx.notice_id, ctx.now)
    await _preview(ctx)


async def _resume(ctx: Ctx) -> None:
    notice = await drafts.get(ctx.session, ctx.notice_id)
    await drafting.require_staff_of(ctx.session, ctx.person, notice)
    if notice.state == "in_review":
        await ctx.message.answer(ctx.ui.t("draft.in_review"), reply_markup=kb.single(
            ctx.ui, ctx.notice_id, "withdraw", "btn.withdraw"))
        return
    await drafts.editable(ctx.session, ctx.person, ctx.notice_id)
    await _preview(ctx)


ACTIONS: dict[str, Callable[[Ctx], Awaitable[None]]] = {
    "title": lambda ctx: _ask(ctx, Drafting.title, "draft.ask_title"),
    "body": lambda ctx: _ask(ctx, Drafting.body, "draft.ask_body", "body_done"),
    "attach": lambda ctx: _ask(ctx, Drafting.attach, "draft.ask_attachments", "attach_done"),
    "table": lambda ctx: _ask_table(ctx),
    "body_done": _preview,
    "attach_done": _preview,
    "resume": _resume,
    "submit": _submit,
    "mask": _mask,
    "ask_allow": _ask_allow,
    "save": _save,
    "discard": _discard,
    "withdraw": _withdraw,
}


@router.callback_query(DraftAction.filter())
async def draft_action(query: CallbackQuery, callback_data: DraftAction, session: Session, person: Person,
                       ui: UI, runtime: Runtime, state: FSMContext) -> None:
    action = ACTIONS.get(callback_data.action)
    if action is None or query.message is None:
        await query.answer(ui.t("err.stale_button"), show_alert=True)
        return
    await query.answer()
    await action(Ctx(query, session, person, ui, runtime, state, callback_data.notice_id))
