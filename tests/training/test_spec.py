from __future__ import annotations

from pathlib import Path

import pytest

from training.spec import SpecError, load_spec, normalise_header

VALID = """
name = "custom"
[id]
name = "customer_id"
[[features]]
name = "visits"
kind = "numeric"
role = "cluster"
min = 0
max = 1000
"""


def test_load_spec_bundled_mall() -> None:
    spec = load_spec("mall")
    assert spec.numeric_cluster == ["annual_income", "spending_score"]
    assert spec.categorical_cluster == []
    assert [f.name for f in spec.features if f.role == "profile"] == ["age", "gender"]
    assert spec.feature("spending_score").min == 1
    assert spec.feature("spending_score").max == 100
    assert spec.feature("gender").allowed == ("Female", "Male")


def test_load_spec_bundled_mall_full_clusters_on_everything() -> None:
    spec = load_spec("mall-full")
    assert spec.numeric_cluster == ["annual_income", "spending_score", "age"]
    assert spec.categorical_cluster == ["gender"]


def test_header_map_knows_classic_and_snake_case_headers() -> None:
    mapping = load_spec("mall").header_map()
    for header, name in [
        ("CustomerID", "customer_id"),
        ("Genre", "gender"),
        ("Gender", "gender"),
        ("Annual Income (k$)", "annual_income"),
        ("Spending Score (1-100)", "spending_score"),
        ("spending_score", "spending_score"),
        (" AGE ", "age"),
    ]:
        assert mapping[normalise_header(header)] == name


def test_load_spec_from_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text(VALID)
    spec = load_spec(path)
    assert spec.name == "custom"
    assert spec.numeric_cluster == ["visits"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            VALID.replace('kind = "numeric"', 'kind = "text"'),
            r"spec .*: features\[0\]\.kind: Input should be 'numeric' or 'categorical'",
        ),
        (
            VALID.replace('role = "cluster"', 'role = "profile"'),
            r"at least one feature needs role = 'cluster'",
        ),
        (VALID.replace("min = 0\nmax = 1000", "min = 5\nmax = 1"), r"min=5.0 should be <= max=1.0"),
        (
            VALID.replace("min = 0", "colour = 'red'"),
            r"features\[0\]\.colour: Extra inputs are not permitted",
        ),
        (VALID.replace('[id]\nname = "customer_id"', "[id]"), r"spec .*: id\.name: Field required"),
        (
            VALID.replace('kind = "numeric"', 'kind = "categorical"').replace("min = 0", ""),
            r"needs a non-empty 'allowed' list",
        ),
        ("name = ", r"not valid TOML"),
        (
            VALID.replace("min = 0", ""),
            r"features\[0\]: Value error, a numeric cluster feature needs both 'min' and 'max'",
        ),
    ],
)
def test_load_spec_malformed_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_load_spec_unknown_name() -> None:
    with pytest.raises(
        SpecError, match=r"spec 'nope' is neither a bundled spec \(mall, mall-full, rfm\)"
    ):
        load_spec("nope")
