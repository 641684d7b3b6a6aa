"""Pydantic models of a disclosure catalog: classes of items, and procedures (e.g. 四议两公开)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalogs.vocabulary import Cadence, Owner, Record, Role, UnitKind

# Full ids travel inside 64-byte Telegram callback data next to other fields, hence the cap.
MAX_FULL_ID = 16
FINANCE_CLASS = "cw"  # 财务类 / 财务公开 / 财务: the finance class, in every catalog that has one
_CODE = r"^[a-z][a-z0-9_]*$"


class Strict(BaseModel):
    # Unknown keys are typos in hand-written YAML: refuse them instead of ignoring them.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Names(Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    zh_simplified: str | None = None  # when `zh` is verbatim traditional (002) and the bot shows simplified

    @property
    def zh_shown(self) -> str:
        """What every zh view shows: the simplified form when the source is traditional."""
        return self.zh_simplified or self.zh

    def words(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh_shown


class Item(Strict):
    number: int = Field(ge=1)  # the source's own numbering (it may skip, e.g. jyc 财务类 has no 4)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    zh_simplified: str | None = None  # when `zh` is verbatim traditional (002) and the bot shows simplified
    cadence: Cadence
    source: str = Field(min_length=1)
    finance: bool = False  # T-FIN-Q: monthly instead of quarterly in a village with many transactions
    ambiguous: bool = False
    note: str | None = None
    role: Role | None = None
    # who owes and is nagged about it: the staff (the clerk), or the supervisory committee for its own
    # supervision report (reminded to its members, never listed in the clerk's /due)
    owner: Owner = "staff"
    # Filled in by the enclosing class and catalog, never written in YAML.
    class_code: str = Field(default="", exclude=True)
    catalog_code: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _ambiguity_is_explained(self) -> Item:
        if self.ambiguous and not self.note:
            raise ValueError("note: required when ambiguous is true (say which reading was taken)")
        return self

    @property
    def zh_shown(self) -> str:
        """What every zh view shows: the simplified form when the source is traditional (Dawukou, 002)."""
        return self.zh_simplified or self.zh

    def words(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh_shown

    def code_in(self, class_code: str) -> str:
        return f"{class_code}.{self.number}"

    @property
    def code(self) -> str:
        return f"{self.class_code}.{self.number}"

    @property
    def full_id(self) -> str:
        return f"{self.catalog_code}:{self.code}"

    @property
    def finance_class(self) -> bool:
        """A finance item: the democratic finance group reviews it where the village has that stage."""
        return self.finance or self.class_code == FINANCE_CLASS

    def effective_cadence(self, many_transactions: bool = False) -> Cadence:
        """T-FIN-Q: finance items of a village flagged as having many transactions are due monthly."""
        periodic = self.cadence is Cadence.QUARTERLY
        return Cadence.MONTHLY if self.finance and many_transactions and periodic else self.cadence


class CatalogClass(Strict):
    code: str = Field(pattern=_CODE, max_length=4)
    number: int = Field(ge=1)
    names: Names
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _own_items(self) -> CatalogClass:
        seen: set[int] = set()
        for item in self.items:
            code = item.code_in(self.code)
            if item.number in seen:
                raise ValueError(f"item {code}: number: duplicate item code {code}")
            seen.add(item.number)
            item.class_code = self.code
        return self


class Step(Strict):
    """A deliberation (staff record what it met and decided, `records`) or a disclosure it produces (`cadence`)."""

    code: str = Field(pattern=_CODE)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    cadence: Cadence | None = None  # set only on the steps that are disclosures
    records: list[Record] = Field(default_factory=list)  # a deliberation: what its record holds (date first)
    recorder: Owner = "staff"  # who records it in the bot
    decides: bool = False  # the deciding meeting: once recorded, the resolution disclosure is owed (T-NOW)
    after_days: int | None = Field(default=None, ge=1)  # the result: owed this long after the decision at the
    # latest (a configured period), or as soon as staff record the matter complete

    @model_validator(mode="after")
    def _disclosed_after_its_event(self) -> Step:
        # /event registers a step's date; only an event rule (T-NOW, T-ADHOC10) turns that into a due date
        if self.cadence not in (None, Cadence.IMMEDIATE, Cadence.ADHOC):
            raise ValueError(f"cadence: a procedure step is due after its event (immediate or adhoc), "
                             f"not {self.cadence.value}")
        if self.cadence is None and (not self.records or self.records[0] != "date"):
            raise ValueError("records: a deliberation records its date first")
        if self.cadence is not None and (self.records or self.decides):
            raise ValueError("records: a disclosure step records nothing of its own")
        return self


class Procedure(Strict):
    code: str = Field(pattern=_CODE)
    names: Names
    source: str
    steps: list[Step] = Field(min_length=1)

    def disclosures(self) -> list[Step]:
        return [step for step in self.steps if step.cadence is not None]

    def deliberations(self) -> list[Step]:
        """The steps staff record, in the order they must happen."""
        return [step for step in self.steps if step.cadence is None]

    def step(self, code: str) -> Step | None:
        return next((step for step in self.steps if step.code == code), None)

    @model_validator(mode="after")
    def _one_decision_then_its_disclosures(self) -> Procedure:
        deciding = [step for step in self.steps if step.decides]
        if len(deciding) > 1:
            raise ValueError("steps: at most one step decides")
        return self


class Catalog(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9]{1,5}$")
    names: Names
    unit_kind: UnitKind
    source: str = Field(min_length=1)
    profile: str | None = None  # the policy profile of the district this catalog comes from
    note: str | None = None
    classes: list[CatalogClass] = Field(min_length=1)
    procedures: list[Procedure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _own_items(self) -> Catalog:
        codes = [klass.code for klass in self.classes]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"classes: duplicate class code {duplicates[0]!r}")
        for item in self.items():
            item.catalog_code = self.code
            if len(item.full_id) > MAX_FULL_ID or not item.full_id.isascii():
                raise ValueError(f"item {item.code}: code: full id {item.full_id!r} exceeds {MAX_FULL_ID} ASCII chars")
        return self

    def items(self) -> list[Item]:
        return [item for klass in self.classes for item in klass.items]

    def klass(self, code: str) -> CatalogClass | None:
        return next((klass for klass in self.classes if klass.code == code), None)

    def with_role(self, role: Role | str) -> list[Item]:
        return [item for item in self.items() if item.role == role]
