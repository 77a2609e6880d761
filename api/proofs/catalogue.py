"""The catalogue of e-proof types (电子证明) and their fields: code constants, versioned with the code.

A type is `instant` when the population registry's data are enough to issue it at once ("零材料":
residence, household registration); those that the registry cannot answer for a resident, and
every other type, go to the department registered for the type (`proof_types` on issuers).

Field kinds: `string` (`max_length`), `date` (YYYY-MM-DD), `month` (YYYY-MM), `integer`
(`minimum`..`maximum`) and `enum` (`choices`, each with zh-CN and English labels, which the
document prints instead of the stored value).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Choice:
    value: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class ProofField:
    name: str
    label_zh: str
    label_en: str
    kind: str = "string"                  # string | date | month | integer | enum
    required: bool = True
    max_length: int = 128
    minimum: int = 0
    maximum: int = 10**6
    choices: tuple[Choice, ...] = ()

    def check(self, value) -> str | None:
        """An error message, or None when the value fits."""
        if self.kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return "Not a valid integer."
            return None if self.minimum <= value <= self.maximum else \
                f"Must be between {self.minimum} and {self.maximum}."
        if not isinstance(value, str):
            return "Not a valid string."
        if self.kind == "date":
            return None if _DATE.match(value) and _is_date(value) else "Not a valid date (YYYY-MM-DD)."
        if self.kind == "month":
            return None if _MONTH.match(value) else "Not a valid month (YYYY-MM)."
        if self.kind == "enum":
            allowed = [c.value for c in self.choices]
            return None if value in allowed else f"Must be one of: {', '.join(allowed)}."
        if not value.strip():
            return "Must not be blank."
        return None if len(value) <= self.max_length else f"Longer than {self.max_length} characters."

    def display(self, value) -> tuple[str, str]:
        """(zh-CN, English) text of a value: an enum's labels, anything else as it is."""
        for choice in self.choices:
            if choice.value == value:
                return choice.label_zh, choice.label_en
        return str(value), str(value)

    def as_dict(self) -> dict:
        out = {"name": self.name, "label_zh": self.label_zh, "label_en": self.label_en, "kind": self.kind,
               "required": self.required}
        if self.kind == "string":
            out["max_length"] = self.max_length
        if self.kind == "integer":
            out["minimum"], out["maximum"] = self.minimum, self.maximum
        if self.kind == "enum":
            out["choices"] = [{"value": c.value, "label_zh": c.label_zh, "label_en": c.label_en}
                              for c in self.choices]
        return out


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ProofType:
    code: str
    name_zh: str
    name_en: str
    instant: bool
    fields: tuple[ProofField, ...] = field(default_factory=tuple)
    default_valid_days: int = 90
    max_valid_days: int = 180

    @property
    def field_map(self) -> dict[str, ProofField]:
        return {f.name: f for f in self.fields}

    def as_dict(self) -> dict:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en, "instant": self.instant,
                "fields": [f.as_dict() for f in self.fields], "default_valid_days": self.default_valid_days,
                "max_valid_days": self.max_valid_days}


F = ProofField
C = Choice
_HUKOU = (C("local", "本市户籍", "Shanghai household registration"),
          C("non_local", "非本市户籍", "Household registered elsewhere"))

CATALOGUE: dict[str, ProofType] = {t.code: t for t in (
    ProofType("residence", "居住证明", "Proof of residence", instant=True, fields=(
        F("district", "居住区", "District of residence", max_length=32),
        F("household", "户籍性质", "Household registration", "enum", choices=_HUKOU),
        F("as_of", "信息核验日期", "Registry data as of", "date"),
    ), default_valid_days=90, max_valid_days=180),
    ProofType("household_registration", "户籍证明", "Proof of household registration", instant=True, fields=(
        F("district", "户籍所在区", "District of registration", max_length=32),
        F("birth_date", "出生日期", "Date of birth", "date"),
        F("as_of", "信息核验日期", "Registry data as of", "date"),
    ), default_valid_days=90, max_valid_days=180),
    ProofType("no_criminal_record", "无犯罪记录证明", "Certificate of no criminal record", instant=False, fields=(
        F("conclusion", "核查结论", "Finding", "enum", choices=(
            C("none_found", "未发现有犯罪记录", "No criminal record found"),)),
        F("checked_on", "核查日期", "Checked on", "date"),
        F("destination", "使用国家或地区", "Country or region of use", required=False, max_length=64),
    ), default_valid_days=90, max_valid_days=180),
    ProofType("marital_status", "婚姻状况证明", "Certificate of marital status", instant=False, fields=(
        F("status", "婚姻状况", "Marital status", "enum", choices=(
            C("unmarried", "未婚", "Never married"), C("married", "已婚", "Married"),
            C("divorced", "离婚", "Divorced"), C("widowed", "丧偶", "Widowed"))),
        F("as_of", "截至日期", "As of", "date"),
    ), default_valid_days=90, max_valid_days=180),
    ProofType("social_insurance_payment", "社保缴费证明", "Social insurance payment record", instant=False, fields=(
        F("insurance", "险种", "Insurance", "enum", choices=(
            C("pension", "城镇职工基本养老保险", "Basic pension insurance"),
            C("medical", "职工基本医疗保险", "Basic medical insurance"),
            C("unemployment", "失业保险", "Unemployment insurance"),
            C("all", "社会保险（全险种）", "All social insurance schemes"))),
        F("period_from", "缴费起始年月", "Paid from (month)", "month"),
        F("period_to", "缴费截止年月", "Paid until (month)", "month"),
        F("months_paid", "实际缴费月数", "Months paid", "integer", minimum=0, maximum=1200),
        F("employer", "缴费单位", "Employer", required=False, max_length=128),
    ), default_valid_days=90, max_valid_days=365),
)}

PROOF_TYPES = tuple(CATALOGUE)


def get_type(code: str) -> ProofType | None:
    return CATALOGUE.get(code)


def validate_fields(proof_type: ProofType, values: dict) -> dict[str, list[str]]:
    """Field-level errors (empty when valid): unknown names, missing required ones, bad values,
    and the cross-field rules of the type."""
    errors: dict[str, list[str]] = {}
    specs = proof_type.field_map
    for name, value in values.items():
        spec = specs.get(name)
        problem = "Unknown field." if spec is None else spec.check(value)
        if problem:
            errors[name] = [problem]
    for spec in proof_type.fields:
        if spec.required and spec.name not in values:
            errors[spec.name] = ["Missing data for required field."]
    if not errors and proof_type.code == "social_insurance_payment":
        errors.update(_payment_period_errors(values))
    return errors


def _payment_period_errors(values: dict) -> dict[str, list[str]]:
    start, end = values["period_from"], values["period_to"]
    if start > end:        # YYYY-MM compares as text
        return {"period_to": ["Must not be before period_from."]}
    span = (int(end[:4]) - int(start[:4])) * 12 + int(end[5:]) - int(start[5:]) + 1
    if values["months_paid"] > span:
        return {"months_paid": [f"More than the {span} month(s) of the period."]}
    return {}
