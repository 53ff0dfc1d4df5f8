"""The sector's standard cost model: what a cost return holds and how it is checked.

A provider (or the council, for its in-house service) files its costs for a
period line by line, with the volumes behind them. Everyone in the sector
uses the same lines (the Homecare Association's minimum price model and the
2022 Fair Cost of Care exercise), so returns can be compared with each other
and with the rate paid. Line and volume keys are stored in events: they are
part of the data format, append only, never renamed.

**Groups, and what counts as pay.** "On-costs as % of pay" depends on it, so:

* *pay* is careworker pay for contact time (``contact_pay``) and for travel
  time (``travel_pay``): both are wages, and employer NI, pension and holiday
  pay accrue on both;
* *on-costs* are employer NI, pension, holiday pay, training time and
  sickness and other on-costs: the cost of employing careworkers beyond their
  contact and travel pay;
* *travel* is mileage and vehicle costs (travel *time* is pay);
* *consumables* is PPE and consumables;
* *running the business* is office staff, premises, IT and rostering,
  insurance, regulator (CQC) fees, recruitment and other business costs;
* *surplus* is the surplus (profit). It is the only line that may be
  negative: a deficit is a fact to record, not a typing mistake.

**Validation.** ``CostReturnFiling.parse`` reports every problem at once,
each naming its field ("lines.pension: must not be negative"). Figures come
in through ``domain.money.to_decimal``: never floats, never rounded; a figure
with more decimal places than its field allows is refused. Money has 2
decimal places; hours, minutes and FTE up to 2; visits and headcount are
whole numbers.

How the unit costs are worked out and rounded is in ``domain/returns/unit_costs.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain.bounds import MAX_AMOUNT, MAX_COUNT, MAX_HOURLY_RATE, MAX_HOURS, TEXT_LENGTH
from domain.errors import InvalidInput
from domain.money import EXACT, MoneyFormatError, format_gbp, format_quantity, to_decimal, total
from domain.periods import DateFormatError, parse_date

__all__ = [
    "CostGroup",
    "CostLine",
    "CostReturnFiling",
    "FieldProblem",
    "FilingInvalid",
    "Volume",
    "VolumeSpec",
    "Volumes",
    "field_label",
]


class CostGroup(StrEnum):
    PAY = "pay"
    ON_COSTS = "on-costs"
    TRAVEL = "travel"
    CONSUMABLES = "consumables"
    RUNNING_THE_BUSINESS = "running-the-business"
    SURPLUS = "surplus"

    @property
    def label(self) -> str:
        return _GROUP_LABELS[self]


class CostLine(StrEnum):
    """The standard lines of a cost return, in the order they are shown and filed."""

    CONTACT_PAY = "contact_pay"
    TRAVEL_PAY = "travel_pay"
    MILEAGE = "mileage"
    EMPLOYER_NI = "employer_ni"
    PENSION = "pension"
    HOLIDAY_PAY = "holiday_pay"
    TRAINING = "training"
    SICKNESS_OTHER_ONCOSTS = "sickness_other_oncosts"
    PPE = "ppe"
    OFFICE_STAFF = "office_staff"
    PREMISES = "premises"
    IT_ROSTERING = "it_rostering"
    INSURANCE = "insurance"
    REGULATOR_FEES = "regulator_fees"
    RECRUITMENT = "recruitment"
    OTHER_BUSINESS_COSTS = "other_business_costs"
    SURPLUS = "surplus"

    @property
    def label(self) -> str:
        return _LINES[self][0]

    @property
    def group(self) -> CostGroup:
        return _LINES[self][1]


_GROUP_LABELS = {
    CostGroup.PAY: "Careworker pay (contact and travel time)",
    CostGroup.ON_COSTS: "On-costs",
    CostGroup.TRAVEL: "Mileage and vehicles",
    CostGroup.CONSUMABLES: "PPE and consumables",
    CostGroup.RUNNING_THE_BUSINESS: "Running the business",
    CostGroup.SURPLUS: "Surplus",
}

_LINES: dict[CostLine, tuple[str, CostGroup]] = {
    CostLine.CONTACT_PAY: ("Careworker pay for contact time", CostGroup.PAY),
    CostLine.TRAVEL_PAY: ("Careworker pay for travel time", CostGroup.PAY),
    CostLine.MILEAGE: ("Mileage and vehicle costs", CostGroup.TRAVEL),
    CostLine.EMPLOYER_NI: ("Employer National Insurance", CostGroup.ON_COSTS),
    CostLine.PENSION: ("Employer pension contributions", CostGroup.ON_COSTS),
    CostLine.HOLIDAY_PAY: ("Holiday pay", CostGroup.ON_COSTS),
    CostLine.TRAINING: ("Training time", CostGroup.ON_COSTS),
    CostLine.SICKNESS_OTHER_ONCOSTS: ("Sickness and other on-costs", CostGroup.ON_COSTS),
    CostLine.PPE: ("PPE and consumables", CostGroup.CONSUMABLES),
    CostLine.OFFICE_STAFF: ("Office staff", CostGroup.RUNNING_THE_BUSINESS),
    CostLine.PREMISES: ("Premises", CostGroup.RUNNING_THE_BUSINESS),
    CostLine.IT_ROSTERING: ("IT and rostering systems", CostGroup.RUNNING_THE_BUSINESS),
    CostLine.INSURANCE: ("Insurance", CostGroup.RUNNING_THE_BUSINESS),
    CostLine.REGULATOR_FEES: ("Regulator (CQC) fees", CostGroup.RUNNING_THE_BUSINESS),
    CostLine.RECRUITMENT: ("Recruitment", CostGroup.RUNNING_THE_BUSINESS),
    CostLine.OTHER_BUSINESS_COSTS: ("Other business costs", CostGroup.RUNNING_THE_BUSINESS),
    CostLine.SURPLUS: ("Surplus (profit), negative for a deficit", CostGroup.SURPLUS),
}


def lines_in(group: CostGroup) -> tuple[CostLine, ...]:
    return tuple(line for line in CostLine if line.group is group)


class Volume(StrEnum):
    """The volumes behind a return's costs, in the order they are shown and filed."""

    CONTACT_HOURS = "contact_hours"
    VISITS = "visits"
    AVERAGE_VISIT_MINUTES = "average_visit_minutes"
    AVERAGE_TRAVEL_MINUTES = "average_travel_minutes"
    CAREWORKER_HEADCOUNT = "careworker_headcount"
    CAREWORKER_FTE = "careworker_fte"
    HOURS_PAID = "hours_paid"
    LOWEST_HOURLY_PAY = "lowest_hourly_pay"
    TYPICAL_HOURLY_PAY = "typical_hourly_pay"

    @property
    def spec(self) -> VolumeSpec:
        return VOLUME_SPECS[self]

    @property
    def label(self) -> str:
        return VOLUME_SPECS[self].label


def field_label(code: str) -> str:
    """What people call a cost line or volume ("travel_pay" is "Careworker pay for travel time"): a query names
    its line by code; pages and messages name it by this. An unknown code is shown as it is."""
    if code in CostLine._value2member_map_:
        return CostLine(code).label
    return Volume(code).label if code in Volume._value2member_map_ else code


@dataclass(frozen=True)
class VolumeSpec:
    """How a volume is written and what is plausible: places 0 means a whole number."""

    label: str
    places: int
    above_zero: bool  # False: zero is allowed, negatives are not
    plausible: tuple[Decimal, Decimal] | None = None
    money: bool = False


VOLUME_SPECS: dict[Volume, VolumeSpec] = {
    Volume.CONTACT_HOURS: VolumeSpec("Contact hours delivered", 2, True),
    Volume.VISITS: VolumeSpec("Visits delivered", 0, True),
    # Visits of under 5 minutes or over 4 hours are not homecare visits as the model means them.
    Volume.AVERAGE_VISIT_MINUTES: VolumeSpec("Average visit length (minutes)", 2, True, (Decimal(5), Decimal(240))),
    # Zero is plausible (extra care housing); two hours between visits is not.
    Volume.AVERAGE_TRAVEL_MINUTES: VolumeSpec(
        "Average travel time per visit (minutes)", 2, False, (Decimal(0), Decimal(120))
    ),
    Volume.CAREWORKER_HEADCOUNT: VolumeSpec("Careworkers (headcount)", 0, True),
    Volume.CAREWORKER_FTE: VolumeSpec("Careworkers (full-time equivalent)", 2, True),
    Volume.HOURS_PAID: VolumeSpec("Careworker hours paid (contact, travel, training, leave)", 2, True),
    Volume.LOWEST_HOURLY_PAY: VolumeSpec("Lowest hourly pay for contact time (£)", 2, True, money=True),
    Volume.TYPICAL_HOURLY_PAY: VolumeSpec("Typical hourly pay for contact time (£)", 2, True, money=True),
}


# -- converting values at the boundary ---------------------------------------------------------


def _problem(message: str) -> PydanticCustomError:
    # The message goes in ctx so braces in user text can never be read as a template.
    return PydanticCustomError("openbook", "{problem}", {"problem": message})


def _number(value: object, places: int, whole: bool = False) -> Decimal:
    """An exact Decimal from Decimal, int or text; floats are refused (money is never float)."""
    if isinstance(value, float):
        raise _problem(f"{value!r} is a float; give the figure as text, an int or a Decimal")
    try:
        number = to_decimal(value, field="value")
    except MoneyFormatError as error:
        raise _problem(str(error).removeprefix("value: ")) from None
    if whole:
        if number != number.to_integral_value(context=EXACT):
            raise _problem(f"{number} must be a whole number")
        return number
    try:
        return to_decimal(number, field="value", places=places)
    except MoneyFormatError:
        shown_as = value if isinstance(value, str) else number
        raise _problem(f"{shown_as} has more than {places} decimal places") from None


def _within(number: Decimal, largest: Decimal | int, what: str) -> Decimal:
    """``number`` unless it is beyond ``largest`` either way (domain/bounds.py)."""
    if abs(number) > largest:
        raise _problem(f"{number} is beyond {largest:,}, the largest {what} a return may hold")
    return number


def _amount(value: object) -> Decimal:
    return _within(_number(value, 2), MAX_AMOUNT, "amount")


def _volume_validator(volume: Volume) -> PlainValidator:
    spec = VOLUME_SPECS[volume]
    if spec.places == 0:
        return PlainValidator(lambda value: int(_within(_number(value, 0, whole=True), MAX_COUNT, "count")))
    largest, what = (MAX_HOURLY_RATE, "hourly rate") if spec.money else (MAX_HOURS, "figure")
    return PlainValidator(lambda value: _within(_number(value, spec.places), largest, what))


def _line_key(value: object) -> CostLine:
    try:
        return CostLine(value)
    except ValueError:
        raise _problem(f"not a cost line; the lines are {', '.join(CostLine)}") from None


def _note(value: object) -> str:
    if not isinstance(value, str):
        raise _problem("a note must be text")
    if len(value.strip()) > TEXT_LENGTH:
        raise _problem(f"a note may be at most {TEXT_LENGTH} characters")
    return value.strip()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _optional_amount(value: object) -> Decimal | None:
    return None if _blank(value) else _amount(value)


def _optional_date(value: object) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise _problem(f"{value.isoformat()} has a time of day; give a date")
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return parse_date(value)  # type: ignore[arg-type] - anything but text is refused there
    except DateFormatError as e:
        raise _problem(str(e)) from None


def _in_line_order(lines: dict[CostLine, Any]) -> dict[CostLine, Any]:
    return {line: lines[line] for line in CostLine if line in lines}


def _notes_in_line_order(notes: dict[CostLine, str]) -> dict[CostLine, str]:
    return {line: notes[line] for line in CostLine if notes.get(line)}


LineKey = Annotated[CostLine, PlainValidator(_line_key)]
Amount = Annotated[Decimal, PlainValidator(_amount)]
Note = Annotated[str, PlainValidator(_note)]


# -- the filing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FilingInvalid(InvalidInput):
    """Every problem with a filing; ``field_problems`` keep the field apart for the file reader."""

    def __init__(self, field_problems: Iterable[FieldProblem]):
        self.field_problems = list(field_problems)
        super().__init__([str(p) for p in self.field_problems])


class Volumes(BaseModel):
    """The volumes behind the costs. A field added later must have a default (old events lack it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contact_hours: Annotated[Decimal, _volume_validator(Volume.CONTACT_HOURS)]
    visits: Annotated[int, _volume_validator(Volume.VISITS)]
    average_visit_minutes: Annotated[Decimal, _volume_validator(Volume.AVERAGE_VISIT_MINUTES)]
    average_travel_minutes: Annotated[Decimal, _volume_validator(Volume.AVERAGE_TRAVEL_MINUTES)]
    careworker_headcount: Annotated[int, _volume_validator(Volume.CAREWORKER_HEADCOUNT)]
    careworker_fte: Annotated[Decimal, _volume_validator(Volume.CAREWORKER_FTE)]
    hours_paid: Annotated[Decimal, _volume_validator(Volume.HOURS_PAID)]
    lowest_hourly_pay: Annotated[Decimal, _volume_validator(Volume.LOWEST_HOURLY_PAY)]
    typical_hourly_pay: Annotated[Decimal, _volume_validator(Volume.TYPICAL_HOURLY_PAY)]

    def __getitem__(self, volume: Volume | str) -> Decimal | int:
        return getattr(self, Volume(volume).value)


class CostReturnFiling(BaseModel):
    """What a provider files for one period: every line's amount in pounds, notes, volumes.

    Build one with ``CostReturnFiling.parse(data)``: it raises ``FilingInvalid``
    (an ``InvalidInput``) listing every problem at once. ``stated_total`` is
    optional: the total the provider believes the lines add up to, checked
    exactly. ``prepared_on`` is the date the figures were prepared.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lines: Annotated[dict[LineKey, Amount], AfterValidator(_in_line_order)]
    notes: Annotated[dict[LineKey, Note], AfterValidator(_notes_in_line_order)] = Field(default_factory=dict)
    volumes: Volumes
    stated_total: Annotated[Decimal | None, PlainValidator(_optional_amount)] = None
    prepared_on: Annotated[date | None, PlainValidator(_optional_date)] = None

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: Callable[[Any], CostReturnFiling]) -> CostReturnFiling:
        """Run the field checks and the rules together, so every problem is reported at once."""
        if isinstance(data, cls):
            return data
        details: list[InitErrorDetails] = []
        filing = None
        try:
            filing = handler(data)
        except ValidationError as error:
            for e in error.errors():
                details.append(_detail(e["loc"], _pydantic_message(e), e.get("input")))
        for loc, message, value in _rule_problems(data):
            details.append(_detail(loc, message, value))
        if details:
            raise ValidationError.from_exception_data(cls.__name__, details)
        return filing  # type: ignore[return-value]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CostReturnFiling:
        """A checked filing from plain data, or ``FilingInvalid`` naming every problem's field."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            problems = {FieldProblem(_field_name(e["loc"]), e["msg"]): None for e in error.errors()}
            raise FilingInvalid(sorted(problems, key=_field_order)) from None

    # -- stored form ----------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The filing as plain data for an event: text keys, Decimal, int, date, None."""
        return {
            "lines": {line.value: amount for line, amount in self.lines.items()},
            "notes": {line.value: note for line, note in self.notes.items()},
            "volumes": {volume.value: self.volumes[volume] for volume in Volume},
            "stated_total": self.stated_total,
            "prepared_on": self.prepared_on,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CostReturnFiling:
        """Rebuild a stored filing exactly as filed, without checking it again.

        Rules may tighten over time (a narrower plausible range); what was filed
        and recorded must still replay as it was.
        """
        return cls.model_construct(
            lines={CostLine(k): v for k, v in data["lines"].items()},
            notes={CostLine(k): v for k, v in data.get("notes", {}).items()},
            volumes=Volumes.model_construct(**data["volumes"]),
            stated_total=data.get("stated_total"),
            prepared_on=data.get("prepared_on"),
        )

    @property
    def total(self) -> Decimal:
        """The sum of every line, surplus included: what the care costs the commissioner at cost."""
        return total(self.lines.values())


def _detail(loc: tuple[Any, ...], message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=_problem(message), loc=tuple(loc), input=value)


def _pydantic_message(error: Any) -> str:
    """Pydantic's own wording for shape errors, in openbook's words."""
    kind = error["type"]
    loc = error["loc"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not part of a cost return"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a table of names and values" if loc else "must be a table of its parts"
    return error["msg"]


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]") or "cost return"


_ORDER = {
    **{f"lines.{line.value}": index for index, line in enumerate(CostLine)},
    **{f"notes.{line.value}": 100 + index for index, line in enumerate(CostLine)},
    **{f"volumes.{volume.value}": 200 + index for index, volume in enumerate(Volume)},
    "stated_total": 300,
    "prepared_on": 301,
}


def _field_order(problem: FieldProblem) -> tuple[int, str]:
    return (_ORDER.get(problem.field, 400), problem.field)


def _try(convert: Callable[[Any], Any], value: Any) -> Any:
    try:
        return convert(value)
    except PydanticCustomError:
        return None


def _rule_problems(data: Any) -> list[tuple[tuple[str, ...], str, Any]]:
    """The value rules, run on whatever converted, so they report alongside format problems."""
    if not isinstance(data, Mapping):
        return []
    problems: list[tuple[tuple[str, ...], str, Any]] = []
    lines = data.get("lines")
    amounts: dict[CostLine, Decimal | None] = {}
    if isinstance(lines, Mapping):
        for line in CostLine:
            if line.value not in lines:
                problems.append((("lines", line.value), "is required (enter 0 if there is no cost)", None))
                continue
            amount = amounts[line] = _try(_amount, lines[line.value])
            if amount is not None and amount < 0 and line is not CostLine.SURPLUS:
                problems.append((("lines", line.value), "must not be negative", lines[line.value]))
    volumes = data.get("volumes")
    values: dict[Volume, Decimal | None] = {}
    if isinstance(volumes, Mapping):
        for volume in Volume:
            if volume.value not in volumes:
                continue
            spec = volume.spec
            raw = volumes[volume.value]
            number = values[volume] = _try(lambda v: _number(v, spec.places, spec.places == 0), raw)
            loc = ("volumes", volume.value)
            if number is None:
                continue
            if spec.above_zero and number <= 0:
                problems.append((loc, "must be more than zero", raw))
            elif number < 0:
                problems.append((loc, "must not be negative", raw))
            elif spec.plausible and not spec.plausible[0] <= number <= spec.plausible[1]:
                low, high = spec.plausible
                problems.append((loc, f"{format_quantity(number)} is implausible (expected {low} to {high})", raw))
        lowest, typical = values.get(Volume.LOWEST_HOURLY_PAY), values.get(Volume.TYPICAL_HOURLY_PAY)
        if lowest is not None and typical is not None and 0 < typical < lowest:
            problems.append(
                (
                    ("volumes", Volume.LOWEST_HOURLY_PAY.value),
                    f"{format_gbp(lowest)} is more than the typical hourly pay {format_gbp(typical)}",
                    volumes[Volume.LOWEST_HOURLY_PAY.value],
                )
            )
        hours, paid = values.get(Volume.CONTACT_HOURS), values.get(Volume.HOURS_PAID)
        if hours is not None and paid is not None and 0 < paid < hours:
            problems.append(
                (
                    ("volumes", Volume.HOURS_PAID.value),
                    f"{format_quantity(paid)} is less than the {format_quantity(hours)} contact hours; "
                    "hours paid include contact time",
                    volumes[Volume.HOURS_PAID.value],
                )
            )
    stated = _try(_optional_amount, data.get("stated_total"))
    if stated is not None and len(amounts) == len(CostLine) and None not in amounts.values():
        lines_total = total(amounts.values())  # type: ignore[arg-type]
        if stated != lines_total:
            problems.append(
                (
                    ("stated_total",),
                    f"{format_gbp(stated)} does not equal the sum of the lines {format_gbp(lines_total)}",
                    data.get("stated_total"),
                )
            )
    return problems


# -- unit costs ---------------------------------------------------------------------------------


