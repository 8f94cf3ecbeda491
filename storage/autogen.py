"""Write a new migration from the models: `python -m storage.autogen "what changed"`.

It diffs the models against a scratch SQLite database at the current head, so the
result does not depend on any developer's local database.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from storage.migrate import alembic_config, upgrade


def main(message: str, rev_id: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'autogen.db'}")
        upgrade(engine)
        command.revision(
            alembic_config(engine), message=message, autogenerate=True, rev_id=rev_id
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "schema change",
         sys.argv[2] if len(sys.argv) > 2 else None)
