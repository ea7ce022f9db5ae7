"""The artifact modules are the only readers and writers of an artifact's files.

One reader of ``cleaned.csv`` means one rule for a missing value; one typed spec in the
manifest means nobody re-parses it; one reader of ``LATEST`` means one set of checks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training import artifact
from training.artifact import SEGMENT_COLUMN, load_artifact, read_cleaned
from training.manifest import Manifest
from training.scoring import load_scorer
from training.spec import SegmentationSpec
from training.train import TrainOptions, train

ROOT = Path(__file__).resolve().parents[2]
FILE_NAMES = {"cleaned.csv", "rejected.csv", "profile.json", "manifest.json", "manifest.sig",
              "pipeline.skops", "pipeline.joblib", "LATEST"}  # fmt: skip
NAME_CONSTANTS = {"CLEANED", "REJECTED", "PROFILE", "MANIFEST", "SIGNATURE", "PIPELINE",
                  "LEGACY_PIPELINE", "LATEST"}  # fmt: skip


def _outside_the_artifact_modules() -> list[Path]:
    files = sorted((ROOT / "training").rglob("*.py")) + sorted((ROOT / "service").rglob("*.py"))
    return [p for p in files if not p.name.startswith("artifact")]


def _uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and node.value in FILE_NAMES:
            found.append(repr(node.value))
        elif isinstance(node, ast.alias) and node.name in NAME_CONSTANTS:
            found.append(node.name)
        elif isinstance(node, ast.Attribute) and node.attr in NAME_CONSTANTS:
            found.append(node.attr)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "parse_spec":
            found.append("parse_spec()")
    return found


def test_only_the_artifact_modules_name_its_files() -> None:
    uses = {
        str(p.relative_to(ROOT)): found
        for p in _outside_the_artifact_modules()
        if (found := _uses(p)) and p.name != "spec.py"  # spec.py: load_spec -> parse_spec
    }
    assert uses == {}


def test_manifest_spec_is_typed() -> None:
    assert Manifest.model_fields["spec"].annotation is SegmentationSpec


SPEC = """
name = "regions"
[id]
name = "customer_id"
[[features]]
name = "region"
kind = "categorical"
role = "cluster"
allowed = ["NA", "EU", "None"]
[[features]]
name = "spend"
kind = "numeric"
role = "cluster"
min = 0
max = 1000
"""


def test_read_cleaned_one_missing_value_rule(tmp_path: Path) -> None:
    # "NA" (North America) and "None" are categories here: only an empty cell is missing.
    rng = np.random.default_rng(0)
    regions = np.array(["NA", "EU", "None", ""])[np.arange(80) % 4]
    spend = np.round(rng.uniform(0, 1000, 80), 1)
    data = pd.DataFrame({"customer_id": [f"C{i}" for i in range(80)], "region": regions,
                         "spend": spend})  # fmt: skip
    data.to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "regions.toml").write_text(SPEC)
    options = TrainOptions(
        data=tmp_path / "customers.csv",
        spec=str(tmp_path / "regions.toml"),
        models_dir=tmp_path / "models",
        k_min=2,
        k_max=3,
        report=False,
    )
    result = train(options)
    loaded = load_artifact(options.models_dir)
    frame = read_cleaned(loaded)
    assert list(frame.columns) == ["customer_id", "region", "spend", SEGMENT_COLUMN]
    assert frame["region"].value_counts(dropna=False).to_dict() == {
        "NA": 20, "EU": 20, "None": 20, np.nan: 20,
    }  # fmt: skip
    assert frame[SEGMENT_COLUMN].tolist() == result.labels.tolist()
    load_scorer(loaded)  # the scorer agrees with Pipeline.predict on the same rows
    assert artifact.read_rejected(loaded, 10).empty


@pytest.mark.parametrize("name", sorted(FILE_NAMES))
def test_file_names_are_defined_once(name: str) -> None:
    defined = [value for value in vars(artifact).values() if value == name]
    assert len(defined) == 1
