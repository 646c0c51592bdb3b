"""Coverage plans are data: JSON files in ``warranty/plans/`` validated on load.

Keeping plans as data lets the business add a plan (a longer warranty, a return window, a
different payback multiple) without touching code, while validation here guarantees the
workflow can rely on every field: a claim can only be denied with a reason code the plan lists,
and the buyer is shown exactly the exclusions the plan states.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PLANS_DIR = Path(__file__).parent / "plans"

ItemKind = Literal["phone", "jewelry"]
REQUIRED_EXCLUSIONS = ("damage_after_sale", "water", "tampering", "identity_mismatch")


class PlanError(ValueError):
    """A plan file that cannot be used; the message names the file and the bad field."""


class CodeText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    text: str = Field(min_length=3, max_length=400)


class Money(BaseModel):
    """Money in integer minor units (cents, fen) so sums never drift."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    amount_minor: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class IdentityRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["imei_or_serial", "weight"]
    weight_tolerance_mg: int | None = Field(default=None, ge=0, le=100_000)

    @model_validator(mode="after")
    def _weight_needs_tolerance(self) -> IdentityRule:
        if self.kind == "weight" and self.weight_tolerance_mg is None:
            raise ValueError("identity kind 'weight' needs weight_tolerance_mg")
        return self


class Plan(BaseModel):
    """One coverage plan; immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    plan_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    title: str = Field(min_length=3, max_length=120)
    item_kind: ItemKind
    default: bool = False
    days: int = Field(ge=1, le=3650, description="Coverage length from the sale (or issue) date.")
    covers: tuple[CodeText, ...] = Field(min_length=1)
    authenticity_multiple: int | None = Field(default=None, ge=1, le=100)
    return_window_days: int | None = Field(default=None, ge=1, le=90)
    return_shipping_compensation: Money | None = None
    exclusions: tuple[CodeText, ...]
    deny_reasons: tuple[CodeText, ...] = Field(min_length=1)
    identity: IdentityRule

    @field_validator("exclusions")
    @classmethod
    def _standard_exclusions_stated(cls, v: tuple[CodeText, ...]) -> tuple[CodeText, ...]:
        codes = {e.code for e in v}
        missing = [c for c in REQUIRED_EXCLUSIONS if c not in codes]
        if missing:
            raise ValueError(f"every plan must state the exclusions {', '.join(missing)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        codes = [d.code for d in self.deny_reasons]
        if len(codes) != len(set(codes)):
            raise ValueError("deny_reasons codes must be unique")
        if self.days and self.return_window_days and self.return_window_days > self.days:
            raise ValueError("return_window_days cannot exceed days")
        if self.item_kind == "jewelry" and self.identity.kind != "weight":
            raise ValueError("jewelry plans check identity by weight")
        if self.item_kind == "phone" and self.identity.kind != "imei_or_serial":
            raise ValueError("phone plans check identity by IMEI/serial")
        return self

    @property
    def deny_codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.deny_reasons)

    def deny_text(self, code: str) -> str:
        for d in self.deny_reasons:
            if d.code == code:
                return d.text
        return code


def parse_plan(raw: bytes | str, source: str = "<plan>") -> Plan:
    """Parse and validate one plan; errors say which file and which field is wrong."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{source}: not valid JSON: {exc}") from exc
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(plan)'}: {err['msg']}" for err in exc.errors()
        )
        raise PlanError(f"{source}: {problems}") from exc


def load_plans(directory: Path = PLANS_DIR) -> dict[str, Plan]:
    """Load every ``*.json`` plan in ``directory``; exactly one default plan per item kind."""
    plans: dict[str, Plan] = {}
    for path in sorted(directory.glob("*.json")):
        plan = parse_plan(path.read_bytes(), path.name)
        if plan.plan_id in plans:
            raise PlanError(f"{path.name}: plan_id {plan.plan_id!r} is used by another file")
        plans[plan.plan_id] = plan
    for kind in ("phone", "jewelry"):
        defaults = [p.plan_id for p in plans.values() if p.item_kind == kind and p.default]
        if len(defaults) != 1:
            raise PlanError(
                f"{directory}: need exactly one default plan for {kind}, found {defaults or 'none'}"
            )
    return plans


@lru_cache(maxsize=1)
def all_plans() -> dict[str, Plan]:
    return load_plans()


def get_plan(plan_id: str) -> Plan:
    try:
        return all_plans()[plan_id]
    except KeyError as exc:
        raise PlanError(f"unknown plan {plan_id!r}; known: {', '.join(sorted(all_plans()))}") from exc


def default_plan_for(item_kind: str) -> Plan:
    """The plan a new certificate of this kind carries unless a sale says otherwise."""
    for plan in all_plans().values():
        if plan.item_kind == item_kind and plan.default:
            return plan
    raise PlanError(f"no default plan for item kind {item_kind!r} (expected 'phone' or 'jewelry')")
