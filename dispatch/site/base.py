"""Building blocks of every site-file section: frozen models that refuse unknown keys, and the
unit-carrying field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class Spec(BaseModel):
    """Base of every site-file section: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")
