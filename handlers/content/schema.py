"""The shape of a municipality's content pack, validated with pydantic v2.

A content pack is data, not code: the windows (agencies) a resident can be sent to, the towns
each 地域包括支援センター serves, FAQ entries, local resources, national hotlines, business
hours, the data-retention statement and the bot's message copy. Everything here is plain data
so the conversation code, the staff console and the tests can read it without spaCy or nlu.

Every validation error message names the pack file it comes from (see ``SECTION_FILES``) and
the offending id, so a start-up failure reads like "agencies.toml: agency 'east_center' has no
phone" rather than a stack trace.
"""

from __future__ import annotations

import re
import string
from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.vocabulary import TOPIC_IDS, URGENT_KINDS
from handlers.content.opening import OpeningHours, parse_opening

# Which pack file each top-level section comes from, for error messages.
SECTION_FILES: dict[str, str] = {
    "meta": "pack.toml",
    "business_hours": "pack.toml",
    "retention": "pack.toml",
    "agencies": "agencies.toml",
    "towns": "towns.toml",
    "faq": "faq.toml",
    "resources": "resources.toml",
    "hotlines": "hotlines.toml",
    "situations": "hotlines.toml",
    "open_now": "hotlines.toml",
    "copy": "copy.toml",
}

# Message keys the conversation relies on; a pack missing one fails at start-up.
REQUIRED_COPY_KEYS: tuple[str, ...] = (
    "welcome",
    "consent_explanation",
    "consent_yes_thanks",
    "consent_no_ok",
    "out_of_hours",
    "please_write_text",
    "not_understood",
    "handoff_received",
    "deletion_confirm",
    "deletion_done",
    "deletion_cancelled",
    "third_party_thanks",
    "closing",
    "easy_japanese_with_english",
    "ask_town",
    "town_unknown",
    "town_ambiguous",
    "compound_coordinator",
    "urgent_intro",
    "faq_candidates_intro",
    "faq_none",
    "hokatsu_explained",
    "anonymous_ok",
    "retention_notice",
    # following the thread, reporters, out of hours, programmes, dates (issue 14)
    "town_noted",
    "ask_ban",
    "elsewhere",
    "national_lines_intro",
    "where_to_go",
    "third_party_ask",
    "third_party_window",
    "third_party_windows_all",
    "third_party_noted",
    "claimed_out_of_hours",
    "claimed_emergency_tail",
    "programmes_money",
    "programmes_housing",
    "programmes_food",
    "programmes_contact",
    "urgent_intro_other",
    "ask_am_pm",
    "opening_hours",
    "easy_japanese_window",
    "en_urgent_intro",
    "en_urgent_intro_other",
    "en_urgent_staff_open",
    "en_urgent_staff_closed",
    "en_hotline_dv_plus",
    "en_hotline_yorisoi",
    "en_hotline_inochi_navi",
    "en_hotline_inochi_free",
    "en_hotline_kokoro_dial",
    "en_hours_other",
    "en_welcome",
    "en_centre_name",
    "en_hours",
    "en_cost",
    "en_worry_ack",
    "en_worry_ack_general",
    "en_centre_explained",
    "en_ask_town",
    "en_your_centre",
    "en_all_centres",
    "en_town_unknown",
    "en_elsewhere",
    "en_programmes_money",
    "en_offer",
    "en_handoff",
    "en_out_of_hours",
    "en_booking",
    "en_not_understood",
    "en_privacy",
)

# The "phone_via" value meaning: use the resident's district 地域包括支援センター.
DISTRICT_CENTER = "district_center"

_ID = r"^[a-z0-9][a-z0-9_]*$"
# Ids travel in LINE postback data ("faq:<id>", at most 300 characters) and pack texts
# become button labels and echoed texts: these keep every button within LINE's limits.
MAX_ID = 64
MAX_ECHOED_TEXT = 300  # a FAQ question is echoed as the button's display text
_PHONE = re.compile(r"^(#\d{4}|\d{3}|\d{2,5}-\d{1,4}-\d{3,5})$")  # 0120-0-78310
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_urgent_kinds(value: list[str]) -> list[str]:
    unknown = [k for k in value if k not in URGENT_KINDS]
    if unknown:
        raise ValueError(f"unknown urgent kind(s) {unknown}; known: {', '.join(URGENT_KINDS)}")
    return value


def _check_topics(value: list[str] | str) -> list[str] | str:
    if value == "all":
        return value
    if isinstance(value, str):
        raise ValueError(f'topics must be a list of topic ids or "all", got {value!r}')
    unknown = [t for t in value if t not in TOPIC_IDS]
    if unknown:
        raise ValueError(
            f"unknown topic id(s) {unknown}; known ids: {', '.join(TOPIC_IDS)}"
        )
    return value


def _check_phone(value: str | None) -> str | None:
    if value is None:
        return None
    if not _PHONE.match(value):
        raise ValueError(
            f"phone {value!r} is not a phone number (write e.g. 046-876-6299, 0120-279-889, "
            "#8008 or 110)"
        )
    return value


class PackMeta(_Model):
    id: str = Field(pattern=_ID, max_length=MAX_ID)
    municipality: str = Field(min_length=1)
    prefecture: str = Field(min_length=1)
    sources: dict[str, str] = Field(default_factory=dict)  # short key → what the source is
    notes: list[str] = Field(default_factory=list)


class ServedArea(_Model):
    """Part of a catchment: a 町名, optionally only some 丁目, optionally only part of them."""

    town: str = Field(min_length=1)
    chome: list[int] = Field(default_factory=list)  # empty: the whole town
    partial: bool = False  # only some 番/号 of these 丁目 (detail says which)
    place: str | None = None  # a named estate that identifies the area on its own, e.g. 葉桜団地
    detail: str | None = None  # verbatim wording from the source, e.g. "35~37番、葉桜団地を除く"
    # For a partial 丁目: the 番 it covers (ban) or all but (ban_except). A 番 split further by
    # 号 is listed for both centres, so it stays "ambiguous" and both are offered.
    ban: list[int] = Field(default_factory=list)
    ban_except: list[int] = Field(default_factory=list)

    @field_validator("chome")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(c < 1 for c in value):
            raise ValueError("丁目 numbers start at 1")
        return value

    def covers(self, town: str, chome: int | None, ban: int | None = None) -> bool:
        if town != self.town:
            return False
        if chome is None or not self.chome:
            return True
        if chome not in self.chome:
            return False
        if ban is None:
            return True
        return (not self.ban or ban in self.ban) and ban not in self.ban_except


class Agency(_Model):
    """A window (窓口) or agency a resident can be pointed to."""

    id: str = Field(pattern=_ID, max_length=MAX_ID)
    name: str = Field(min_length=1)
    kind: Literal[
        "comprehensive_center",  # 地域包括支援センター (since R3: 福祉の総合相談窓口, all topics)
        "core_center",  # 基幹型地域包括支援センター (the city, back-office support)
        "attribute_window",  # an attribute-specific window (障がい, 子育て, 困窮 …)
        "shakyo",  # 社会福祉協議会 and windows it runs
        "city_hall",  # the city office switchboard
        "prefecture",
        "national",
    ]
    description: str = Field(min_length=1)  # short Japanese: what they do, from the source
    district_label: str | None = None  # 東部 / 中部 / 西部 for comprehensive centres
    topics: list[str] | Literal["all"]
    phone: str | None = None
    phone_via: str | None = None  # another agency/hotline id, or "district_center"
    address: str | None = None
    hours: str | None = None  # opening hours as text; None when the source does not say
    serves: list[ServedArea] = Field(default_factory=list)
    coordinator: str | None = None  # e.g. 相談支援包括化推進員（社会福祉士）
    bookable: bool = False
    unclear: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)  # e.g. "000 L1171–1177"

    @field_validator("topics")
    @classmethod
    def _topics(cls, value):
        return _check_topics(value)
    @field_validator("phone")
    @classmethod
    def _phone_ok(cls, value):
        return _check_phone(value)

    @model_validator(mode="after")
    def _reachable(self) -> Agency:
        if not self.phone and not self.phone_via:
            raise ValueError(
                f"agency {self.id!r} has no phone: set phone, or phone_via naming another "
                f"agency or hotline id (or {DISTRICT_CENTER!r}) and say why in unclear"
            )
        if self.kind == "comprehensive_center":
            if self.topics != "all":
                raise ValueError(f"comprehensive centre {self.id!r} must handle topics = \"all\"")
            if not self.serves:
                raise ValueError(f"comprehensive centre {self.id!r} must list the towns it serves")
        return self

    def handles(self, topic_id: str) -> bool:
        return self.topics == "all" or topic_id in self.topics


class Town(_Model):
    """A 町名 of the municipality, with readings/aliases used only to match resident input."""

    name: str = Field(min_length=1)
    readings: list[str] = Field(default_factory=list)  # hiragana
    aliases: list[str] = Field(default_factory=list)
    max_chome: int | None = None


class FaqEntry(_Model):
    id: str = Field(min_length=1, max_length=MAX_ID, pattern=r"^[A-Za-z0-9_.-]+$")
    question: str = Field(min_length=1, max_length=MAX_ECHOED_TEXT)
    answer: str = Field(min_length=1)
    category: str = Field(min_length=1)
    topics: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list)  # agency ids the answer points to
    source: str | None = None
    reviewed_on: date | None = None  # when staff last confirmed the answer (console)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value):
        return _check_topics(value)


class Resource(_Model):
    """A local place or activity: サロン, オレンジカフェ, 子ども食堂, フードドライブ …"""

    id: str = Field(pattern=_ID, max_length=MAX_ID)
    kind: Literal[
        "salon", "orange_cafe", "kodomo_shokudo", "food_support", "food_drive",
        "volunteer_center", "volunteer_council", "mutual_help", "childcare_center",
        "disability_day_center", "walking", "guardianship_course", "disaster_support",
        "fundraising", "multigeneration_event",
    ]
    name: str = Field(min_length=1)
    what: str = Field(min_length=1)
    where: str | None = None
    when: str | None = None
    contact: str | None = None  # an agency id (preferred) or text
    area: str | None = None
    topics: list[str] = Field(default_factory=list)
    unclear: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value):
        return _check_topics(value)


class Hotline(_Model):
    """A national (or prefectural) phone line. ``source`` names the official body."""

    id: str = Field(pattern=_ID, max_length=MAX_ID)
    name: str = Field(min_length=1)
    number: str
    hours: str = Field(min_length=1)  # as residents read it
    # Machine-readable hours (handlers/content/opening.py): "24h" or ["mon-fri 09:00-17:00"];
    # left out when unknown, and then the line is never offered as open now.
    open: str | list[str] | None = None
    description: str = Field(min_length=1)
    when_to_use: str | None = None
    urgent_kinds: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    area: str | None = None  # e.g. 神奈川県 for #7119
    source: str = Field(min_length=1)  # the official body that publishes the number
    source_url: str | None = None
    checked_on: date | None = None  # when staff last checked number and hours at the source
    unclear: list[str] = Field(default_factory=list)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value):
        return _check_topics(value)

    @field_validator("number")
    @classmethod
    def _number_ok(cls, value):
        return _check_phone(value)

    @field_validator("urgent_kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        return _check_urgent_kinds(value)

    @field_validator("open")
    @classmethod
    def _open_ok(cls, value):
        if value is not None:
            parse_opening(value)
        return value

    @property
    def opening(self) -> OpeningHours | None:
        """When the line answers; None when the pack does not know."""
        return parse_opening(self.open) if self.open is not None else None


class Situation(_Model):
    """A situation and who helps with it: the windows and the lines, in the order a
    coordinator would give them. The first matching situations are the most specific.

    It matches when nlu's urgent kind is in ``urgent_kinds`` or a topic is in ``topics``,
    and — when ``and_topics`` or ``and_words`` are given — also one of those topics or
    words (in the message) is there (e.g. abuse *and* an older person → elder abuse) — and
    none of the situations in ``unless`` fits (abuse of an older person is not child abuse)."""

    id: str = Field(pattern=_ID, max_length=MAX_ID)
    label: str = Field(min_length=1)  # for staff and tests, e.g. 高齢者への虐待
    urgent_kinds: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    and_topics: list[str] = Field(default_factory=list)
    and_words: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)  # not when one of these situations fits
    emergency: list[str] = Field(default_factory=list)  # first, when the danger is now
    lines: list[str] = Field(default_factory=list)  # hotline ids, in situational order
    windows: list[str] = Field(default_factory=list)  # agency ids (or "district_center")
    note: str | None = None  # one short line for residents, e.g. けがをしたら119番

    @field_validator("topics", "and_topics")
    @classmethod
    def _topics(cls, value):
        return _check_topics(value)

    @field_validator("urgent_kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        return _check_urgent_kinds(value)

    @model_validator(mode="after")
    def _useful(self) -> Situation:
        if not self.urgent_kinds and not self.topics:
            raise ValueError(f"situation {self.id!r} needs urgent_kinds or topics to match on")
        if not (self.emergency or self.lines or self.windows):
            raise ValueError(f"situation {self.id!r} names no line and no window")
        return self


class OpenNow(_Model):
    """The lines that always apply: emergency numbers (open 24 hours, first when the danger
    is now and no situation says otherwise) and a 24-hour line for anyone unsure."""

    emergency: list[str] = Field(min_length=1)
    listening: list[str] = Field(min_length=1)


class BusinessHours(_Model):
    """When staff answer. Closed on weekends, national holidays and the listed dates."""

    timezone: str = "Asia/Tokyo"
    open: time
    close: time
    weekdays: list[int] = Field(default=[0, 1, 2, 3, 4])  # Monday = 0
    closed_dates: list[str] = Field(default_factory=list)  # "MM-DD", e.g. 12-29 … 01-03
    national_holidays: bool = True  # closed on jpholiday holidays
    text: str = Field(min_length=1)  # how the hours are said to residents
    source: str = Field(min_length=1)

    @field_validator("closed_dates")
    @classmethod
    def _month_days(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if not _MONTH_DAY.match(d)]
        if bad:
            raise ValueError(f"closed_dates must be 'MM-DD' strings, got {bad}")
        return value

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(d not in range(7) for d in value):
            raise ValueError("weekdays must be a non-empty list of 0 (Monday) … 6 (Sunday)")
        return value

    @model_validator(mode="after")
    def _order(self) -> BusinessHours:
        if self.open >= self.close:
            raise ValueError(f"open ({self.open}) must be before close ({self.close})")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.timezone)
        except Exception as exc:  # noqa: BLE001 - any failure means an unusable timezone
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        return self


class Retention(_Model):
    days: int = Field(gt=0)
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def _mentions_days(self) -> Retention:
        if str(self.days) not in self.text:
            raise ValueError(f"retention text must state the number of days ({self.days})")
        return self


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class ContentPack(_Model):
    meta: PackMeta
    business_hours: BusinessHours
    retention: Retention
    agencies: list[Agency]
    towns: list[Town]
    faq: list[FaqEntry]
    resources: list[Resource] = Field(default_factory=list)
    hotlines: list[Hotline]
    situations: list[Situation] = Field(default_factory=list)
    open_now: OpenNow
    copy_: dict[str, str] = Field(alias="copy")
    # Button labels, topic words and message fragments (copy.toml [labels]); not sentences.
    labels: dict[str, str] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            try:
                _placeholders(text)
            except ValueError as exc:
                raise ValueError(f"label {key!r} has a broken {{placeholder}}: {exc}") from exc
        return value

    @field_validator("copy_")
    @classmethod
    def _copy(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [k for k in REQUIRED_COPY_KEYS if not value.get(k, "").strip()]
        if missing:
            raise ValueError(f"missing message copy for key(s): {', '.join(missing)}")
        for key, text in value.items():
            try:
                _placeholders(text)
            except ValueError as exc:
                raise ValueError(f"copy {key!r} has a broken {{placeholder}}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> ContentPack:
        errors: list[str] = []
        for section in ("agencies", "faq", "resources", "hotlines"):
            seen: set[str] = set()
            for item in getattr(self, section):
                if item.id in seen:
                    errors.append(f"{SECTION_FILES[section]}: duplicate id {item.id!r}")
                seen.add(item.id)
        agency_ids = {a.id for a in self.agencies}
        hotline_ids = {h.id for h in self.hotlines}
        by_id = {a.id: a for a in self.agencies}
        for agency in self.agencies:
            via = agency.phone_via
            if via and via != DISTRICT_CENTER and via not in agency_ids | hotline_ids:
                errors.append(
                    f"agencies.toml: agency {agency.id!r} phone_via {via!r} is not an agency "
                    f"or hotline id (nor {DISTRICT_CENTER!r})"
                )
            elif via in by_id and not by_id[via].phone:
                errors.append(
                    f"agencies.toml: agency {agency.id!r} phone_via {via!r}, which has no phone"
                )
        centers = [a for a in self.agencies if a.kind == "comprehensive_center"]
        if not centers:
            errors.append("agencies.toml: no comprehensive_center (地域包括支援センター) defined")
        town_names = {t.name for t in self.towns}
        for center in centers:
            for area in center.serves:
                if area.town not in town_names:
                    errors.append(
                        f"agencies.toml: agency {center.id!r} serves unknown town "
                        f"{area.town!r}; add it to towns.toml"
                    )
        for entry in self.faq:
            for ref in entry.agencies:
                if ref not in agency_ids:
                    errors.append(f"faq.toml: entry {entry.id!r} names unknown agency {ref!r}")
        for res in self.resources:
            if res.contact and re.match(_ID, res.contact) and res.contact not in agency_ids:
                errors.append(
                    f"resources.toml: resource {res.id!r} contact {res.contact!r} "
                    "is not an agency id"
                )
        always = {h.id for h in self.hotlines if h.opening is not None and h.opening.always}
        for key in ("emergency", "listening"):
            for ref in getattr(self.open_now, key):
                if ref not in hotline_ids:
                    errors.append(f"hotlines.toml: open_now.{key} names unknown hotline {ref!r}")
                elif ref not in always:
                    errors.append(
                        f'hotlines.toml: open_now.{key} line {ref!r} must be open = "24h"')
        for situation in self.situations:
            for ref in [*situation.emergency, *situation.lines]:
                if ref not in hotline_ids:
                    errors.append(f"hotlines.toml: situation {situation.id!r} names unknown "
                                  f"hotline {ref!r}")
            for ref in situation.unless:
                if ref not in {s.id for s in self.situations}:
                    errors.append(f"hotlines.toml: situation {situation.id!r} unless names "
                                  f"unknown situation {ref!r}")
            for ref in situation.windows:
                if ref != DISTRICT_CENTER and ref not in agency_ids:
                    errors.append(f"hotlines.toml: situation {situation.id!r} names unknown "
                                  f"agency {ref!r}")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    # --- convenience lookups -------------------------------------------------------------

    @property
    def copy_texts(self) -> dict[str, str]:
        return dict(self.copy_)

    def text(self, key: str, **values: object) -> str:
        """Message copy (or a label) for ``key``, with ``{placeholders}`` filled from ``values``."""
        template = self.copy_.get(key, self.labels.get(key))
        if template is None:
            raise KeyError(f"content pack {self.meta.id!r} has no message copy {key!r}")
        return template.format(**values) if values or _placeholders(template) else template

    def agency(self, agency_id: str) -> Agency:
        for agency in self.agencies:
            if agency.id == agency_id:
                return agency
        raise KeyError(f"content pack {self.meta.id!r} has no agency {agency_id!r}")

    def hotline(self, hotline_id: str) -> Hotline:
        for hotline in self.hotlines:
            if hotline.id == hotline_id:
                return hotline
        raise KeyError(f"content pack {self.meta.id!r} has no hotline {hotline_id!r}")

    def faq_entry(self, entry_id: str) -> FaqEntry:
        for entry in self.faq:
            if entry.id == entry_id:
                return entry
        raise KeyError(f"content pack {self.meta.id!r} has no FAQ entry {entry_id!r}")

    @property
    def centers(self) -> list[Agency]:
        """The 地域包括支援センター, in pack order (東部, 中部, 西部 for zushi)."""
        return [a for a in self.agencies if a.kind == "comprehensive_center"]

    def phone_for(self, agency: Agency, district_center: Agency | None = None) -> str | None:
        """The number to call for ``agency``, following ``phone_via`` one step."""
        if agency.phone:
            return agency.phone
        via = agency.phone_via
        if via == DISTRICT_CENTER:
            return district_center.phone if district_center else None
        if via is None:
            return None
        for other in self.agencies:
            if other.id == via:
                return other.phone
        for hotline in self.hotlines:
            if hotline.id == via:
                return hotline.number
        return None
