"""JSON logs: one object per line, with the model version, never customer data.

Configured at the entry points only: uvicorn's ``--log-config`` (``service/logging.json``,
set by :func:`service.main.uvicorn_argv`) and :func:`service.main.app_factory`. uvicorn's
own access log is off; :class:`service.context.RequestContextMiddleware` writes ours (method,
route template, status, duration, model version).

Only an allow-list of record attributes is written, so an ``extra=`` can never carry a
request body into the logs by accident.
"""

from __future__ import annotations

import json
import logging
import logging.config
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic_core

if TYPE_CHECKING:
    from service.state import ModelHolder

__all__ = ["LOG_CONFIG", "JsonFormatter", "ModelVersionFilter", "configure_logging"]

LOG_CONFIG = Path(__file__).with_name("logging.json")
FIELDS = ("model_version", "method", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "model_version", ...}`` on one line.

    Written for every request (the access line), so its cost counts: the second's text is
    kept from one line to the next and the JSON is written by pydantic-core.
    """

    _second: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        """``2026-01-31T12:00:00.123+00:00`` (UTC, milliseconds), as ``isoformat`` writes it."""
        fraction, whole = math.modf(created)
        second, micros = int(whole), round(fraction * 1e6)  # datetime.fromtimestamp's rounding
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        millis = micros // 1000
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._second[1]}.{millis:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record.__dict__
        entry |= {name: fields[name] for name in FIELDS if name in fields}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return pydantic_core.to_json(entry, fallback=str).decode()


class ModelVersionFilter(logging.Filter):
    """Stamp each record with the version this worker serves (unless it names one)."""

    def __init__(self, holder: ModelHolder) -> None:
        super().__init__()
        self.holder = holder

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "model_version"):
            model = self.holder.current
            record.model_version = model.version if model is not None else None
        return True


def configure_logging(holder: ModelHolder | None = None) -> None:
    """JSON on stderr for every logger (uvicorn's included), stamped from ``holder``."""
    # No thread or process names in our lines: the logging cookbook's optimisation (an
    # access line is written per request, and a record built without them costs less).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        logging.config.dictConfig(json.loads(LOG_CONFIG.read_text()))
    if holder is not None:
        for handler in root.handlers:
            for old in [f for f in handler.filters if isinstance(f, ModelVersionFilter)]:
                handler.removeFilter(old)
            handler.addFilter(ModelVersionFilter(holder))
