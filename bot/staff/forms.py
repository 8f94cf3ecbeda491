"""Forms of the staff console (Flask-WTF: every POST carries a CSRF token)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from storage.cases import OUTCOMES

ROLES = {"coordinator": "相談員", "editor": "掲載内容の編集者", "admin": "管理者"}
MAX_REPLY = 2000  # well under LINE's 5000 characters; long replies are hard to read on a phone


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(FlaskForm):
    username = StringField("ユーザー名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("パスワード", validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ReplyForm(FlaskForm):
    text = TextAreaField("相談者への返信", validators=[DataRequired(), Length(max=MAX_REPLY)])


class NoteForm(FlaskForm):
    text = TextAreaField("メモ（職員のみ）", validators=[DataRequired(), Length(max=4000)])


class ReferralForm(FlaskForm):
    window_id = SelectField("紹介先の窓口", validators=[DataRequired()])
    note = TextAreaField("申し送り（任意）", validators=[Optional(), Length(max=2000)])


class CloseForm(FlaskForm):
    outcome = SelectField("終了理由", choices=choices(OUTCOMES.items()),
                          validators=[DataRequired()])
    watch = BooleanField("終了後に見守り（定期のお声がけ）の対象にする")
    watch_weekdays = SelectMultipleField(
        "お声がけの曜日", coerce=int, validate_choice=True,
        choices=choices(enumerate("月火水木金土日")), default=[0, 3])
    watch_time = StringField("時刻", default="10:00", validators=[
        Optional(), Regexp(r"^\d{1,2}:\d{2}$", message="「10:00」の形で入力してください")])
    watch_consent_by = StringField("同意された方", default="本人",
                                   validators=[Optional(), Length(max=64)])


class StaffCreateForm(FlaskForm):
    username = StringField("ユーザー名", validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[A-Za-z0-9_.-]+$", message="英数字と _ . - で入力してください")])
    display_name = StringField("表示名", validators=[Optional(), Length(max=64)])
    password = PasswordField("初期パスワード（8文字以上）",
                             validators=[DataRequired(), Length(min=8, max=256)])
    role = SelectField("役割", choices=choices(ROLES.items()))


class StaffUpdateForm(FlaskForm):
    role = SelectField("役割", choices=choices(ROLES.items()))
    active = BooleanField("有効")
    is_supervisor = BooleanField("上長（緊急時のエスカレーション先）")
    slack_user_id = StringField("Slack ユーザーID", validators=[
        Optional(), Length(max=32),
        Regexp(r"^[UW][A-Z0-9]+$", message="Slack のユーザーID（U… で始まる）を入力してください")])
    new_password = PasswordField("新しいパスワード（変更するときだけ）",
                                 validators=[Optional(), Length(min=8, max=256)])
