"""Re-encrypt every encrypted column under the first key of ENCRYPTION_KEYS.

The columns are found on Base.metadata by type (EncryptedText, EncryptedJSON), so tables
other layers add are covered without a list to maintain. Rows are read and written as raw
tokens, a batch per transaction, ordered by primary key. A token that the first key
already opens is left alone, so the command is idempotent and can be resumed after an
interruption. A write only lands if the token is unchanged since it was read, so a row a
running process rewrote meanwhile is not clobbered (it was written under the new key).

Run it after every process has been restarted with the new key first in ENCRYPTION_KEYS;
remove the old key only once it reports nothing left to rotate and nothing unreadable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, Engine, LargeBinary, MetaData, Table, select, tuple_, update
from sqlalchemy.engine import Connection

from storage.models import Base
from storage.types import EncryptedJSON, EncryptedText

log = logging.getLogger(__name__)

ENCRYPTED_TYPES = (EncryptedText, EncryptedJSON)


@dataclass
class RekeyReport:
    rotated: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows
    already_current: int = 0
    unreadable: dict[str, int] = field(default_factory=dict)

    @property
    def total_rotated(self) -> int:
        return sum(self.rotated.values())

    @property
    def total_unreadable(self) -> int:
        return sum(self.unreadable.values())


def encrypted_columns(metadata: MetaData = Base.metadata) -> dict[str, list[str]]:
    """{table name: [encrypted column names]} for every table that has any."""
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, ENCRYPTED_TYPES)]
        if names:
            found[table.name] = names
    return found


def rotate_all(engine: Engine, keys: list[str], batch_size: int = 500) -> RekeyReport:
    """Re-encrypt under keys[0] whatever any of `keys` can open."""
    if not keys:
        raise ValueError("no encryption keys given")
    primary = Fernet(keys[0].encode("ascii"))
    ring = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    report = RekeyReport()
    for table_name, columns in encrypted_columns().items():
        raw = _raw_table(Base.metadata.tables[table_name], columns)
        for column in columns:
            _rotate_column(engine, raw, column, primary, ring, batch_size, report)
    log.info("rotate-keys: %d values re-encrypted, %d already current, %d unreadable",
             report.total_rotated, report.already_current, report.total_unreadable)
    return report


def _raw_table(table: Table, columns: list[str]) -> Table:
    """The same table seen as bytes: its primary key and the encrypted columns."""
    return Table(
        table.name, MetaData(),
        *[Column(pk.name, pk.type, primary_key=True) for pk in table.primary_key.columns],
        *[Column(name, LargeBinary) for name in columns],
    )


def _rotate_column(engine: Engine, raw: Table, column: str, primary: Fernet, ring: MultiFernet,
                   batch_size: int, report: RekeyReport) -> None:
    key = f"{raw.name}.{column}"
    last = None
    while True:
        with engine.begin() as connection:
            rows = list(_batch(connection, raw, column, last, batch_size))
            for *row_id, token in rows:
                outcome = _rotate_one(connection, raw, column, tuple(row_id), bytes(token),
                                      primary, ring)
                if outcome == "rotated":
                    report.rotated[key] = report.rotated.get(key, 0) + 1
                elif outcome == "current":
                    report.already_current += 1
                else:
                    report.unreadable[key] = report.unreadable.get(key, 0) + 1
                    log.error("rotate-keys: %s row %s opens with none of the keys", key, row_id)
        if len(rows) < batch_size:
            return
        last = tuple(rows[-1][:-1])


def _batch(connection: Connection, raw: Table, column: str, after: tuple | None,
           size: int) -> Iterator[tuple]:
    """Keyset pagination on the primary key: stable while rows are being rewritten."""
    pks = list(raw.primary_key.columns)
    value = raw.c[column]
    query = select(*pks, value).where(value.is_not(None)).order_by(*pks).limit(size)
    if after is not None:
        query = query.where(tuple_(*pks) > tuple_(*after) if len(pks) > 1 else pks[0] > after[0])
    yield from (tuple(row) for row in connection.execute(query))


def _rotate_one(connection: Connection, raw: Table, column: str, row_id: tuple, token: bytes,
                primary: Fernet, ring: MultiFernet) -> str:
    try:
        primary.decrypt(token)
        return "current"
    except InvalidToken:
        pass
    try:
        fresh = ring.rotate(token)
    except InvalidToken:
        return "unreadable"
    same_row = [pk == value for pk, value in zip(raw.primary_key.columns, row_id, strict=True)]
    connection.execute(
        update(raw).where(*same_row, raw.c[column] == token).values({column: fresh})
    )
    return "rotated"
