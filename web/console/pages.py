"""The township console (/console): the ranking of an inspector's villages, a village's timeline, notices and
the desk's record, urging and rectification orders, inspections, exports and the chart.

Sign-in: the bot's /console sends a one-time link (/console/in/<secret>); opening it shows a button (so a
link preview that fetches the page spends nothing), pressing it spends the link and sets the session cookie
(HttpOnly, SameSite=Strict, Secure behind https); inside Telegram, the Mini App's verified init data sets
the same cookie (web/console/app.py). Every page re-reads the session and checks the person's
inspector grants (services/township/access.py): a village of another township is "not found", like a
village that does not exist. Every form carries the session's CSRF token. Handlers are thin: parse, call a
service, render a template of web/templates/{zh,en}/console_*.j2 (which extend the board's layout).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from urllib.parse import quote

from aiohttp import web

from catalogs import Cadence, Period
from services.board import visibility
from services.deadlines import compliance, inspection_due
from services.errors import DomainError
from services.township import access, actions, exports, inspections, ranking, signin, timeline
from services.township.signin import Signed
from services.township.views import chart_title, county_view, ranking_view
from web.deps import Ctx
from web.pages import ctx_of
from web.views import speak

log = logging.getLogger("cunwu.web")
COOKIE = "cunwu_console"
PATH = "/console"
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


# --- plumbing -------------------------------------------------------------------------------------------

def console_page(ctx: Ctx, template: str, status: int = 200, **context: Any) -> web.Response:
    speech = speak(ctx, ctx.deps.texts.default_lang)
    text = ctx.deps.texts.render(speech.lang, template, links=speech.links, other_url="", indexed=False, **context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"})


def _lang(ctx: Ctx) -> str:
    return speak(ctx, ctx.deps.texts.default_lang).lang


async def signed_from(request: web.Request, ctx: Ctx) -> Signed | None:
    async with ctx.deps.sessions() as session:
        return await signin.signed_in(session, request.cookies.get(COOKIE), ctx.now)


def signin_needed(ctx: Ctx) -> web.Response:
    return console_page(ctx, "console_signin", status=401, secret="", refused=False)


async def _form(request: web.Request, signed: Signed) -> dict[str, str]:
    """The posted form, when it carries the session's CSRF token; otherwise 403."""
    form = {key: str(value) for key, value in (await request.post()).items()}
    if not signin.csrf_ok(signed, form.get("csrf")):
        raise web.HTTPForbidden(text="CSRF token missing or wrong")
    return form


def _error_words(ctx: Ctx, error: DomainError) -> str:
    key = f"console.error.{error.key}"
    lang = _lang(ctx)
    if key not in ctx.deps.texts.strings[lang]:
        key = "console.error.other"
    return str(ctx.deps.texts.t(lang, key, **error.params))


def _words(ctx: Ctx) -> Any:
    def t(lang: str, key: str, **params: Any) -> str:
        return str(ctx.deps.texts.t(lang, key, **params))
    return t


# --- sign-in --------------------------------------------------------------------------------------------

async def signin_page(request: web.Request) -> web.Response:
    """The link from the bot: a button that spends it (GET spends nothing)."""
    return console_page(ctx_of(request), "console_signin", secret=request.match_info["secret"], refused=False)


async def signin_post(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    form = await request.post()
    try:
        async with ctx.deps.sessions() as session:
            token = await signin.redeem(session, str(form.get("secret", "")), ctx.now, ctx.deps.county)
            await session.commit()
    except DomainError:
        log.info("a console sign-in link was refused from %s", request.remote)
        return console_page(ctx, "console_signin", status=403, secret="", refused=True)
    raise signed_in_response(ctx, token)


def signed_in_response(ctx: Ctx, token: str) -> web.HTTPSeeOther:
    """To the ranking, with the session's cookie (the one-time link's and the Mini App's sign-in alike)."""
    response = web.HTTPSeeOther(PATH)
    secure = (ctx.deps.public_base_url or "").startswith("https://")
    response.set_cookie(COOKIE, token, max_age=int(signin.SESSION_LIFE.total_seconds()), path=PATH, httponly=True,
                        samesite="Strict", secure=secure)
    return response


async def signout(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    await _form(request, signed)
    async with ctx.deps.sessions() as session:
        await signin.sign_out(session, request.cookies.get(COOKIE, ""))
        await session.commit()
    response = web.HTTPSeeOther(PATH)
    response.del_cookie(COOKIE, path=PATH)
    raise response


# --- pages ----------------------------------------------------------------------------------------------

async def home(request: web.Request) -> web.Response:
    """The ranking of every village of the townships the person inspects (several: the county's view)."""
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    if access.is_county(signed.person, ctx.deps.county):
        raise web.HTTPSeeOther(PATH + "/county")
    async with ctx.deps.sessions() as session:
        townships = await access.townships_of(session, signed.person.id or 0)
        found = await ranking.rank(session, ctx.deps.policy, townships, ctx.now)
    view = ranking_view(found, ctx.deps.policy.today(None, ctx.now), shown=None)
    return console_page(ctx, "console_ranking", r=view, townships=townships, person=signed.person, csrf=signed.csrf,
                        several=len(townships) > 1, done=request.query.get("done", ""), acting=True)


async def county(request: web.Request) -> web.Response:
    """The county's view, for the county-level admins: the townships ranked, each a link to its own ranking."""
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    async with ctx.deps.sessions() as session:
        townships = await access.county_townships(session, signed.person, ctx.deps.county)
        found = await ranking.rank(session, ctx.deps.policy, townships, ctx.now)
    view = county_view(found, ranking.townships_ranked(found), ctx.deps.policy.today(None, ctx.now))
    return console_page(ctx, "console_county", r=view, person=signed.person, csrf=signed.csrf)


async def township(request: web.Request) -> web.Response:
    """One township's ranking: for its inspectors, and for the county-level admins (to look, not to act)."""
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    async with ctx.deps.sessions() as session:
        found = await access.township_to_view(session, signed.person, ctx.deps.county, request.match_info["code"])
        ranked = await ranking.rank(session, ctx.deps.policy, [found], ctx.now)
    view = ranking_view(ranked, ctx.deps.policy.today(None, ctx.now), shown=None)
    return console_page(ctx, "console_ranking", r=view, townships=[found], person=signed.person, csrf=signed.csrf,
                        several=False, done="", acting=not access.is_county(signed.person, ctx.deps.county),
                        county=access.is_county(signed.person, ctx.deps.county))


async def village(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    return await _village_page(ctx, signed, request.match_info["code"], done=request.query.get("done", ""))


async def _village_page(ctx: Ctx, signed: Signed, code: str, *, done: str = "", error: str = "",
                        status: int = 200) -> web.Response:
    async with ctx.deps.sessions() as session:
        township, found, acting = await access.village_to_view(session, signed.person, ctx.deps.county, code)
        today = ctx.deps.policy.today(found, ctx.now)
        desk = await timeline.desk(session, ctx.deps.policy, found, today.year, ctx.now)
        overdue = await actions.overdue_of(session, ctx.deps.policy, township, found, ctx.now)
        board = await visibility.board_of(session, found)  # a links-only board is at its key, not its code
    return console_page(ctx, "console_village", d=desk, township=township, overdue=overdue, today=today.isoformat(),
                        csrf=signed.csrf, done=done, error=error, board_ref=board.ref, status=status, acting=acting)


async def act(request: web.Request) -> web.Response:
    """POST urge | rectify on a village: on success back to its page (303), on bad input the page again
    with the reason (422)."""
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    form = await _form(request, signed)
    code, what = request.match_info["code"], request.match_info["action"]
    keys = [form["key"]] if form.get("key") else None
    try:
        async with ctx.deps.sessions() as session:
            _, found = await access.village_by_code(session, signed.person.id or 0, code)
            if what == "urge":
                await actions.urge(session, ctx.deps.policy, signed.person, found.id or 0, form.get("note"), ctx.now,
                                   keys)
            else:
                deadline = actions.parse_deadline(form.get("deadline", ""))
                await actions.rectify(session, ctx.deps.policy, signed.person, found.id or 0, deadline,
                                      form.get("note"), ctx.now, keys)
            await session.commit()
        ctx.deps.wake()
    except DomainError as error:
        if error.key in ("err.no_village", "err.not_role"):
            raise
        return await _village_page(ctx, signed, code, error=_error_words(ctx, error), status=422)
    raise web.HTTPSeeOther(f"{PATH}/v/{quote(code, safe='')}?done={what}")


async def inspection(request: web.Request) -> web.Response:
    """GET the form and the township's record of inspections; POST records one."""
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    error, status = "", 200
    if request.method == "POST":
        form = await _form(request, signed)
        try:
            async with ctx.deps.sessions() as session:
                township = await _township(session, signed, request.match_info["code"])
                findings = {int(key[2:]): value for key, value in form.items() if key.startswith("v_")
                            and key[2:].isdigit()}
                await inspections.record(session, signed.person, township.id or 0, actions.parse_deadline(
                    form.get("day", "")), form.get("kind", ""), findings, ctx.now)
                await session.commit()
            raise web.HTTPSeeOther(f"{PATH}/t/{quote(request.match_info['code'], safe='')}/inspections?done=1")
        except DomainError as refused:
            if refused.key in ("err.no_village", "err.not_role"):
                raise
            error, status = _error_words(ctx, refused), 422
    async with ctx.deps.sessions() as session:
        township = await _township(session, signed, request.match_info["code"])
        found = await ranking.rank(session, ctx.deps.policy, [township], ctx.now)
        done = await inspections.of_township(session, township.id or 0)
        owed = await inspection_due.status(session, ctx.deps.policy, township, ctx.now)
    owed_view = inspection_due.view(owed, _lang(ctx), ctx.deps.policy.today(None, ctx.now))
    return console_page(ctx, "console_inspections", township=township, villages=found.villages, rows=done,
                        owed=owed_view, kinds=inspections.KINDS, csrf=signed.csrf, error=error,
                        today=date.isoformat(ctx.now.date()), done=request.query.get("done", ""), status=status)


async def _township(session: Any, signed: Signed, code: str) -> Any:
    for township in await access.townships_of(session, signed.person.id or 0):
        if township.code == code:
            return township
    raise DomainError("err.no_village")


async def export(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    name, fmt = request.match_info["table"], request.match_info["fmt"]
    async with ctx.deps.sessions() as session:
        township = await access.township_to_view(session, signed.person, ctx.deps.county, request.match_info["code"])
        table = await exports.table(session, ctx.deps.policy, township, name, ctx.now)
    lang = _lang(ctx)

    def words(key: str) -> str:
        return str(ctx.deps.texts.t(lang, f"console.export.{key}"))

    title = f"{township.name} · {words(f'{name}.sheet')} · {ctx.deps.policy.today(None, ctx.now).isoformat()}"
    body = exports.as_xlsx(table, words, title) if fmt == "xlsx" else exports.as_csv(table, words)
    filename = f"{township.code}-{name}-{ctx.now.date().isoformat()}.{fmt}"
    return web.Response(body=body, headers={"Content-Type": FORMATS[fmt], "Cache-Control": "no-store",
                                            "Content-Disposition": f"attachment; filename={filename}"})


async def chart(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    lang, t = _lang(ctx), _words(ctx)
    async with ctx.deps.sessions() as session:
        township = await access.township_to_view(session, signed.person, ctx.deps.county, request.match_info["code"])
        quarter = Period.containing(Cadence.QUARTERLY, ctx.deps.policy.today(None, ctx.now))
        report = await compliance.township_report(session, ctx.deps.policy, township, quarter, ctx.now)
    png = compliance.chart_png(report, compliance.legend(t, lang), chart_title(t, lang, report, ctx.now), lang)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


CODE = r"{code:[A-Za-z0-9_-]{1,40}}"
ROUTES: tuple[tuple[str, str, str, Any], ...] = (
    ("GET", PATH, "console", home),
    ("GET", PATH + "/in/{secret:[A-Za-z0-9_-]{1,100}}", "console-signin", signin_page),
    ("POST", PATH + "/in", "console-signin-post", signin_post),
    ("POST", PATH + "/out", "console-out", signout),
    ("GET", PATH + "/county", "console-county", county),
    ("GET", PATH + f"/t/{CODE}", "console-township", township),
    ("GET", PATH + f"/v/{CODE}", "console-village", village),
    ("POST", PATH + f"/v/{CODE}/{{action:urge|rectify}}", "console-act", act),
    ("GET", PATH + f"/t/{CODE}/inspections", "console-inspections", inspection),
    ("POST", PATH + f"/t/{CODE}/inspections", "console-inspect", inspection),
    ("GET", PATH + f"/t/{CODE}/export/{{table:compliance|orders|inspections}}.{{fmt:xlsx|csv}}", "console-export",
     export),
    ("GET", PATH + f"/t/{CODE}/chart.png", "console-chart", chart),
)
