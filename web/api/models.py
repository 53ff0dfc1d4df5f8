"""The API's shared pydantic models: the error shape, money and quantities as decimal text, dates, pages.

Money crosses the API as a decimal string ("15.60"), never a JSON number: a
float cannot hold 15.60 exactly, and a client that sends one has already
lost the pence. A JSON number in a money or quantity field is refused with a
message naming the field (pydantic's location), before anything else runs.
Every model forbids unknown fields, so a typing mistake in a field's name is
a 400 naming it, not a value silently left out.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from domain.bounds import TEXT_LENGTH
from domain.checks import check_day
from domain.errors import InvalidInput

#: A decimal as text: an optional minus, up to 12 whole digits, up to 4 places (a blended rate has 4).
DECIMAL_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,4})?$"


def _decimal_text(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, (int, float)):
        raise PydanticCustomError(
            "decimal_as_number",
            "{value} is a JSON number; send money and quantities as decimal strings, e.g. \"15.60\"",
            {"value": value},
        )
    return value


def _within_dates(day: date) -> date:
    try:
        return check_day(day, "date")
    except InvalidInput as error:
        raise PydanticCustomError("date_out_of_range", str(error).removeprefix("date: ")) from None


#: Money or a quantity with places: text only. The domain checks places and bounds and names the field.
DecimalText = Annotated[str, BeforeValidator(_decimal_text), Field(pattern=DECIMAL_PATTERN, examples=["15.60"])]
#: A date within the ledger's dates (``domain.bounds``).
Day = Annotated[date, AfterValidator(_within_dates)]
Text = Annotated[str, Field(max_length=TEXT_LENGTH)]
#: A code (an agreement's, an organisation's, a zone's), as the ledger stores them.
Code = Annotated[str, Field(min_length=1, max_length=100)]


#: A financial year ("2019-20"), quarter ("2019-20-Q1") or month ("2019-04"), as every command and file writes them.
FinancialYear = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2019-20"])]
Period = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}(-Q[1-4])?$", examples=["2019-20-Q1"])]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2019-05"])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldProblem(BaseModel):
    field: str | None = Field(description="The field the problem is about (dotted), or null for the whole request")
    message: str


class ApiError(BaseModel):
    """Every error the API answers: a stable kind (``domain/errors.py``), a message, each field's problem."""

    kind: str = Field(examples=["invalid-input"])
    message: str
    fields: list[FieldProblem]


class Command(Strict):
    """What every recording request may say beside its fields: the date the fact is about, and why."""

    effective_date: Day | None = Field(None, description="The date the fact is about; today if not given")
    reason: Text | None = None


class OnQuery(Strict):
    on: Day | None = Field(None, description="The date the figures are about (the effective date); today if not given")


class Open(BaseModel):
    """An answer whose figures are the ledger's own rows: the fields listed are always there, others may be."""

    model_config = ConfigDict(extra="allow")
