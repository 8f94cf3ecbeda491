"""Content pages (/staff/content): the city edits its own words.

FAQ, windows, staff hours and closed days, hotlines and the bot's wording are edited into
one draft version; a second person reviews the changes (diff) and publishes; every
published version is kept and can be published again (rollback). Admins and editors only;
every edit, import, export, publish and rollback is in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from bot.services import services
from bot.staff.forms import ActionForm
from common.clock import TOKYO
from handlers.content import ContentPackError, checks, editing, live
from handlers.content.schema import TOPIC_IDS
from handlers.content.versions import completed, diff, pack_from_payload
from storage import audit
from storage import content as store
from storage.db import transaction
from storage.models import ContentVersion, StaffUser, utcnow

bp = Blueprint("staff_content", __name__, url_prefix="/staff/content")
WEEKDAYS = "月火水木金土日"


@bp.before_request
def editors_only() -> None:
    if current_user.is_authenticated and not current_user.can_edit_content:
        abort(403)


def _today() -> date:
    return utcnow().astimezone(TOKYO).date()


def _working(session: Any) -> ContentVersion:
    """The draft if there is one, else the published version (what an editor sees)."""
    version = store.draft(session) or store.published(session)
    if version is None:
        abort(503)
    return version


Payload = dict[str, Any]


def _edit(change: Callable[[Payload], Payload], detail: str,
          action: str = "content_edit") -> int | None:
    """Apply ``change(payload) -> payload`` to the draft (opened from the published version
    when there is none), audited in the same transaction. None when the edit was refused."""
    now = utcnow()
    try:
        with transaction(services().factory) as session:
            draft = store.draft(session, lock=True)
            if draft is None:
                base = store.published(session)
                if base is None:
                    abort(503)
                draft = store.start_draft(session, base, current_user.id, now)
            store.save_draft(session, draft, change(completed(draft.payload)), current_user.id,
                             now)
            audit.record(session, action, now=now, staff_id=current_user.id,
                         detail=f"version={draft.number} {detail}")
            return draft.number
    except (editing.EditError, store.ContentStateError) as exc:
        flash(str(exc), "error")
        return None


def _names(session: Any, ids: list[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return {u.id: u.display_name or u.username
            for u in session.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)))}


# -- overview and review ----------------------------------------------------------------


@bp.get("")
def overview() -> str:
    with services().factory() as session:
        published = store.published(session)
        draft = store.draft(session)
        names = _names(session, [*(draft.edited_by if draft else []),
                                 published.published_by if published else None])
    changes = diff(published.payload, draft.payload) if (draft and published) else []
    problems = checks.check_payload(draft.payload) if draft else []
    stale = []
    if published is not None:
        try:
            stale = checks.stale_items(pack_from_payload(published.payload), _today())
        except ContentPackError:  # shown through live.problem
            stale = []
    may_publish, why_not = _may_publish(draft)
    return render_template(
        "staff/content/overview.html", published=published, draft=draft, names=names,
        changes=changes, problems=problems, errors=checks.errors(problems), stale=stale,
        may_publish=may_publish, why_not=why_not, form=ActionForm(), serving=live.problem,
        stale_days=checks.STALE_AFTER_DAYS)


def _may_publish(draft: ContentVersion | None) -> tuple[bool, str]:
    if draft is None:
        return False, ""
    if current_user.id not in (draft.edited_by or []):
        return True, ""
    if current_user.is_admin and services().config.content_self_publish:
        return True, ""
    return False, ("この下書きを編集した方は公開できません。別の職員（管理者または編集者）に"
                   "確認と公開を依頼してください。")


@bp.post("/publish")
def publish() -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    note = (request.form.get("note") or "").strip()[:500]
    now = utcnow()
    with transaction(services().factory) as session:
        draft = store.draft(session, lock=True)
        if draft is None:
            flash("公開する下書きがありません。", "error")
            return redirect(url_for(".overview"))
        allowed, why_not = _may_publish(draft)
        if not allowed:
            flash(why_not, "error")
            return redirect(url_for(".overview"))
        problems = checks.errors(checks.check_payload(draft.payload))
        if problems:
            flash(f"確認で{len(problems)}件の誤りが見つかったため公開できません。"
                  "下の一覧を直してください。", "error")
            return redirect(url_for(".overview"))
        base = store.published(session)
        changed = len(diff(base.payload, draft.payload)) if base else 0
        store.publish_draft(session, draft, current_user.id, now, note or None)
        audit.record(session, "content_publish", now=now, staff_id=current_user.id,
                     detail=f"version={draft.number} changes={changed} note={note}")
        number = draft.number
    live.refresh(services().factory)
    flash(f"版 {number} を公開しました。数秒ですべての応答に反映されます。")
    return redirect(url_for(".overview"))


@bp.post("/discard")
def discard() -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    with transaction(services().factory) as session:
        draft = store.draft(session, lock=True)
        if draft is not None:
            store.discard_draft(session, draft)
            audit.record(session, "content_discard", now=now, staff_id=current_user.id,
                         detail=f"version={draft.number}")
            flash("下書きを破棄しました。")
    return redirect(url_for(".overview"))


@bp.get("/versions")
def versions() -> str:
    with services().factory() as session:
        rows = store.history(session)
        names = _names(session, [v.published_by for v in rows])
    return render_template("staff/content/versions.html", versions=rows, names=names,
                           form=ActionForm())


@bp.get("/versions/<int:number>")
def version(number: int) -> str:
    with services().factory() as session:
        shown = store.by_number(session, number)
        if shown is None:
            abort(404)
        earlier = None
        for older in store.history(session, limit=1000):
            if older.number < number:
                earlier = older
                break
        names = _names(session, [shown.published_by])
    changes = diff(earlier.payload, shown.payload) if earlier else []
    return render_template("staff/content/version.html", version=shown, earlier=earlier,
                           changes=changes, names=names, form=ActionForm())


@bp.post("/versions/<int:number>/rollback")
def rollback(number: int) -> Any:
    """Publish a copy of an earlier published version. It was reviewed when it was first
    published, so restoring it needs no second person (a wrong number must go at once)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    note = (request.form.get("note") or "").strip()[:500]
    now = utcnow()
    with transaction(services().factory) as session:
        older = store.by_number(session, number)
        if older is None or older.status == "draft":
            abort(404)
        current = store.published(session)
        if current is not None and current.number == number:
            flash("この版はすでに公開中です。", "error")
            return redirect(url_for(".versions"))
        restored = store.add_published(
            session, older.payload, origin="rollback", now=now, staff_id=current_user.id,
            based_on=number, note=note or f"版 {number} に戻しました")
        audit.record(session, "content_rollback", now=now, staff_id=current_user.id,
                     detail=f"version={restored.number} copy_of={number} note={note}")
        new_number = restored.number
    live.refresh(services().factory)
    flash(f"版 {number} の内容を版 {new_number} として公開しました。")
    return redirect(url_for(".versions"))


# -- FAQ -------------------------------------------------------------------------------


@bp.get("/faq")
def faq_list() -> str:
    query = (request.args.get("q") or "").strip()
    with services().factory() as session:
        working = _working(session)
    entries = working.payload["pack"].get("faq", [])
    if query:
        entries = [e for e in entries if any(query in str(e.get(k, "")) for k in (
            "id", "question", "answer", "category", "keywords"))]
    return render_template("staff/content/faq_list.html", entries=entries, query=query,
                           retired=working.payload.get("retired_faq", []), version=working,
                           form=ActionForm(), today=_today(),
                           stale_days=checks.STALE_AFTER_DAYS)


def _field(name: str) -> str:
    """A form field as the bot will send it: trimmed, browser CRLF line ends made LF."""
    return (request.form.get(name) or "").replace("\r\n", "\n").strip()


def _faq_fields() -> dict[str, Any]:
    form = request.form
    return {
        "id": _field("id"),
        "question": _field("question"),
        "answer": _field("answer"),
        "category": _field("category"),
        "topics": form.getlist("topics"),
        "keywords": [k for k in (form.get("keywords") or "").replace("、", " ")
                     .replace(",", " ").split() if k],
    }


@bp.route("/faq/new", methods=["GET", "POST"])
@bp.route("/faq/<entry_id>", methods=["GET", "POST"])
def faq_edit(entry_id: str | None = None) -> Any:
    with services().factory() as session:
        working = _working(session)
    found = editing.find_faq(working.payload, entry_id) if entry_id else None
    if entry_id and found is None:
        abort(404)
    entry, retired = found if found else ({}, False)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        fields = _faq_fields()
        reviewed = _today() if request.form.get("reviewed") else None
        number = _edit(lambda p: editing.put_faq(p, fields, entry_id, reviewed),
                       f"faq={fields['id']}" + (" new" if entry_id is None else ""))
        if number is not None:
            flash(f"下書き（版 {number}）に保存しました。公開すると相談者に届きます。")
            return redirect(url_for(".faq_edit", entry_id=fields["id"]))
        entry = {**entry, **fields}
    return render_template(
        "staff/content/faq_edit.html", entry=entry, retired=retired, is_new=entry_id is None,
        topics=TOPIC_IDS, form=ActionForm(), limits=_limits(),
        label=checks.button_label(entry.get("question", "")),
        answer_length=checks.line_length(entry.get("answer", "")),
        question_length=checks.line_length(entry.get("question", "")))


def _limits() -> dict[str, int]:
    return {"text": checks.LINE_TEXT_MAX, "label": checks.LINE_LABEL_MAX,
            "display": checks.LINE_DISPLAY_TEXT_MAX, "data": checks.LINE_POSTBACK_DATA_MAX}


@bp.post("/faq/<entry_id>/retire")
def faq_retire(entry_id: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    if _edit(lambda p: editing.retire_faq(p, entry_id, _today()), f"faq={entry_id} retire"):
        flash(f"「{entry_id}」を下書きで取り下げました。公開すると案内されなくなります。")
    return redirect(url_for(".faq_list"))


@bp.post("/faq/<entry_id>/restore")
def faq_restore(entry_id: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    if _edit(lambda p: editing.restore_faq(p, entry_id), f"faq={entry_id} restore"):
        flash(f"「{entry_id}」を下書きで戻しました。")
    return redirect(url_for(".faq_list"))


@bp.get("/faq.csv")
def faq_export() -> Response:
    encoding = "cp932" if request.args.get("encoding") == "cp932" else "utf-8"
    with services().factory() as session:
        working = _working(session)
    try:
        body = editing.export_faq_csv(working.payload, encoding)
    except editing.EditError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".faq_list"))  # type: ignore[return-value]
    with transaction(services().factory) as session:
        audit.record(session, "content_export", now=utcnow(), staff_id=current_user.id,
                     detail=f"version={working.number} faq.csv {encoding}")
    charset = "Shift_JIS" if encoding == "cp932" else "utf-8"
    return Response(body, mimetype=f"text/csv; charset={charset}", headers={
        "Content-Disposition": f"attachment; filename=faq-v{working.number}-{encoding}.csv"})


@bp.post("/faq/import")
def faq_import() -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("CSVファイルを選んでください。", "error")
        return redirect(url_for(".faq_list"))
    raw = upload.read()
    counts: dict[str, int] = {}

    def merge(payload: dict[str, Any]) -> dict[str, Any]:
        new, counts["added"], counts["updated"] = editing.import_faq_csv(
            payload, raw, upload.filename or "faq.csv")
        return new

    number = _edit(merge, f"faq.csv {len(raw)} bytes", action="content_import")
    if number is not None:
        flash(f"CSVを下書き（版 {number}）に取り込みました: 追加 {counts['added']}件、"
              f"更新 {counts['updated']}件。")
    return redirect(url_for(".faq_list"))


# -- windows, hours, hotlines, wording -----------------------------------------------


@bp.get("/windows")
def windows() -> str:
    with services().factory() as session:
        working = _working(session)
    return render_template("staff/content/windows.html", version=working,
                           agencies=working.payload["pack"].get("agencies", []))


@bp.route("/windows/<agency_id>", methods=["GET", "POST"])
def window_edit(agency_id: str) -> Any:
    with services().factory() as session:
        working = _working(session)
    agency = next((a for a in working.payload["pack"].get("agencies", [])
                   if a.get("id") == agency_id), None)
    if agency is None:
        abort(404)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        fields = {k: _field(k) or None
                  for k in ("name", "phone", "address", "hours", "description")}
        fields["name"] = fields["name"] or agency.get("name")
        fields["description"] = fields["description"] or agency.get("description")
        fields["serves"] = _serves(request.form.get("serves"), agency.get("serves") or [])
        if fields["serves"] is None:
            flash("担当地域の書き方が正しくありません（1行に1つ「町名」または"
                  "「町名 1,2」（丁目）、番地で分かれるときは「町名 5 一部 説明」）。", "error")
        elif _edit(lambda p: editing.put_agency(p, agency_id, fields), f"window={agency_id}"):
            flash("下書きに保存しました。")
            return redirect(url_for(".window_edit", agency_id=agency_id))
        agency = {**agency, **{k: v for k, v in fields.items() if v is not None}}
    return render_template("staff/content/window_edit.html", agency=agency,
                           serves_text=_serves_text(agency.get("serves") or []),
                           form=ActionForm())


def _serves_text(areas: list[dict[str, Any]]) -> str:
    lines = []
    for a in areas:
        parts = [a["town"]]
        if a.get("chome"):
            parts.append(",".join(str(c) for c in a["chome"]))
        if a.get("partial"):
            parts.append("一部")
        if a.get("ban"):
            parts.append("番:" + ",".join(str(b) for b in a["ban"]))
        if a.get("ban_except"):
            parts.append("番以外:" + ",".join(str(b) for b in a["ban_except"]))
        if a.get("detail"):
            parts.append(a["detail"])
        if a.get("place"):
            parts.append(f"場所:{a['place']}")
        lines.append(" ".join(parts))
    return "\n".join(lines)


def _serves(text: str | None, current: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Parse the 担当地域 textarea: one area per line,
    ``町名 [丁目,丁目] [一部] [番:1,2 | 番以外:3] [場所:団地名] [説明]``."""
    if text is None:
        return current
    areas = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        area: dict[str, Any] = {"town": parts[0]}
        rest = parts[1:]
        if rest and all(c.isdigit() for c in rest[0].split(",")):
            area["chome"] = [int(c) for c in rest.pop(0).split(",")]
        if rest and rest[0] == "一部":
            area["partial"] = True
            rest.pop(0)
        for prefix, key in (("場所:", "place"), ("番:", "ban"), ("番以外:", "ban_except")):
            tagged = [p for p in rest if p.startswith(prefix)]
            rest = [p for p in rest if not p.startswith(prefix)]
            if not tagged:
                continue
            value = tagged[0].removeprefix(prefix)
            if key == "place":
                area[key] = value
            elif all(b.isdigit() for b in value.split(",")):
                area[key] = [int(b) for b in value.split(",")]
            else:
                return None
        if rest:
            area["detail"] = " ".join(rest)
        areas.append(area)
    return areas or None


@bp.route("/hours", methods=["GET", "POST"])
def hours() -> Any:
    with services().factory() as session:
        working = _working(session)
    current = working.payload["pack"].get("business_hours", {})
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        closed = [d.strip() for d in (request.form.get("closed_dates") or "")
                  .replace(",", " ").replace("、", " ").split() if d.strip()]
        fields = {
            "open": request.form.get("open") or current.get("open"),
            "close": request.form.get("close") or current.get("close"),
            "weekdays": [int(d) for d in request.form.getlist("weekdays") if d.isdigit()],
            "closed_dates": closed,
            "national_holidays": bool(request.form.get("national_holidays")),
            "text": _field("text"),
        }
        if _edit(lambda p: editing.put_business_hours(p, fields), "business_hours"):
            flash("下書きに保存しました。")
            return redirect(url_for(".hours"))
        current = {**current, **fields}
    return render_template("staff/content/hours.html", hours=current, weekdays=WEEKDAYS,
                           form=ActionForm())


@bp.get("/hotlines")
def hotlines() -> str:
    with services().factory() as session:
        working = _working(session)
    return render_template("staff/content/hotlines.html", version=working,
                           hotlines=working.payload["pack"].get("hotlines", []),
                           today=_today(), stale_days=checks.STALE_AFTER_DAYS)


@bp.route("/hotlines/<hotline_id>", methods=["GET", "POST"])
def hotline_edit(hotline_id: str) -> Any:
    with services().factory() as session:
        working = _working(session)
    hotline = next((h for h in working.payload["pack"].get("hotlines", [])
                    if h.get("id") == hotline_id), None)
    if hotline is None:
        abort(404)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        fields: dict[str, Any] = {k: _field(k) or None for k in (
            "name", "number", "hours", "description", "source", "source_url")}
        for required in ("name", "number", "hours", "description", "source"):
            fields[required] = fields[required] or ""
        checked = (request.form.get("checked_on") or "").strip()
        fields["checked_on"] = checked or None
        reason = checks.hotline_hours_problem(fields["hours"] or "")
        if reason:
            flash(f"受付時間: {reason}", "error")
        elif _edit(lambda p: editing.put_hotline(p, hotline_id, fields),
                   f"hotline={hotline_id}"):
            flash("下書きに保存しました。")
            return redirect(url_for(".hotline_edit", hotline_id=hotline_id))
        hotline = {**hotline, **fields}
    return render_template("staff/content/hotline_edit.html", hotline=hotline,
                           today=_today(), form=ActionForm())


@bp.get("/copy")
def copy_list() -> str:
    with services().factory() as session:
        working = _working(session)
    return render_template("staff/content/copy_list.html", version=working,
                           texts=completed(working.payload)["pack"].get("copy", {}))


@bp.route("/copy/<key>", methods=["GET", "POST"])
def copy_edit(key: str) -> Any:
    with services().factory() as session:
        working = _working(session)
    texts = completed(working.payload)["pack"].get("copy", {})
    if key not in texts:
        abort(404)
    text = texts[key]
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        text = _field("text")
        if _edit(lambda p: editing.put_copy(p, key, text), f"copy={key}"):
            flash("下書きに保存しました。")
            return redirect(url_for(".copy_edit", key=key))
    return render_template("staff/content/copy_edit.html", key=key, text=text,
                           form=ActionForm(), limits=_limits(),
                           length=checks.line_length(text))


@bp.context_processor
def _globals() -> dict[str, Any]:
    return {"tokyo": TOKYO}
