"""Constants of the bundled transactions sample (the rfm model is in tests/conftest.py,
shared with the dashboard's tests)."""

from __future__ import annotations

from tests.conftest import SAMPLE_TX

__all__ = ["SAMPLE_CUSTOMERS", "SAMPLE_SEED", "SAMPLE_TX"]

SAMPLE_CUSTOMERS = 1000
SAMPLE_SEED = 0
