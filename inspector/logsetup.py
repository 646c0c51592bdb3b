"""Logging for the long-running commands (``serve``, ``demo``): a level, and text or JSON lines.

Text is for a person at a terminal; JSON (one object per line: time, level, logger, message,
and the traceback when there is one) is for log shippers. Uvicorn's loggers go through the same
handler, so its access log (``--access-log``) comes out in the same format.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


LEVELS = ("debug", "info", "warning", "error")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record; fields a shipper indexes, nothing that needs parsing again."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "info", fmt: LogFormat = LogFormat.TEXT) -> None:
    """Send every logger (ours, uvicorn's, the libraries') to stderr at ``level`` in ``fmt``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt is LogFormat.JSON else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per HTTP request the station makes to its platform is noise; failures are ours to log.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.getLevelName(level.upper()), logging.WARNING))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def add_logging_options(parser: argparse.ArgumentParser) -> None:
    """``--log-level``, ``--log-format`` and ``--access-log`` for a command that runs for a while."""
    parser.add_argument(
        "--log-level",
        choices=LEVELS,
        default="info",
        help="least severe messages shown (default %(default)s)",
    )
    parser.add_argument(
        "--log-format",
        choices=[f.value for f in LogFormat],
        default=LogFormat.TEXT.value,
        help="text for a terminal, json (one object per line) for a log shipper (default text)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        default=None,
        help="log every HTTP request (client, method, path, status) at level info",
    )


def configure_from_args(args: argparse.Namespace) -> None:
    configure_logging(args.log_level, LogFormat(args.log_format))
