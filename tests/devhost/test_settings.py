"""local.settings.json and host.json, read as `func start` reads them."""

import json

import pytest

from devhost.settings import HostConfig, apply_local_settings, read_host_config


def test_local_settings_fill_the_environment_but_never_override_it(tmp_path):
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"IsEncrypted": False, "Values": {"A": "from-file", "B": "from-file", "N": 3}})
    )
    environ = {"A": "from-env"}
    assert apply_local_settings(tmp_path, environ) == {"B": "from-file", "N": "3"}
    assert environ == {"A": "from-env", "B": "from-file", "N": "3"}


def test_missing_or_encrypted_local_settings(tmp_path):
    assert apply_local_settings(tmp_path, {}) == {}
    (tmp_path / "local.settings.json").write_text(json.dumps({"IsEncrypted": True, "Values": {}}))
    with pytest.raises(ValueError, match="encrypted"):
        apply_local_settings(tmp_path, {})


def test_host_json(tmp_path):
    assert read_host_config(tmp_path, {}) == HostConfig()
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "extensions": {
                    "http": {"routePrefix": ""},
                    "durableTask": {"hubName": "%HUB_SETTING%", "maxConcurrentActivityFunctions": 3},
                },
            }
        )
    )
    assert read_host_config(tmp_path, {"HUB_SETTING": "MyHub"}) == HostConfig(
        route_prefix="", task_hub="MyHub", max_concurrent_activities=3
    )
    assert read_host_config(tmp_path, {}).task_hub == "DevHostHub"  # unresolved: default
