"""deploy/prometheus: the alerting rules are valid and name the gauges the service exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.monitoring import PSI_RETRAIN, SHIFT_RETRAIN

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = RULES_DIR / "segments-drift.rules.yml"
PROMTOOL = shutil.which("promtool")


def _rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_rules_name_only_exported_drift_gauges(classic_settings: Settings) -> None:
    settings = classic_settings.model_copy(update={"reload_interval": 0})
    with TestClient(create_app(settings)) as client:
        text = client.get("/metrics").text
    exported = set(re.findall(r"^# TYPE (segments_drift_\w+) gauge$", text, re.M))
    used = {name for rule in _rules() for name in re.findall(r"segments_\w+", str(rule["expr"]))}
    assert used <= exported
    assert used == {
        "segments_drift_status",
        "segments_drift_segment_psi",
        "segments_drift_feature_shift_sd",
        "segments_drift_atypical_rate",
        "segments_drift_atypical_expected_rate",
    }


def test_rules_use_the_monitoring_thresholds() -> None:
    rules = {str(rule["alert"]): rule for rule in _rules()}
    assert all({"expr", "for", "labels", "annotations"} <= set(rule) for rule in rules.values())
    assert str(rules["SegmentsMixShifted"]["expr"]).endswith(f">= {PSI_RETRAIN}")
    assert str(rules["SegmentsFeatureShifted"]["expr"]).endswith(f">= {SHIFT_RETRAIN}")


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    if PROMTOOL is None:  # .ci/run installs it; elsewhere the two tests above still run
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but promtool is not installed (apt-get install prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    check = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 5 rules found" in check.stdout
    tests = subprocess.run(
        [PROMTOOL, "test", "rules", "segments-drift.test.yml"],
        capture_output=True,
        text=True,
        cwd=RULES_DIR,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
