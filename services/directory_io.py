"""`cunwu admin import|export`: a whole township as one YAML file, imported idempotently in one transaction.

The file is authoritative for the township, its villages, the filing group and the appointed roles
(staff, secretary, supervisor, representative, inspector): an appointed role missing from the file is
revoked. Residents and resident groups are only added, since they also join through the bot.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import BoundChat, Person, RoleGrant, Township, Village
from services.directory import default_committee_name, grant_role
from services.roles import Role

APPOINTED = (Role.STAFF, Role.SECRETARY, Role.SUPERVISOR, Role.REPRESENTATIVE)


class DirectoryFileError(Exception):
    """One line naming the file, the line and the field."""


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
    groups: list[int] = Field(default_factory=list)
    roles: dict[Role, list[int]] = Field(default_factory=dict)

    @field_validator("roles")
    @classmethod
    def _no_inspectors_here(cls, roles: dict[Role, list[int]]) -> dict[Role, list[int]]:
        if Role.INSPECTOR in roles:
            raise ValueError("inspectors belong to the township (township.inspectors), not to a village")
        return roles


class TownshipEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    timezone: str | None = None
    filing_chat_id: int | None = None
    inspectors: list[int] = Field(default_factory=list)


class DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    township: TownshipEntry
    villages: list[VillageEntry] = Field(default_factory=list)

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
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise DirectoryFileError(f"{source}:{line}: not valid YAML: {getattr(error, 'problem', error)}") from error
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    try:
        return DirectoryFile.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        line = _line_of(lines, tuple(first["loc"]))
        raise DirectoryFileError(f"{source}:{line}: {field}: {first['msg']}") from error


async def import_file(session: AsyncSession, directory: DirectoryFile) -> dict[str, int]:
    """Create or update the township; the caller commits (one transaction for the whole file)."""
    township = await _upsert_township(session, directory.township)
    counts = {"villages": 0, "roles": 0, "groups": 0}
    await _sync_inspectors(session, township, directory.township.inspectors)
    for entry in directory.villages:
        village = await _upsert_village(session, township, entry)
        counts["villages"] += 1
        counts["roles"] += await _sync_roles(session, village, entry.roles)
        counts["groups"] += await _add_groups(session, village, entry.groups)
    return counts


async def _upsert_township(session: AsyncSession, entry: TownshipEntry) -> Township:
    township = (await session.exec(select(Township).where(Township.code == entry.code))).first()
    township = township or Township(code=entry.code, name=entry.name)
    township.name, township.timezone = entry.name, entry.timezone
    session.add(township)
    await session.flush()
    if entry.filing_chat_id is not None:
        chat = await _chat(session, entry.filing_chat_id)
        chat.purpose, chat.township_id, chat.village_id, chat.active = "filing", township.id, None, True
        session.add(chat)
    return township


async def _upsert_village(session: AsyncSession, township: Township, entry: VillageEntry) -> Village:
    village = (await session.exec(select(Village).where(Village.code == entry.code))).first()
    village = village or Village(code=entry.code, name=entry.name, township_id=township.id or 0)
    fields = entry.model_dump(exclude={"code", "groups", "roles", "committee_name", "review_chain"})
    for name, value in fields.items():
        setattr(village, name, value)
    village.township_id = township.id or 0
    village.committee_name = entry.committee_name or default_committee_name(entry.name, entry.kind)
    village.review_chain = [role.value for role in entry.review_chain]
    session.add(village)
    await session.flush()
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


async def _chat(session: AsyncSession, chat_id: int) -> BoundChat:
    chat = (await session.exec(select(BoundChat).where(BoundChat.chat_id == chat_id))).first()
    return chat or BoundChat(chat_id=chat_id)


async def _add_groups(session: AsyncSession, village: Village, groups: list[int]) -> int:
    for chat_id in groups:
        chat = await _chat(session, chat_id)
        chat.purpose, chat.village_id, chat.township_id, chat.active = "residents", village.id, None, True
        session.add(chat)
    await session.flush()
    return len(groups)


async def export_township(session: AsyncSession, code: str) -> str:
    township = (await session.exec(select(Township).where(Township.code == code))).first()
    if township is None:
        raise DirectoryFileError(f"no township with code {code!r}")
    data = {"township": await _township_dict(session, township), "villages": []}
    villages = await session.exec(select(Village).where(Village.township_id == township.id).order_by(col(Village.id)))
    for village in villages:
        data["villages"].append(await _village_dict(session, village))
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


async def _township_dict(session: AsyncSession, township: Township) -> dict[str, Any]:
    filing = (await session.exec(select(BoundChat.chat_id).where(
        BoundChat.township_id == township.id, BoundChat.purpose == "filing"))).first()
    inspectors = await _holders(session, Role.INSPECTOR, township_id=township.id)
    return {"code": township.code, "name": township.name, "timezone": township.timezone,
            "filing_chat_id": filing, "inspectors": inspectors}


async def _village_dict(session: AsyncSession, village: Village) -> dict[str, Any]:
    fields = set(VillageEntry.model_fields) - {"roles", "groups"}
    entry = VillageEntry.model_validate(village.model_dump(include=fields))
    data = entry.model_dump(mode="json", exclude={"roles", "groups"})
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


async def _holders(session: AsyncSession, role: Role, *, village_id: int | None = None,
                   township_id: int | None = None) -> list[int]:
    rows = await session.exec(
        select(Person.tg_user_id).join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(RoleGrant.role == role, RoleGrant.village_id == village_id, RoleGrant.township_id == township_id,
               RoleGrant.status == "active").order_by(col(Person.tg_user_id))
    )
    return list(rows)
