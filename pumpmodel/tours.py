"""Guided tours for presenters, as data: ``pumpmodel/data/tours.yaml`` validated by pydantic.

A tour belongs to one story patient and is a list of steps; each step names a page, what to
look at, the teaching point and, optionally, a prepared case (``examples/<file>``) to open in
the programming sandbox and extra address parameters for the page."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .programs import Case

DATA = Path(__file__).with_name("data") / "tours.yaml"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class TourStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    page: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="page file under pages/, without .py")
    title: str = Field(min_length=1)
    look_at: str = Field(min_length=1)
    teaching_point: str = Field(min_length=1)
    case: str | None = Field(None, description="a case file in examples/, opened in the sandbox")
    params: dict[str, str] = Field(default_factory=dict, description="extra address parameters for the page")

    @field_validator("case")
    @classmethod
    def _case_exists(cls, v: str | None) -> str | None:
        if v is None:
            return v
        path = EXAMPLES / v
        if path.parent != EXAMPLES or not path.is_file():
            raise ValueError(f"no case file examples/{v}")
        Case.model_validate(json.loads(path.read_text()))  # a broken demo case fails at load, not on stage
        return v

    def case_dict(self) -> dict | None:
        return None if self.case is None else json.loads((EXAMPLES / self.case).read_text())


class Tour(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pump: str = Field(min_length=1)
    title: str = Field(min_length=1)
    steps: tuple[TourStep, ...] = Field(min_length=1)


class TourBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tours: tuple[Tour, ...]

    @field_validator("tours")
    @classmethod
    def _one_per_pump(cls, v: tuple[Tour, ...]) -> tuple[Tour, ...]:
        pumps = [t.pump for t in v]
        dup = sorted({p for p in pumps if pumps.count(p) > 1})
        if dup:
            raise ValueError(f"more than one tour for {', '.join(dup)}")
        return v


def load(path: Path = DATA) -> dict[str, Tour]:
    """Tours by pump id (raises pydantic.ValidationError naming the bad field)."""
    book = TourBook.model_validate(yaml.safe_load(path.read_text()))
    return {t.pump: t for t in book.tours}


@lru_cache(maxsize=1)
def tours() -> dict[str, Tour]:
    return load()
