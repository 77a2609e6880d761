"""The catalogue of licence types and their field schemas (code constants, versioned with the code).

Each field: `name`, labels, `kind` (string | date | enum | integer), `required`, `sensitive`
(encrypted at rest and masked in the wallet) and, for strings, `max_length`; for enums, `choices`.
Every licence also discloses two built-in fields: `holder_name` and `licence_number`.
Issuing regions: Shanghai and the other Yangtze River Delta provinces, recognised alike.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# GB/T 2260 province codes; names and pinyin accepted as aliases.
REGIONS: dict[str, tuple[str, str]] = {
    "310000": ("上海市", "Shanghai"),
    "320000": ("江苏省", "Jiangsu"),
    "330000": ("浙江省", "Zhejiang"),
    "340000": ("安徽省", "Anhui"),
}
_REGION_ALIASES = {alias.lower(): code for code, (zh, en) in REGIONS.items()
                   for alias in (code, zh, zh[:2], en, code[:2])}

BUILTIN_FIELDS = ("holder_name", "licence_number")


def normalise_region(value: str) -> str | None:
    return _REGION_ALIASES.get((value or "").strip().lower())


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label_zh: str
    label_en: str
    kind: str = "string"
    required: bool = False
    sensitive: bool = False
    max_length: int = 128
    choices: tuple[str, ...] = ()

    def check(self, value) -> str | None:
        """An error message, or None when the value fits."""
        if self.kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return "Not a valid integer."
            return None if -10**12 < value < 10**12 else "Out of range."
        if not isinstance(value, str):
            return "Not a valid string."
        if self.kind == "date":
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return "Not a valid date (YYYY-MM-DD)."
            try:
                date.fromisoformat(value)
            except ValueError:
                return "Not a valid date (YYYY-MM-DD)."
            return None
        if self.kind == "enum":
            return None if value in self.choices else f"Must be one of: {', '.join(self.choices)}."
        if not value.strip():
            return "Must not be blank."
        return None if len(value) <= self.max_length else f"Longer than {self.max_length} characters."

    def as_dict(self) -> dict:
        out = {"name": self.name, "label_zh": self.label_zh, "label_en": self.label_en, "kind": self.kind,
               "required": self.required, "sensitive": self.sensitive}
        if self.kind == "string":
            out["max_length"] = self.max_length
        if self.kind == "enum":
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class LicenceType:
    code: str
    name_zh: str
    name_en: str
    holder_kind: str                       # person | enterprise
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    @property
    def field_map(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    @property
    def disclosable(self) -> tuple[str, ...]:
        return BUILTIN_FIELDS + tuple(f.name for f in self.fields)

    def as_dict(self) -> dict:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "holder_kind": self.holder_kind, "fields": [f.as_dict() for f in self.fields],
                "disclosable_fields": list(self.disclosable)}


F = FieldSpec
_GENDER = ("男", "女")
_VEHICLE_CLASSES = ("A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6", "D", "E", "F", "M", "N", "P")

CATALOGUE: dict[str, LicenceType] = {t.code: t for t in (
    LicenceType("resident_id_card", "居民身份证", "Resident identity card", "person", (
        F("gender", "性别", "Gender", "enum", True, choices=_GENDER),
        F("ethnicity", "民族", "Ethnicity", max_length=16),
        F("birth_date", "出生日期", "Date of birth", "date", True),
        F("address", "住址", "Address", sensitive=True),
        F("issuing_authority", "签发机关", "Issuing authority", max_length=64),
    )),
    LicenceType("driving_licence", "机动车驾驶证", "Driving licence", "person", (
        F("vehicle_class", "准驾车型", "Permitted vehicle class", "string", True, max_length=16),
        F("first_issue_date", "初次领证日期", "First issued", "date"),
        F("file_number", "档案编号", "File number", sensitive=True, max_length=32),
        F("address", "住址", "Address", sensitive=True),
        F("gender", "性别", "Gender", "enum", choices=_GENDER),
    )),
    LicenceType("vehicle_licence", "机动车行驶证", "Vehicle licence", "person", (
        F("plate_number", "号牌号码", "Plate number", "string", True, max_length=16),
        F("vehicle_type", "车辆类型", "Vehicle type", max_length=32),
        F("brand_model", "品牌型号", "Brand and model", max_length=64),
        F("vin", "车辆识别代号", "VIN", sensitive=True, max_length=17),
        F("engine_number", "发动机号码", "Engine number", sensitive=True, max_length=32),
        F("use_character", "使用性质", "Use", max_length=16),
        F("register_date", "注册日期", "Registered", "date"),
    )),
    LicenceType("residence_permit", "居住证", "Residence permit", "person", (
        F("address", "居住地址", "Address of residence", "string", True, sensitive=True),
        F("district", "居住区", "District", max_length=32),
        F("issuing_authority", "签发机关", "Issuing authority", max_length=64),
        F("points", "积分", "Points", "integer"),
    )),
    LicenceType("social_security_card", "社会保障卡", "Social security card", "person", (
        F("card_number", "卡号", "Card number", "string", True, sensitive=True, max_length=32),
        F("bank", "服务银行", "Service bank", max_length=64),
        F("card_generation", "卡代别", "Card generation", "enum", choices=("2", "3")),
    )),
    LicenceType("business_licence", "营业执照", "Business licence", "enterprise", (
        F("enterprise_name", "名称", "Name", "string", True),
        F("enterprise_type", "类型", "Type", max_length=64),
        F("legal_representative", "法定代表人", "Legal representative", max_length=64),
        F("registered_capital", "注册资本", "Registered capital", max_length=64),
        F("established_date", "成立日期", "Established", "date"),
        F("business_scope", "经营范围", "Business scope", max_length=2000),
        F("address", "住所", "Registered address"),
    )),
    LicenceType("marriage_certificate", "结婚证", "Marriage certificate", "person", (
        F("registration_date", "登记日期", "Registered", "date", True),
        F("spouse_name", "配偶姓名", "Spouse's name", sensitive=True, max_length=64),
        F("spouse_id_number", "配偶身份证件号", "Spouse's identity number", sensitive=True, max_length=32),
        F("registration_authority", "登记机关", "Registration authority", max_length=64),
    )),
    LicenceType("birth_medical_certificate", "出生医学证明", "Birth medical certificate", "person", (
        F("child_name", "新生儿姓名", "Child's name", "string", True, sensitive=True, max_length=64),
        F("child_gender", "性别", "Gender", "enum", True, choices=_GENDER),
        F("birth_date", "出生日期", "Date of birth", "date", True),
        F("birth_place", "出生地点", "Place of birth", max_length=64),
        F("mother_name", "母亲姓名", "Mother's name", sensitive=True, max_length=64),
        F("father_name", "父亲姓名", "Father's name", sensitive=True, max_length=64),
        F("institution", "接生机构", "Delivering institution", max_length=64),
    )),
    LicenceType("household_register", "户口簿", "Household register", "person", (
        F("household_number", "户号", "Household number", "string", True, sensitive=True, max_length=32),
        F("household_type", "户别", "Household type", "enum", choices=("家庭户", "集体户")),
        F("relation_to_head", "与户主关系", "Relation to head", max_length=16),
        F("address", "住址", "Address", sensitive=True),
    )),
    LicenceType("veteran_certificate", "退役军人证", "Veteran certificate", "person", (
        F("enlistment_date", "入伍时间", "Enlisted", "date"),
        F("discharge_date", "退役时间", "Discharged", "date", True),
        F("category", "类别", "Category", max_length=32),
    )),
    LicenceType("home_service_worker_certificate", "家政服务员上门服务证", "Home-service worker certificate",
                "person", (
        F("service_category", "服务类别", "Service category", "string", True, max_length=64),
        F("employer", "所属机构", "Employer", max_length=128),
        F("skill_level", "技能等级", "Skill level", max_length=16),
        F("health_check_date", "体检日期", "Health check", "date"),
    )),
)}

LICENCE_TYPES = tuple(CATALOGUE)


def get_type(code: str) -> LicenceType | None:
    return CATALOGUE.get(code)


def validate_fields(licence_type: LicenceType, values: dict) -> dict[str, list[str]]:
    """Field-level errors (empty when valid): unknown names, missing required ones, bad values."""
    errors: dict[str, list[str]] = {}
    specs = licence_type.field_map
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            errors[name] = ["Unknown field."]
            continue
        problem = spec.check(value)
        if problem:
            errors[name] = [problem]
    for spec in licence_type.fields:
        if spec.required and spec.name not in values:
            errors[spec.name] = ["Missing data for required field."]
    return errors


def mask_value(value) -> str:
    """Sensitive field values in the wallet: keep a little of each end."""
    text = str(value)
    if len(text) <= 2:
        return "*" * len(text)
    if len(text) <= 6:
        return text[0] + "*" * (len(text) - 2) + text[-1]
    keep = max(1, len(text) // 5)
    return text[:keep] + "*" * (len(text) - 2 * keep) + text[-keep:]
