"""Registration that a rerun finishes instead of repeating: one version per registration key.

The registering run carries the key (a run tag) from its first write, and, once the model is
logged, the version tags it will give the version (``PLANNED_TAGS``). A rerun with the same key
(the training execution resumed after a crash) looks for that run first:

- its version exists (found by run id, which MLflow sets when it creates the version): the tags
  still missing are set, and that version is the result;
- the run finished but no version was made: the version is made from it;
- the run never finished (the crash came while logging): it is marked failed and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from truckflow.faults import fault_point

__all__ = ["KEY_TAG", "PLANNED_TAGS", "create_version", "plan", "resume_registration"]

KEY_TAG = "truckflow.registration_key"
PLANNED_TAGS = "truckflow.version_tags"
_SOURCE_TAG = "truckflow.version_source"


def create_version(
    client: Any, name: str, source: str, run_id: str, tags: Mapping[str, str]
) -> str:
    """Create the version, then set its tags one by one (a crash in between is completed by
    ``resume_registration``)."""
    created = client.create_model_version(name, source=source, run_id=run_id)
    version = str(created.version)
    fault_point("registration.version_created")
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    return version


def plan(client: Any, run_id: str, source: str, tags: Mapping[str, str]) -> None:
    """Record on the run what its version will be: source and tags."""
    client.set_tag(run_id, _SOURCE_TAG, source)
    client.set_tag(run_id, PLANNED_TAGS, json.dumps(dict(tags), sort_keys=True))


def _complete(client: Any, name: str, version: Any, planned: Mapping[str, str]) -> str:
    have = dict(version.tags or {})
    for key, value in planned.items():
        if key not in have:
            client.set_model_version_tag(name, str(version.version), key, value)
    return str(version.version)


def resume_registration(client: Any, name: str, experiment_id: str, key: str) -> str | None:
    """The version of an earlier registration with ``key``, completed; None when there is
    none to finish (start afresh)."""
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{key}'", max_results=50
    )
    for run in runs:
        planned_text = run.data.tags.get(PLANNED_TAGS)
        if run.info.status != "FINISHED" or planned_text is None:
            if run.info.status == "RUNNING":
                client.set_terminated(run.info.run_id, status="FAILED")
            continue
        planned = json.loads(planned_text)
        versions = client.search_model_versions(f"run_id = '{run.info.run_id}'")
        mine = [v for v in versions if v.name == name]
        if mine:
            first = min(mine, key=lambda v: int(v.version))
            return _complete(client, name, first, planned)
        source = run.data.tags[_SOURCE_TAG]
        return create_version(client, name, source, run.info.run_id, planned)
    return None
