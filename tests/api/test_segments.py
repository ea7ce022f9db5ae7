"""GET /segments and /segments/{segment_id}."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.schemas import SegmentDetail, SegmentList
from training.train import TrainResult


def test_read_segments_lists_every_segment(client: TestClient, classic_model: TrainResult) -> None:
    response = client.get("/segments")
    assert response.status_code == 200
    body = SegmentList.model_validate(response.json())
    assert body.model_version == classic_model.manifest.model_version
    assert [s.segment_id for s in body.segments] == list(range(classic_model.manifest.n_clusters))
    assert {s.since_version for s in body.segments} == {classic_model.manifest.model_version}
    expected = {s.name: s for s in classic_model.profile.segments}
    for segment in body.segments:
        profile = expected[segment.name]
        assert (segment.size, segment.share, segment.action) == (
            profile.size,
            profile.share,
            profile.action,
        )
        assert segment.typical["annual_income"] == profile.numeric["annual_income"].median
        assert segment.typical["gender"] in {"Female", "Male"}


def test_read_segment_returns_profile_and_distances(
    client: TestClient, classic_model: TrainResult
) -> None:
    response = client.get("/segments/1")
    assert response.status_code == 200
    body = SegmentDetail.model_validate(response.json())
    assert body.model_dump(exclude={"model_version", "distance_percentiles", "since_version"}) == (
        classic_model.profile.segments[1].model_dump()
    )
    assert body.since_version == classic_model.manifest.model_version
    assert body.distance_percentiles == classic_model.manifest.distance_percentiles["1"]


def test_read_segment_unknown_id_lists_valid_ids(client: TestClient) -> None:
    for segment_id in (5, 99):
        response = client.get(f"/segments/{segment_id}")
        assert response.status_code == 404
        assert response.json() == {
            "detail": f"segment {segment_id} not found; valid ids: 0, 1, 2, 3, 4"
        }


def test_read_segment_id_must_be_a_number(client: TestClient) -> None:
    response = client.get("/segments/high")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["path", "segment_id"], "value_error")
