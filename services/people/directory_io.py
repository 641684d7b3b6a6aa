"""`cunwu admin import|export`: a whole township as one YAML file, imported idempotently in one transaction.

The file is authoritative for the township, its villages, the filing group and the appointed roles
(staff, secretary, supervisor, finance_group, representative, inspector): an appointed role missing from the file is
revoked. Residents and resident groups are only added, since they also join through the bot.

Every mistake is reported as `FILE:LINE: FIELD: what is wrong`, in three passes: the file's shape
(pydantic, in `parse`), what the file says against itself (a chat id used twice), and what it says
against the deployment (profiles, catalogs, and villages or groups that belong to another township) while
importing. The caller commits once, so a mistake found half-way changes nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Registry, load_registry
from catalogs.loader import parse_yaml
from models import BoundChat, Person, RoleGrant, Township, Village
from models.types import utcnow
from services.board.visibility import board_of, set_visibility
from services.errors import DomainError
from services.people import official_numbers
from services.people.directory import grant_role
from services.people.names import NAME_MAX, clean_name, set_from_directory
from services.people.official_numbers import Kind as NumberKind
from services.people.roles import REVIEW_ROLES, Role

APPOINTED = (Role.STAFF, Role.SECRETARY, Role.SUPERVISOR, Role.FINANCE_GROUP, Role.REPRESENTATIVE)
Loc = tuple[str | int, ...]


class DirectoryFileError(Exception):
    """One line naming the file, the line and the field."""


def _phones(numbers: Any) -> Any:
    """Each a phone number, as text (YAML reads an unquoted 13812345678 as a number)."""
    if not isinstance(numbers, dict):
        return numbers
    numbers = {kind: str(number) if isinstance(number, int) else number for kind, number in numbers.items()}
    for number in numbers.values():
        if isinstance(number, str) and privacy_key(number) is None:
            raise ValueError(f"{number!r} is not one phone number (a mobile, or a landline with its area code)")
    return numbers


def privacy_key(number: str) -> str | None:
    try:
        return official_numbers.checked_key(str(number))
    except DomainError:
        return None


def _zone(name: str | None) -> str | None:
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None
    return name


class VillageEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="village", pattern="^(village|community)$")
    committee_name: str | None = None
    profile: str | None = None
    catalog: str | None = None
    population: int = Field(default=0, ge=0)
    representatives: int = Field(default=0, ge=0)
    timezone: str | None = None
    language: str = Field(default="zh", pattern="^(zh|en)$")
    monthly_finance: bool = False
    review_chain: list[Role] = Field(default_factory=lambda: [Role.SECRETARY, Role.SUPERVISOR], min_length=1)
    board: str = Field(default="public", pattern="^(public|noindex|links)$")  # services.board.visibility
    official_numbers: dict[NumberKind, str] = Field(default_factory=dict)  # services.people.official_numbers
    groups: list[int] = Field(default_factory=list)
    roles: dict[Role, list[int]] = Field(default_factory=dict)

    _official = field_validator("official_numbers", mode="before")(_phones)

    @field_validator("roles")
    @classmethod
    def _no_inspectors_here(cls, roles: dict[Role, list[int]]) -> dict[Role, list[int]]:
        if Role.INSPECTOR in roles:
            raise ValueError("inspectors belong to the township (township.inspectors), not to a village")
        return roles

    @field_validator("review_chain")
    @classmethod
    def _reviewers_only(cls, chain: list[Role]) -> list[Role]:
        wrong = [role.value for role in chain if role not in REVIEW_ROLES]
        if wrong:
            raise ValueError(f"{', '.join(wrong)} cannot review; a review chain holds "
                             f"{' and '.join(r.value for r in REVIEW_ROLES)}")
        if len(set(chain)) != len(chain):
            raise ValueError("a role appears twice in the review chain")
        if Role.FINANCE_GROUP in chain and Role.SECRETARY in chain and \
                chain.index(Role.FINANCE_GROUP) > chain.index(Role.SECRETARY):
            raise ValueError("finance_group (民主理财小组) reviews before the secretary")
        return chain

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        return _zone(name)


class TownshipEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    timezone: str | None = None
    filing_chat_id: int | None = None
    inspectors: list[int] = Field(default_factory=list)
    official_numbers: dict[NumberKind, str] = Field(default_factory=dict)  # the township's own, for its villages

    _official = field_validator("official_numbers", mode="before")(_phones)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        return _zone(name)


class DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    township: TownshipEntry
    villages: list[VillageEntry] = Field(default_factory=list)
    names: dict[int, str] = Field(default_factory=dict)  # Telegram user id -> the name printed on notices
    _source: str = PrivateAttr(default="directory.yaml")
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)

    def error(self, loc: Loc, message: str) -> DirectoryFileError:
        """`FILE:LINE: FIELD: message` for a place in this file."""
        field = ".".join(str(part) for part in loc) or "(top level)"
        return DirectoryFileError(f"{self._source}:{_line_of(self._lines, loc)}: {field}: {message}")

    def chats(self) -> list[tuple[Loc, int]]:
        """Every chat id the file names, with where it names it."""
        found: list[tuple[Loc, int]] = []
        if self.township.filing_chat_id is not None:
            found.append((("township", "filing_chat_id"), self.township.filing_chat_id))
        for v, village in enumerate(self.villages):
            found += [(("villages", v, "groups", g), chat_id) for g, chat_id in enumerate(village.groups)]
        return found

    @field_validator("names")
    @classmethod
    def _real_names(cls, given: dict[int, str]) -> dict[int, str]:
        try:
            return {user_id: clean_name(name) for user_id, name in given.items()}
        except DomainError as error:
            raise ValueError(f"a name needs letters and at most {NAME_MAX} characters ({error.key})") from None

    @field_validator("villages")
    @classmethod
    def _unique_codes(cls, villages: list[VillageEntry]) -> list[VillageEntry]:
        codes = [v.code for v in villages]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate village code(s): {', '.join(duplicates)}")
        return villages


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc[:end])
        if key in lines:
            return lines[key]
    return 1


def parse(text: str, source: str = "directory.yaml") -> DirectoryFile:
    """The file's shape and what it says against itself; `import_file` checks it against the deployment."""
    try:
        node = yaml.compose(text)
        data = parse_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise DirectoryFileError(f"{source}:{line}: not valid YAML: {getattr(error, 'problem', error)}") from error
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    try:
        directory = DirectoryFile.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        line = _line_of(lines, tuple(first["loc"]))
        message = str(first["msg"]).removeprefix("Value error, ")
        raise DirectoryFileError(f"{source}:{line}: {field}: {message}") from error
    directory._source, directory._lines = source, lines
    _check_chats_once(directory)
    return directory


def _check_chats_once(directory: DirectoryFile) -> None:
    """A group is one village's resident group or the township's filing group, never two of these."""
    first_use: dict[int, Loc] = {}
    for loc, chat_id in directory.chats():
        if chat_id in first_use:
            where = ".".join(str(part) for part in first_use[chat_id])
            raise directory.error(loc, f"chat {chat_id} is already used at {where}")
        first_use[chat_id] = loc


@lru_cache(maxsize=1)
def _shipped_registry() -> Registry:
    return load_registry()


async def import_file(session: AsyncSession, directory: DirectoryFile,
                      registry: Registry | None = None) -> dict[str, int]:
    """Create or update the township; the caller commits (one transaction for the whole file).

    `registry`: the deployment's catalogs and profiles (None: the shipped ones), which the villages'
    `profile` and `catalog` must name. Raises DirectoryFileError, possibly after some rows were written:
    the caller then rolls back."""
    _check_policies(directory, registry or _shipped_registry())
    township = await _upsert_township(session, directory)
    counts = {"villages": 0, "roles": 0, "groups": 0}
    await _sync_inspectors(session, township, directory.township.inspectors)
    for index, entry in enumerate(directory.villages):
        village = await _upsert_village(session, township, directory, index)
        counts["villages"] += 1
        counts["roles"] += await _sync_roles(session, village, entry.roles)
        counts["groups"] += await _add_groups(session, village, directory, index)
    for tg_user_id, name in directory.names.items():
        person = await _person(session, tg_user_id)
        set_from_directory(person, name)
        session.add(person)
    return counts


def _check_policies(directory: DirectoryFile, registry: Registry) -> None:
    for index, village in enumerate(directory.villages):
        if village.profile is not None and village.profile not in registry.profiles:
            raise directory.error(("villages", index, "profile"),
                                  f"unknown profile {village.profile!r}; known: {', '.join(sorted(registry.profiles))}")
        if village.catalog is None:
            continue
        catalog = registry.catalogs.get(village.catalog)
        if catalog is None:
            raise directory.error(("villages", index, "catalog"),
                                  f"unknown catalog {village.catalog!r}; known: {', '.join(sorted(registry.catalogs))}")
        if catalog.unit_kind != village.kind:
            raise directory.error(("villages", index, "catalog"),
                                  f"catalog {village.catalog!r} is for a {catalog.unit_kind}, not a {village.kind}")


async def _upsert_township(session: AsyncSession, directory: DirectoryFile) -> Township:
    entry = directory.township
    township = (await session.exec(select(Township).where(Township.code == entry.code))).first()
    township = township or Township(code=entry.code, name=entry.name)
    township.name, township.timezone = entry.name, entry.timezone
    session.add(township)
    await session.flush()
    for kind, number in entry.official_numbers.items():
        await official_numbers.store(session, kind, number, township=township)
    if entry.filing_chat_id is not None:
        chat = await _chat_of(session, directory, ("township", "filing_chat_id"), entry.filing_chat_id, township)
        chat.purpose, chat.township_id, chat.village_id, chat.active = "filing", township.id, None, True
        session.add(chat)
    return township


async def _upsert_village(session: AsyncSession, township: Township, directory: DirectoryFile,
                          index: int) -> Village:
    entry = directory.villages[index]
    village = (await session.exec(select(Village).where(Village.code == entry.code))).first()
    if village is not None and village.township_id != township.id:
        other = await session.get(Township, village.township_id)
        raise directory.error(("villages", index, "code"), f"village {entry.code!r} belongs to township "
                              f"{other.code if other else village.township_id!r}; a file cannot move it")
    village = village or Village(code=entry.code, name=entry.name, township_id=township.id or 0)
    fields = entry.model_dump(exclude={"code", "groups", "roles", "committee_name", "review_chain", "board",
                                       "official_numbers"})
    for name, value in fields.items():
        setattr(village, name, value)
    village.township_id = township.id or 0
    village.committee_name = entry.committee_name or ""  # "": the usual name for its kind (Policy.issuing_unit)
    village.review_chain = [role.value for role in entry.review_chain]
    session.add(village)
    await session.flush()
    if (await board_of(session, village)).visibility != entry.board:
        await set_visibility(session, village, entry.board, utcnow())
    for kind, number in entry.official_numbers.items():  # numbers set in the bot and not named here stay
        await official_numbers.store(session, kind, number, village=village)
    return village


async def _person(session: AsyncSession, tg_user_id: int) -> Person:
    person = (await session.exec(select(Person).where(Person.tg_user_id == tg_user_id))).first()
    if person is None:
        person = Person(tg_user_id=tg_user_id)
        session.add(person)
        await session.flush()
    return person


async def _sync_roles(session: AsyncSession, village: Village, roles: dict[Role, list[int]]) -> int:
    granted = 0
    for role in (*APPOINTED, Role.RESIDENT):
        wanted = set(roles.get(role, []))
        for tg_user_id in sorted(wanted):
            person = await _person(session, tg_user_id)
            await grant_role(session, person.id or 0, role, village_id=village.id)
            granted += 1
        if role in APPOINTED:
            await _revoke_others(session, role, wanted, village_id=village.id)
    return granted


async def _sync_inspectors(session: AsyncSession, township: Township, inspectors: list[int]) -> None:
    for tg_user_id in inspectors:
        person = await _person(session, tg_user_id)
        await grant_role(session, person.id or 0, Role.INSPECTOR, township_id=township.id)
    await _revoke_others(session, Role.INSPECTOR, set(inspectors), township_id=township.id)


async def _revoke_others(session: AsyncSession, role: Role, keep: set[int], *, village_id: int | None = None,
                         township_id: int | None = None) -> None:
    rows = await session.exec(
        select(RoleGrant, Person).join(Person, col(Person.id) == RoleGrant.person_id)
        .where(RoleGrant.role == role, RoleGrant.village_id == village_id, RoleGrant.township_id == township_id,
               RoleGrant.status == "active")
    )
    for grant, person in rows:
        if person.tg_user_id not in keep:
            grant.status = "revoked"
            session.add(grant)


async def _chat_of(session: AsyncSession, directory: DirectoryFile, loc: Loc, chat_id: int,
                   township: Township) -> BoundChat:
    """The chat's row; one that serves another township (a village of it, or its filing) is not taken."""
    chat = (await session.exec(select(BoundChat).where(BoundChat.chat_id == chat_id))).first()
    if chat is None:
        return BoundChat(chat_id=chat_id)
    owner = chat.township_id
    if chat.village_id is not None:
        village = await session.get(Village, chat.village_id)
        owner = village.township_id if village else None
    if owner is not None and owner != township.id:
        other = await session.get(Township, owner)
        raise directory.error(loc, f"chat {chat_id} serves township {other.code if other else owner!r}; "
                              "unbind it there first (/unbind in the group)")
    return chat


async def _add_groups(session: AsyncSession, village: Village, directory: DirectoryFile, index: int) -> int:
    groups = directory.villages[index].groups
    township = await session.get(Township, village.township_id)
    assert township is not None
    for number, chat_id in enumerate(groups):
        chat = await _chat_of(session, directory, ("villages", index, "groups", number), chat_id, township)
        chat.purpose, chat.village_id, chat.township_id, chat.active = "residents", village.id, None, True
        session.add(chat)
    await session.flush()
    return len(groups)


async def export_township(session: AsyncSession, code: str) -> str:
    township = (await session.exec(select(Township).where(Township.code == code))).first()
    if township is None:
        raise DirectoryFileError(f"no township with code {code!r}")
    data: dict[str, Any] = {"township": await _township_dict(session, township), "villages": []}
    villages = await session.exec(select(Village).where(Village.township_id == township.id).order_by(col(Village.id)))
    for village in villages:
        data["villages"].append(await _village_dict(session, village))
    data["names"] = await _chosen_names(session, data)
    if not data["names"]:
        del data["names"]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


async def _township_dict(session: AsyncSession, township: Township) -> dict[str, Any]:
    filing = (await session.exec(select(BoundChat.chat_id).where(
        BoundChat.township_id == township.id, BoundChat.purpose == "filing"))).first()
    inspectors = await _holders(session, Role.INSPECTOR, township_id=township.id)
    numbers = await official_numbers.of_township(session, township.id or 0)
    return {"code": township.code, "name": township.name, "timezone": township.timezone,
            "filing_chat_id": filing, "inspectors": inspectors, **({"official_numbers": numbers} if numbers else {})}


async def _village_dict(session: AsyncSession, village: Village) -> dict[str, Any]:
    fields = set(VillageEntry.model_fields) - {"roles", "groups", "board", "official_numbers"}
    board = (await board_of(session, village)).visibility
    numbers = await official_numbers.of_village(session, village.id or 0)
    entry = VillageEntry.model_validate({**village.model_dump(include=fields), "board": board,
                                         "official_numbers": numbers})
    data = entry.model_dump(mode="json", exclude={"roles", "groups"} | (set() if numbers else {"official_numbers"}))
    data["committee_name"] = village.committee_name or None  # None: the usual name for its kind
    groups = await session.exec(select(BoundChat.chat_id).where(
        BoundChat.village_id == village.id, BoundChat.purpose == "residents").order_by(col(BoundChat.id)))
    data["groups"] = list(groups)
    roles: dict[str, list[int]] = {}
    for role in (*APPOINTED, Role.RESIDENT):
        holders = await _holders(session, role, village_id=village.id)
        if holders:
            roles[role.value] = holders
    data["roles"] = roles
    return data


async def _chosen_names(session: AsyncSession, data: dict[str, Any]) -> dict[int, str]:
    """The chosen names of everyone the file names (inspectors and every village's roles)."""
    ids = set(data["township"]["inspectors"])
    for village in data["villages"]:
        ids.update(*village["roles"].values())
    if not ids:
        return {}
    rows = await session.exec(select(Person).where(col(Person.tg_user_id).in_(ids), col(Person.name_chosen))
                              .order_by(col(Person.tg_user_id)))
    return {person.tg_user_id: person.name for person in rows}


async def _holders(session: AsyncSession, role: Role, *, village_id: int | None = None,
                   township_id: int | None = None) -> list[int]:
    rows = await session.exec(
        select(Person.tg_user_id).join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(RoleGrant.role == role, RoleGrant.village_id == village_id, RoleGrant.township_id == township_id,
               RoleGrant.status == "active").order_by(col(Person.tg_user_id))
    )
    return list(rows)
