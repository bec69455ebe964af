"""Clone, edit and delete against a real Azurite: each delete, and each refusal naming the user."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from core.errors import Conflict, NotFound
from core.execution import reuse
from core.registry import assets, datasets, endpoints, runs
from core.schedules import records as schedules
from core.schedules.records import ScheduleSpec
from core.service.facade import Submission
from core.service.lifecycle import InUse
from tests.core.schedules.helpers import publish_endpoint
from tests.core.service.test_service import run_inline, tutorial


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def trained(service) -> dict:
    run, job = service.submit(Submission(experiment=unique("lifecycle"), pipeline=tutorial()))
    run_inline(service, job)
    return service.get_run(run.run_id)


def test_registering_the_same_output_twice_gives_the_same_version(service, trained):
    name = unique("model")
    first = service.register_output(trained["run_id"], "train", "trained_model", name, "", "tester")
    again = service.register_output(trained["run_id"], "train", "trained_model", name, "", "tester")
    assert (first["version"], again["version"]) == (1, 1) and len(assets.versions(service.store, name)) == 1
    data = unique("scored")
    one = service.register_output(trained["run_id"], "score", "scored_dataset", data, "", "tester")
    two = service.register_output(trained["run_id"], "score", "scored_dataset", data, "", "tester")
    assert one["type"] == "dataset" and one["version"] == two["version"] == 1


def test_md_node_keeps_its_asset_through_publish_and_clone(service, trained):
    name = unique("model")
    service.register_output(trained["run_id"], "train", "trained_model", name, "", "tester")
    draft, _ = service.create_inference_pipeline(trained["run_id"], "batch")
    service.use_asset(draft.id, "MD-train", name, 1, None)
    endpoint = unique("ep")
    version = service.publish(draft.id, endpoint, "v1", True, "tester")
    published = service.artifacts.get_json(version.pipeline_ref)
    md = next(n for n in published["nodes"] if n["id"] == "MD-train")
    assert md["parameters"]["source_asset"] == f"{name}:1" and md["parameters"]["ref"].startswith(
        "artifacts/"
    )

    clone, problems = service.clone_endpoint_version(endpoint, version.version)
    assert problems == []
    _, doc = service.get_draft(clone.id)
    assert doc.node("MD-train").parameters == {"asset": name, "version": 1}
    assert "clone of" in clone.name

    with pytest.raises(InUse) as refused:
        service.lifecycle.delete_asset(name, 1, force=False)
    fields = {p.field for p in refused.value.problems}
    assert {f"pipeline_endpoint_version {endpoint}/1", f"draft {clone.id}", f"draft {draft.id}"} <= fields
    assert assets.versions(service.store, name)  # nothing deleted
    assert service.lifecycle.delete_asset(name, None, force=True) == [1]
    with pytest.raises(NotFound):
        assets.get(service.store, name)
    # The published version still runs: it holds the model itself, not the asset's name.
    run, job = service.submit_to_endpoint(endpoint, _body(), None, "tester")
    run_inline(service, job)
    assert runs.get_run(service.store, run.run_id).status == runs.RunStatus.FINISHED


def _body():
    from core.registry.submissions import EndpointSubmission

    return EndpointSubmission.model_validate({"ExperimentName": unique("after-delete")})


def test_a_dataset_version_pinned_by_a_published_version_refuses_deletion(service):
    name = unique("data")
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4], "c": [5, 6]})
    for _ in range(3):
        datasets.register(service.store, name, frame)
    endpoint, _ = publish_endpoint(service)
    doc = tutorial().model_dump(mode="json")
    doc["nodes"][0]["parameters"] = {"name": name, "version": 2}
    draft, _ = service.create_draft(type(tutorial()).model_validate(doc))
    service.publish(draft.id, endpoint, "pinned", False, "tester")
    with pytest.raises(InUse) as refused:
        service.lifecycle.delete_dataset(name, 2, force=False)
    assert {p.field for p in refused.value.problems} == {
        f"pipeline_endpoint_version {endpoint}/2",
        f"draft {draft.id}",
    }
    assert refused.value.problems[0].node == "automobile"
    assert service.lifecycle.delete_dataset(name, 3, force=False) == [3]  # nobody pins 3
    assert [v.version for v in datasets.versions(service.store, name)] == [1, 2]
    with pytest.raises(InUse):
        service.lifecycle.delete_dataset(name, None, force=False)
    assert service.lifecycle.delete_dataset(name, None, force=True) == [1, 2]
    assert service.store.list_blobs("datasets", f"{name}/") == []
    with pytest.raises(NotFound):
        service.lifecycle.delete_dataset(name, None, force=True)


def test_a_dataset_a_schedule_submits_with_is_named(service):
    endpoint, _ = publish_endpoint(service)
    name = unique("data")
    datasets.register(service.store, name, pd.DataFrame({"a": [1], "b": [2], "c": [3]}))
    spec = ScheduleSpec.model_validate(
        {
            "name": "s",
            "recurrence": {"cron": "0 2 * * *"},
            "submission": {
                "ExperimentName": "e",
                "DataSetDefinitionValueAssignments": {"input_data": {"SavedDataSetReference": {"Id": name}}},
            },
        }
    )
    made = service.schedules.create(endpoint, spec, None)
    try:
        with pytest.raises(InUse) as refused:
            service.lifecycle.delete_dataset(name, None, force=False)
        assert [p.code for p in refused.value.problems] == ["used_by_schedule"]
    finally:
        service.schedules.delete(endpoint, made["id"])


def test_default_and_rollback_targets_must_be_active(service):
    endpoint, _ = publish_endpoint(service)
    draft, _ = service.create_draft(_doc_of(service, endpoint))
    service.publish(draft.id, endpoint, "v2", True, "tester")
    endpoints.set_status(service.store, endpoint, "Disabled", "ops", version=1)
    with pytest.raises(Conflict) as refused:
        endpoints.set_default_version(service.store, endpoint, 1, "ops")
    assert refused.value.problems[0].code == "version_disabled"
    with pytest.raises(Conflict):
        endpoints.rollback_default(service.store, endpoint, "ops")
    assert endpoints.get(service.store, endpoint).default_version == 2
    endpoints.set_status(service.store, endpoint, "Active", "ops", version=1)
    assert endpoints.rollback_default(service.store, endpoint, "ops").default_version == 1


def _doc_of(service, endpoint):
    from core.pipelines.document import Pipeline

    entry = endpoints.get_version(service.store, endpoint, 1)
    return Pipeline.model_validate(service.artifacts.get_json(entry.pipeline_ref))


def test_endpoint_description_and_batch_settings_read_back(service):
    endpoint, _ = publish_endpoint(service)
    assert (
        endpoints.set_description(service.store, endpoint, "nightly scoring").description == "nightly scoring"
    )
    endpoints.set_batch_settings(service.store, endpoint, {"mini_batch_rows": 10})
    found = endpoints.get(service.store, endpoint)
    assert (found.description, found.batch_settings) == ("nightly scoring", {"mini_batch_rows": 10})


def test_deleting_an_endpoint_with_schedules_is_refused_then_takes_everything(service):
    endpoint, _ = publish_endpoint(service)
    spec = ScheduleSpec.model_validate(
        {"name": "nightly", "recurrence": {"cron": "0 2 * * *"}, "submission": {"ExperimentName": "e"}}
    )
    made = service.schedules.create(endpoint, spec, None)
    with pytest.raises(InUse) as refused:
        service.lifecycle.delete_pipeline_endpoint(endpoint, force=False, by="ops")
    assert refused.value.problems[0].code == "has_schedules" and made["id"] in refused.value.problems[0].field
    assert endpoints.get(service.store, endpoint).status == "Active"  # untouched
    assert service.lifecycle.delete_pipeline_endpoint(endpoint, force=True, by="ops") == {
        "versions": 1,
        "schedules": 1,
    }
    with pytest.raises(NotFound):
        endpoints.get(service.store, endpoint)
    assert service.store.partition(endpoints.VERSIONS, endpoint) == []
    assert service.store.partition(endpoints.AUDIT, endpoint) == []
    assert schedules.list_for(service.store, endpoint) == []
    assert service.store.partition(schedules.FIRINGS, made["id"]) == []


def test_runs_and_experiments_are_deleted_once_they_have_ended(service):
    experiment = unique("to-delete")
    going, _ = service.submit(
        Submission(experiment=experiment, pipeline=tutorial(), regenerate_outputs=True)
    )  # still going: nothing reused
    with pytest.raises(Conflict) as refused:
        service.lifecycle.delete_run(going.run_id)
    assert refused.value.problems[0].code == "run_in_progress"
    with pytest.raises(Conflict):
        service.lifecycle.delete_experiment(experiment)
    service.start_failed(going, "stopped by the test")
    done, job = service.submit(
        Submission(experiment=experiment, pipeline=tutorial(), regenerate_outputs=True)
    )
    run_inline(service, job)
    assert list(service.store.query(reuse.TABLE, "run_id eq @id", {"id": done.run_id}))
    service.lifecycle.delete_run(done.run_id)
    with pytest.raises(NotFound):
        runs.get_run(service.store, done.run_id)
    assert runs.get_nodes(service.store, done.run_id) == []
    assert list(service.store.query(reuse.TABLE, "run_id eq @id", {"id": done.run_id})) == []
    assert service.lifecycle.delete_experiment(experiment) == 1
    assert experiment not in runs.list_experiments(service.store)
    with pytest.raises(NotFound):
        service.lifecycle.delete_experiment(experiment)


def test_a_draft_is_deleted_and_nothing_else_goes(service, trained):
    draft, _ = service.clone_run(trained["run_id"])
    service.lifecycle.delete_draft(draft.id)
    with pytest.raises(NotFound):
        service.get_draft(draft.id)
    assert service.get_run(trained["run_id"])["status"] == "Finished"
