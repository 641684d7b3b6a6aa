"""The public board in Telegram: /board gives the village's address (and its Mini App), the poster buttons on
the author's "published" message send the printable PDF, a photo replied to that message records
that the poster hangs on the village's paper board (posting proof), and /officialphone sets the village's
public numbers (the supervision line printed on every notice and on the board)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import board as kb
from bot.ui.keyboards.board import PosterRequest
from bot.ui.texts import UI
from models import Person
from services import Session
from services.board import proof
from services.board.visibility import boards_for
from services.people import directory, official_numbers
from web import posters
from web.links import Links

router = Routes("board")


@router.message(Command("board"))
async def board(message: Message, session: Session, person: Person | None, ui: UI, runtime: Runtime) -> None:
    base = runtime.settings.public_base_url
    if not base:
        await message.answer(ui.t("board.not_configured"))
        return
    in_group = message.chat.type != "private"
    boards = await boards_for(session, person.id if person else None, message.chat.id if in_group else None)
    links = Links(base)
    if not boards:
        await message.answer(f"{ui.t('board.none')}\n{links.home()}")
        return
    app = base.startswith("https://") and not in_group  # Telegram opens Mini Apps over https, from private chats
    buttons = [(b.village.name, links.village(b.ref), links.app(b.ref) if app else None) for b in boards]
    text = ui.t("board.group", village=boards[0].village.name) if in_group else ui.t("board.yours")
    await message.answer(text, reply_markup=kb.boards(ui, buttons))


@router.callback_query(PosterRequest.filter())
async def poster(query: CallbackQuery, callback_data: PosterRequest, session: Session, person: Person, ui: UI,
                 runtime: Runtime) -> None:
    notice, found = await proof.for_staff(session, person, callback_data.notice_id)
    await query.answer(ui.plain("board.poster_making"))
    size = callback_data.size.value
    pdf = await posters.printed(runtime.pages(), found.ref, size, ui.lang, runtime.clock.now(), notice=notice.id)
    await query.message.answer_document(  # type: ignore[union-attr]
        BufferedInputFile(pdf, filename=f"notice-{notice.id}-{size}.pdf"),
        caption=ui.t("board.poster_caption", title=notice.title, size=size.upper()))


async def replies_to_published(message: Message, session: Session) -> bool:
    """A photo in reply to one of the bot's "published" messages (only then is the photo a posting proof:
    a photo elsewhere belongs to the conversation it was sent in)."""
    reply = message.reply_to_message
    if reply is None or not message.photo:
        return False
    return await proof.notice_of_message(session, message.chat.id, reply.message_id) is not None


@router.message(F.chat.type == "private", F.photo, replies_to_published)
async def posting_proof(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime) -> None:
    photo = message.photo[-1]  # type: ignore[index]
    now = runtime.clock.now()
    replied = message.reply_to_message.message_id  # type: ignore[union-attr]
    done = await proof.record(session, person, message.chat.id, replied, photo.file_id, photo.file_unique_id, now)
    at = runtime.policy.local(done.village, now).strftime("%Y-%m-%d %H:%M")
    await message.answer(ui.t("board.proof_recorded", title=done.notice.title, at=at, name=done.by))


@router.message(Command("officialphone"), F.chat.type == "private")
async def official_phone(message: Message, command: CommandObject, session: Session, person: Person | None, ui: UI,
                         runtime: Runtime) -> None:
    """/officialphone [village] supervision|office NUMBER|-: a village's public numbers (staff or an admin;
    the service re-checks the role); without arguments, the numbers of the person's villages."""
    admin = message.from_user is not None and runtime.settings.is_admin(message.from_user.id)
    villages = await official_numbers.villages_to_set(session, person, admin=admin) if person else []
    if not villages:
        await message.answer(ui.t("official.not_staff"))
        return
    words = (command.args or "").split()
    if not words:
        listed = [(v, await official_numbers.of_village(session, v.id or 0)) for v in villages[:MAX_LISTED]]
        await message.answer(ui.render("official_numbers", villages=listed))
        return
    if official_numbers.parse_kind(words[0]) is None and len(words) >= 3:
        village = await directory.village_by_code(session, words[0])
        words = words[1:]
    elif len(villages) == 1:
        village = villages[0]
    else:
        await message.answer(ui.t("official.which_village", codes=", ".join(v.code for v in villages[:MAX_LISTED])))
        return
    kind = official_numbers.parse_kind(words[0])
    if village is None or kind is None or len(words) < 2:
        await message.answer(ui.t("official.usage"))
        return
    number = " ".join(words[1:])
    removed = number == "-"
    village = await official_numbers.set_for_village(session, person, village.id or 0, kind,  # type: ignore[arg-type]
                                                     None if removed else number, admin=admin)
    key = "official.removed" if removed else "official.set"
    await message.answer(ui.t(key, village=village.name, kind=ui.plain(f"official.kind.{kind.value}"), number=number))


MAX_LISTED = 24  # villages listed (an admin's are all of them): beyond this, name the village's code
