"""The campaign file and the arm function: exact errors, deterministic and balanced arms."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from training.campaigns import CampaignError, arm, load_campaigns, parse_campaigns

GOOD = """
[[campaign]]
name = "spring-vip"
segments = [1, 3]
offer = "20 % off the spring collection"
holdout = 0.10
start = 2027-03-01
end = 2027-04-30

[[campaign]]
name = "winter"
segments = [3]
offer = "Free delivery"
start = 2027-04-30
end = 2027-05-31
outcome = { metric = "revenue", window_days = 30 }
"""
ONE = '[[campaign]]\nname = "a"\nsegments = [1]\noffer = "x"\nstart = 2027-03-01\n'


def test_parse_campaigns_reads_tables_with_defaults() -> None:
    book = parse_campaigns(GOOD, "c.toml")
    spring, winter = book.campaigns
    assert (spring.name, spring.segments, spring.holdout) == ("spring-vip", [1, 3], 0.10)
    assert (spring.start, spring.end) == (date(2027, 3, 1), date(2027, 4, 30))
    assert winter.holdout == 0.10
    assert winter.outcome is not None
    assert (winter.outcome.metric, winter.outcome.window_days) == ("revenue", 30)


A = "c.toml: campaign 'a': "
END = "end = 2027-04-01\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ONE + END + "holdout = 1.5\n", A + "holdout: Input should be less than 1"),
        (ONE + "end = 2027-02-01\n", A + "end 2027-02-01 is before start 2027-03-01"),
        (ONE.replace("[1]", "[1, 1]") + END, A + "segments: [1] listed twice"),
        (ONE.replace("[1]", "[]") + END,
         A + "segments: List should have at least 1 item after validation, not 0"),
        (ONE.replace("[1]", "[-1]") + END,
         A + "segments.0: Input should be greater than or equal to 0"),
        (ONE + END + "ofer = 'y'\n", A + "ofer: Extra inputs are not permitted"),
        (ONE.replace('name = "a"\n', ""), "c.toml: campaign #1: name: Field required"),
        (ONE, A + "end: Field required"),
        (ONE.replace('"a"', '"a b"') + END,
         "c.toml: campaign 'a b': name: String should match pattern "
         "'^[A-Za-z0-9][A-Za-z0-9._-]*$'"),
        (ONE + END + ONE + END, A + "name: used by campaign #1 too"),
        ("[[campaign]\n", "c.toml: not valid TOML: Expected ']]' at the end of an array "
         "declaration (at line 1, column 11)"),
        ("campaigns = 1\n", "c.toml: campaigns: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_parse_campaigns_errors_name_the_campaign_and_key(text: str, message: str) -> None:
    with pytest.raises(CampaignError) as caught:
        parse_campaigns(text, "c.toml")
    assert str(caught.value) == message


def test_load_campaigns_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match=r"^.*nope\.toml: campaign file not found$"):
        load_campaigns(tmp_path / "nope.toml")


def test_check_targets_names_the_version_and_its_segments() -> None:
    book = parse_campaigns(GOOD, "c.toml")
    book.check_targets(range(5), "v1")
    with pytest.raises(CampaignError) as caught:
        book.check_targets(range(3), "v1")
    assert str(caught.value) == (
        "c.toml: campaign 'spring-vip': segments: 3 not in model v1 (its segments: 0, 1, 2)"
    )


def test_arm_is_a_fixed_keyed_hash() -> None:
    # Pinned values: a change here reshuffles every running campaign.
    got = [arm("spring-vip", f"C-{i}", 0.5) for i in range(8)]
    assert got == [
        "holdout", "treatment", "holdout", "holdout",
        "treatment", "holdout", "treatment", "treatment",
    ]  # fmt: skip
    salted = [arm("spring-vip", f"C-{i}", 0.5, "s3cret") for i in range(64)]
    assert salted != [arm("spring-vip", f"C-{i}", 0.5) for i in range(64)]


@pytest.mark.parametrize("salt", ["", "s3cret"])
def test_arm_follows_the_documented_formula(salt: str) -> None:
    def reference(name: str, customer_id: str, holdout: float) -> str:
        message = f"{name}\x1f{customer_id}".encode()
        digest = hashlib.blake2b(message, digest_size=8, key=salt.encode()).digest()
        return "holdout" if int.from_bytes(digest, "big") < holdout * 2**64 else "treatment"

    for i in range(500):
        assert arm("spring-vip", f"C-{i}", 0.3, salt) == reference("spring-vip", f"C-{i}", 0.3)


def test_arm_is_balanced_on_100000_ids() -> None:
    n, holdout = 100_000, 0.10
    held = sum(arm("spring-vip", f"C-{i:06d}", holdout) == "holdout" for i in range(n))
    observed = np.array([held, n - held])
    chi2 = float(
        (
            (observed - n * np.array([holdout, 1 - holdout])) ** 2
            / (n * np.array([holdout, 1 - holdout]))
        ).sum()
    )
    assert chi2 < stats.chi2.ppf(0.999, df=1), (held, chi2)


def test_arm_raising_holdout_only_moves_treatment_to_holdout() -> None:
    ids = [f"C-{i}" for i in range(2000)]
    small = {i for i in ids if arm("x", i, 0.1) == "holdout"}
    large = {i for i in ids if arm("x", i, 0.3) == "holdout"}
    assert small < large


def test_arms_of_two_campaigns_are_independent() -> None:
    ids = [f"C-{i}" for i in range(20_000)]
    a = np.array([arm("a", i, 0.5) == "holdout" for i in ids])
    b = np.array([arm("b", i, 0.5) == "holdout" for i in ids])
    table = [[int((a & b).sum()), int((a & ~b).sum())], [int((~a & b).sum()), int((~a & ~b).sum())]]
    assert stats.chi2_contingency(table).pvalue > 0.001


def test_book_targets_active_campaigns_by_segment_and_day() -> None:
    book = parse_campaigns(GOOD, "c.toml")
    assert [c.name for c in book.targeting(3, date(2027, 4, 30))] == ["spring-vip", "winter"]
    assert [c.name for c in book.targeting(3, date(2027, 5, 1))] == ["winter"]
    assert book.targeting(2, date(2027, 4, 30)) == ()
    assert book.targeting(1, date(2027, 2, 28)) == ()
    answers = book.arms(3, "C-1", date(2027, 4, 30))
    assert [(a["name"], a["arm"]) for a in answers] == [
        ("spring-vip", arm("spring-vip", "C-1", 0.10)),
        ("winter", arm("winter", "C-1", 0.10)),
    ]
    column = book.column([3, 2], ["C-1", "C-2"], date(2027, 4, 30))
    assert column == [f"spring-vip={answers[0]['arm']};winter={answers[1]['arm']}", ""]
