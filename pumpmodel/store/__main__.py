"""``python -m pumpmodel.store upgrade|current|heads|revision -m MSG`` (database: ``PUMP_DATABASE_URL``)."""
from __future__ import annotations

import argparse
import sys

from alembic import command

from pumpmodel.store import db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pumpmodel.store", description=__doc__)
    parser.add_argument("action", choices=["upgrade", "current", "heads", "revision"])
    parser.add_argument("-m", "--message", help="revision: what the new migration does")
    args = parser.parse_args(argv)
    url = db.database_url()
    if args.action == "upgrade":
        db.migrate(db.create(url))
        print(f"schema at {db.head_revision()}")
    elif args.action == "current":
        print(db.current_revision(db.create(url)) or "(empty database)")
    elif args.action == "heads":
        print(db.head_revision())
    else:
        if not args.message:
            parser.error("revision needs -m MESSAGE")
        command.revision(db.alembic_config(url), message=args.message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
