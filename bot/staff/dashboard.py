"""The figures the city's annual review needs, by fiscal year (April–March), with CSV."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from bot.services import services
from bot.staff import charts, labels
from common.clock import TOKYO
from handlers import sla
from handlers.content import checks as content_checks
from storage import audit, cases, safety_checks
from storage.db import transaction
from storage.models import Case, utcnow

bp = Blueprint("staff_dashboard", __name__, url_prefix="/staff")


def fiscal_year(moment: datetime) -> int:
    local = moment.astimezone(TOKYO)
    return local.year if local.month >= 4 else local.year - 1


def fiscal_bounds(year: int) -> tuple[datetime, datetime]:
    return (datetime(year, 4, 1, tzinfo=TOKYO), datetime(year + 1, 4, 1, tzinfo=TOKYO))


def week_start(moment: datetime) -> date:
    local = moment.astimezone(TOKYO).date()
    return local - timedelta(days=local.weekday())


@dataclass
class Figures:
    year: int
    start: datetime
    end: datetime
    total: int = 0
    by_week: dict[date, int] = field(default_factory=dict)
    topic_by_week: dict[date, Counter] = field(default_factory=dict)
    by_topic: Counter = field(default_factory=Counter)
    by_priority: Counter = field(default_factory=Counter)
    by_reason: Counter = field(default_factory=Counter)
    response: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    open_age: dict[str, int] = field(default_factory=dict)
    watch_requested: int = 0
    # answers to the safety check question 「今、危ないですか？」 (to tune the "check" band)
    check_answers: dict[str, int] = field(default_factory=dict)


def compute(rows: list[Case], open_rows: list[Case], year: int, now: datetime,
            goal: sla.Targets | None = None) -> Figures:
    start, end = fiscal_bounds(year)
    figures = Figures(year, start, end, total=len(rows))
    first = week_start(start)
    last = week_start(min(end - timedelta(seconds=1), max(now, start)))
    day = first
    while day <= last:
        figures.by_week[day] = 0
        figures.topic_by_week[day] = Counter()
        day += timedelta(days=7)
    for case in rows:
        week = week_start(case.created_at)
        figures.by_week[week] = figures.by_week.get(week, 0) + 1
        figures.topic_by_week.setdefault(week, Counter()).update(case.topics or ["unclassified"])
        figures.by_topic.update(case.topics or ["unclassified"])
        figures.by_priority[case.priority] += 1
        figures.by_reason[case.opened_reason] += 1
        figures.watch_requested += int(bool(case.watch_requested))
    figures.response = _response_times(rows, goal or sla.Targets())
    figures.outcomes = cases.outcome_counts(rows)
    figures.open_age = cases.open_by_age(open_rows, now)
    return figures


def _response_times(rows: list[Case], goal: sla.Targets
                    ) -> dict[str, dict[str, float | int | None]]:
    minutes = cases.first_response_minutes(rows)
    result: dict[str, dict[str, float | int | None]] = {}
    for priority, values in minutes.items():
        answered = [c for c in rows if c.priority == priority and c.first_response_at]
        within = sum(1 for c in answered if c.first_response_at <= sla.due_at(c, goal))
        result[priority] = {
            "count": len(values),
            "median": round(statistics.median(values), 1) if values else None,
            "p90": round(_percentile(values, 0.9), 1) if values else None,
            "within_target": round(100 * within / len(answered), 1) if answered else None,
        }
    return result


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def load(year: int, now: datetime) -> Figures:
    start, end = fiscal_bounds(year)
    with services().factory() as session:
        rows = cases.cases_between(session, start, end)
        open_rows = cases.open_cases(session)
        answers = safety_checks.answer_counts(session, start, end)
    figures = compute(rows, open_rows, year, now, services().config.sla)
    figures.check_answers = answers
    return figures


def _topic_name(topic: str) -> str:
    return "未分類" if topic == "unclassified" else labels.topic_label(topic)


def _year_arg(now: datetime) -> int:
    value = request.args.get("fy", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else fiscal_year(now)


def _line_quota() -> Any:
    """LINE's push quota this month (read at most every 10 minutes), or None."""
    channel = services().channels.get("line")
    try:
        return channel.quota(max_age=600) if channel is not None else None
    except Exception:  # LINE unreachable: the page shows the figures without it
        return None


@bp.get("/dashboard")
def dashboard() -> str:
    now = utcnow()
    year = _year_arg(now)
    figures = load(year, now)
    weeks = list(figures.by_week.items())
    chart_weeks = charts.columns(
        [(f"{w.month}/{w.day}", n) for w, n in weeks], title="週ごとの新規ケース数",
        label_every=max(1, len(weeks) // 10))
    chart_topics = charts.hbar(
        [(_topic_name(t), n) for t, n in figures.by_topic.most_common()], title="話題別の件数")
    chart_outcomes = charts.hbar(
        [(cases.OUTCOMES[k], v) for k, v in figures.outcomes.items()], title="終了理由",
        color=charts.COLORS[3])
    chart_age = charts.hbar(list(figures.open_age.items()), title="未終了ケースの経過日数",
                            color=charts.COLORS[2])
    chart_response = charts.hbar(
        [(cases.PRIORITY_LABELS[p], r["median"] or 0) for p, r in figures.response.items()],
        title="初回応答までの時間（中央値）", unit="分", color=charts.COLORS[1])
    recent = weeks[-8:]
    return render_template(
        "staff/dashboard.html", f=figures, now=now, charts={
            "weeks": chart_weeks, "topics": chart_topics, "outcomes": chart_outcomes,
            "age": chart_age, "response": chart_response},
        recent_weeks=recent, topic_name=_topic_name, line_quota=_line_quota(),
        answer_labels=safety_checks.ANSWER_LABELS,
        years=list(range(fiscal_year(now), fiscal_year(now) - 5, -1)),
        stale=_stale_content(now), stale_days=content_checks.STALE_AFTER_DAYS,
    )


def _stale_content(now: datetime) -> list[content_checks.Stale]:
    """Hotlines and FAQ answers of the published content nobody has checked for a year."""
    from handlers.content import load_pack

    return content_checks.stale_items(load_pack(), now.astimezone(TOKYO).date())


@bp.get("/dashboard.csv")
def dashboard_csv() -> Response:
    now = utcnow()
    year = _year_arg(now)
    kind = "cases" if request.args.get("kind") == "cases" else "summary"
    if kind == "cases":
        start, end = fiscal_bounds(year)
        with services().factory() as session:
            body = cases_csv(cases.cases_between(session, start, end))
    else:
        body = summary_csv(load(year, now))
    with transaction(services().factory) as session:
        audit.record(session, "export_csv", now=now, staff_id=current_user.id,
                     detail=f"{kind} fy{year}")
    # A BOM so Excel (as used in city offices) opens the Japanese text correctly.
    return Response("\ufeff" + body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="madoguchi-{kind}-fy{year}.csv"',
        "Cache-Control": "no-store"})


def summary_csv(f: Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "sub_key", "value"])
    writer.writerow(["total", f"FY{f.year}", "", f.total])
    for week, counter in f.topic_by_week.items():
        writer.writerow(["cases_by_week", week.isoformat(), "", f.by_week.get(week, 0)])
        for topic, n in sorted(counter.items()):
            writer.writerow(["topic_by_week", week.isoformat(), topic, n])
    for topic, n in f.by_topic.most_common():
        writer.writerow(["by_topic", topic, _topic_name(topic), n])
    for priority, n in sorted(f.by_priority.items()):
        writer.writerow(["by_priority", priority, "", n])
    for reason, n in sorted(f.by_reason.items()):
        writer.writerow(["by_opened_reason", reason, "", n])
    for priority, stats in f.response.items():
        for key, value in stats.items():
            writer.writerow(["first_response_minutes", priority, key,
                             "" if value is None else value])
    for code, n in f.outcomes.items():
        writer.writerow(["outcome", code, cases.OUTCOMES[code], n])
    for bucket, n in f.open_age.items():
        writer.writerow(["open_by_age", bucket, "", n])
    writer.writerow(["watch_requested", "", "", f.watch_requested])
    for answer, n in f.check_answers.items():
        writer.writerow(["check_answer", answer, safety_checks.ANSWER_LABELS[answer], n])
    return out.getvalue()


def cases_csv(rows: list[Case]) -> str:
    """One row per case, without aliases or any text: counts for the review, not people."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["case_id", "opened_at", "priority", "opened_reason", "topics", "about",
                     "status", "first_response_minutes", "closed_at", "outcome", "watch"])
    for case in rows:
        minutes: Any = ""
        if case.first_response_at:
            minutes = round((case.first_response_at - case.created_at).total_seconds() / 60, 1)
        writer.writerow([
            case.id, case.created_at.astimezone(TOKYO).isoformat(timespec="minutes"),
            case.priority, case.opened_reason, ";".join(case.topics or []), case.about,
            case.status, minutes,
            case.closed_at.astimezone(TOKYO).isoformat(timespec="minutes")
            if case.closed_at else "", case.outcome or "", int(bool(case.watch_requested)),
        ])
    return out.getvalue()
