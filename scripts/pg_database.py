#!/usr/bin/env python3
"""Check that a PostgreSQL server answers (--check URL) or create its database (--create URL)."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", metavar="URL")
    parser.add_argument("--create", metavar="URL")
    args = parser.parse_args()
    url = make_url(args.check or args.create)
    admin = create_engine(
        url.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with admin.connect() as conn:
            if args.create:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
                ).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    except OperationalError as error:
        print(f"PostgreSQL did not answer: {type(error).__name__}", file=sys.stderr)
        return 1
    finally:
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
