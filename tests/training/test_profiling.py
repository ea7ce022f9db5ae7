from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.profiling import NamesError, load_names, profile_segments
from training.spec import load_spec


def _toy() -> tuple[pd.DataFrame, np.ndarray]:
    # Segment 0: rich, spends little; segment 1: poor, spends a lot.
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "annual_income": [100.0, 80.0, 20.0, 20.0],
            "spending_score": [10.0, 20.0, 90.0, np.nan],
            "age": [40.0, 50.0, 20.0, 30.0],
            "gender": ["Male", "Male", "Female", np.nan],
        }
    )
    return frame, np.array([0, 0, 1, 1])


def test_profile_segments_numbers_match_hand_computation() -> None:
    frame, labels = _toy()
    profile = profile_segments(frame, labels, load_spec("mall"))
    rich, poor = profile.segments
    assert (rich.size, rich.share, poor.size, poor.share) == (2, 0.5, 2, 0.5)
    income = rich.numeric["annual_income"]
    assert (income.mean, income.median, income.min, income.max) == (90.0, 90.0, 80.0, 100.0)
    assert (income.q1, income.q3) == (85.0, 95.0)
    # overall income mean 55, population std sqrt((45^2 + 25^2 + 35^2 + 35^2) / 4)
    assert income.z == pytest.approx((90 - 55) / np.sqrt(1275))
    assert poor.numeric["spending_score"].mean == 90.0  # the missing value is left out
    assert rich.categorical["gender"] == {"Female": 0.0, "Male": 1.0}
    assert poor.categorical["gender"] == {"Female": 1.0, "Male": 0.0}
    assert profile.overall_numeric["age"].mean == 35.0


def test_profile_segments_names_descriptions_actions() -> None:
    frame, labels = _toy()
    rich, poor = profile_segments(frame, labels, load_spec("mall")).segments
    assert rich.name == "High income · Low spending"
    assert poor.name == "Low income · High spending"
    assert rich.description.startswith("2 customers (50.0%): income averages 90.0 k$ (high)")
    assert rich.description.endswith("they buy less than most customers.")
    assert poor.description.endswith("they buy more than most customers.")
    assert rich.action.startswith("Win share of wallet")


def test_profile_segments_names_file_overrides_by_id_and_by_name(tmp_path: Path) -> None:
    path = tmp_path / "names.toml"
    path.write_text(
        '[0]\nname = "Careful"\n\n["Low income · High spending"]\ndescription = "Young and keen."\n'
    )
    frame, labels = _toy()
    rich, poor = profile_segments(frame, labels, load_spec("mall"), load_names(path)).segments
    assert rich.name == "Careful"
    assert poor.name == "Low income · High spending"
    assert poor.description == "Young and keen."


def test_load_names_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    path.write_text('{"0": {"colour": "red"}}')
    with pytest.raises(NamesError, match=r"segment '0': unknown key 'colour' \(allowed: name, "):
        load_names(path)


def test_profile_segments_duplicate_names_get_disambiguated() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "annual_income": [50.0, 50.0, 50.0, 50.0, 50.0, 50.0],
            "spending_score": [50.0, 50.0, 50.0, 50.0, 50.0, 50.0],
            "age": [20.0, 20.0, 70.0, 70.0, 45.0, 45.0],
            "gender": ["Male"] * 6,
        }
    )
    profile = profile_segments(frame, np.array([0, 0, 1, 1, 2, 2]), load_spec("mall"))
    names = [s.name for s in profile.segments]
    assert names == [
        "Mid income · Mid spending · Younger",
        "Mid income · Mid spending · Older",
        "Mid income · Mid spending · Middle-aged",
    ]
