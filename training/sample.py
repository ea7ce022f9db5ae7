"""A deterministic generator of realistic synthetic mall customers.

Five personas mirror the classic income x spending structure of the Mall Customers data;
ages and genders differ by persona. ``dirty=True`` adds what real exports contain: a few
missing values, a few invalid rows and a few duplicated ids.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["CLASSIC_COLUMNS", "PERSONAS", "generate_customers"]

CLASSIC_COLUMNS = ["CustomerID", "Genre", "Age", "Annual Income (k$)", "Spending Score (1-100)"]


class Persona(NamedTuple):
    share: float
    income: tuple[float, float]  # mean, sd in k$
    spending: tuple[float, float]  # mean, sd on 1-100
    age: tuple[float, float]  # mean, sd in years
    female: float  # probability


PERSONAS: dict[str, Persona] = {
    "standard": Persona(0.40, (55, 8), (50, 6), (43, 14), 0.58),
    "target": Persona(0.20, (87, 14), (82, 9), (33, 4), 0.54),
    "careful": Persona(0.18, (88, 14), (17, 10), (41, 11), 0.46),
    "careless": Persona(0.11, (26, 7), (79, 10), (25, 5), 0.59),
    "sensible": Persona(0.11, (26, 7), (21, 13), (45, 13), 0.61),
}


def generate_customers(n_rows: int, *, seed: int = 0, dirty: bool = True) -> pd.DataFrame:
    """Return ``n_rows`` customers with the classic file's headers.

    Parameters
    ----------
    n_rows : int
        Number of rows, >= 1.
    seed : int
        Same seed, same rows.
    dirty : bool
        Add ~1 % missing values, ~0.5 % invalid values and ~0.2 % duplicated ids.
    """
    if n_rows < 1:
        raise ValueError(f"n_rows={n_rows} should be >= 1")
    rng = np.random.default_rng(seed)
    personas = list(PERSONAS.values())
    shares = np.array([p.share for p in personas])
    which = rng.choice(len(personas), size=n_rows, p=shares / shares.sum())
    params = np.array([[*p.income, *p.spending, *p.age, p.female] for p in personas])[which]
    income = np.clip(rng.normal(params[:, 0], params[:, 1]), 15, 160).round()
    spending = np.clip(rng.normal(params[:, 2], params[:, 3]), 1, 100).round()
    age = np.clip(rng.normal(params[:, 4], params[:, 5]), 18, 75).round()
    gender = np.where(rng.random(n_rows) < params[:, 6], "Female", "Male")
    frame = pd.DataFrame(
        {
            "CustomerID": [f"{i:07d}" for i in range(1, n_rows + 1)],
            "Genre": gender.astype(object),
            "Age": age.astype(int).astype(object),
            "Annual Income (k$)": income.astype(int).astype(object),
            "Spending Score (1-100)": spending.astype(int).astype(object),
        }
    )
    return _make_dirty(frame, rng) if dirty else frame


def _make_dirty(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(frame)
    for column in CLASSIC_COLUMNS[1:]:
        frame.loc[rng.random(n) < 0.0025, column] = None
    invalid: dict[str, list[object]] = {
        "Age": ["abc", -4, 230],
        "Spending Score (1-100)": [250, 0, "high"],
        "Genre": ["x", "unknown"],
        "Annual Income (k$)": [-10, "n/a"],
    }
    for column, bad in invalid.items():
        rows = rng.random(n) < 0.00125
        values = [bad[i % len(bad)] for i in range(int(rows.sum()))]
        frame.loc[rows, column] = np.array(values, dtype=object)
    frame["Genre"] = frame["Genre"].where(rng.random(n) > 0.02, frame["Genre"].str.lower())
    dupes = np.flatnonzero(rng.random(n) < 0.002)
    if len(dupes):
        frame.loc[dupes, "CustomerID"] = frame.loc[
            rng.integers(0, n, len(dupes)), "CustomerID"
        ].to_numpy()
    return frame
