"""Staff accounts: creation and password checks (argon2)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import StaffUser

ROLES = ("coordinator", "editor", "admin")  # editor: the content (FAQ, windows, lines)
_hasher = PasswordHasher()


class StaffError(ValueError):
    pass


def create_staff(
    session: Session, username: str, password: str, role: str, display_name: str = ""
) -> StaffUser:
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise StaffError("password must be at least 8 characters")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise StaffError(f"staff user {username!r} already exists")
    user = StaffUser(
        username=username, display_name=display_name or username,
        password_hash=_hasher.hash(password), role=role,
    )
    session.add(user)
    session.flush()
    return user


def verify_password(user: StaffUser, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def set_password(user: StaffUser, password: str) -> None:
    if len(password) < 8:
        raise StaffError("password must be at least 8 characters")
    user.password_hash = _hasher.hash(password)


_UNUSABLE: list[str] = []


def verify_against_nothing(password: str) -> None:
    """The cost of one real check, for a name that does not exist (no timing difference)."""
    if not _UNUSABLE:
        _UNUSABLE.append(_hasher.hash("no account has this password"))
    try:
        _hasher.verify(_UNUSABLE[0], password)
    except VerificationError:  # VerifyMismatchError is the expected outcome
        return
