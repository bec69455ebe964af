"""The azd postdeploy hook, run against a stand-in `az` that records its calls."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from tests.infra.bicep_text import INFRA

HOOK = INFRA / "hooks" / "postdeploy.sh"

FAKE_AZ = """#!/bin/sh
printf '%s\\n' "$*" >> "$AZ_LOG"
case "$*" in
  "functionapp function list"*blobTrigger*) printf '%s\\n' "$FAKE_FUNCTION" ;;
  "functionapp function list"*) printf '%s\\n' "$FAKE_ALL" ;;
  "functionapp keys list"*) echo "blob-key-123" ;;
  "functionapp show"*) echo "func-designer-x.azurewebsites.net" ;;
  "eventgrid system-topic event-subscription create"*) : ;;
  *) echo "unexpected az call: $*" >&2; exit 9 ;;
esac
"""


@pytest.fixture
def fake_az(tmp_path):
    if not shutil.which("sh"):
        pytest.skip("no POSIX sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(FAKE_AZ)
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "az.log"
    log.touch()

    def run(function_listing: str, all_functions: str = "func-designer-x/http_start",
            **extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "AZ_LOG": str(log),
            "FAKE_FUNCTION": function_listing,
            "FAKE_ALL": all_functions,
            "AZURE_RESOURCE_GROUP": "rg-test",
            "AZURE_FUNCTION_APP_NAME": "func-designer-x",
            "EVENTGRID_SYSTEM_TOPIC_NAME": "evgt-x",
            "BATCH_INPUT_CONTAINER": "batch-input",
            "POSTDEPLOY_ATTEMPTS": "2",
            "POSTDEPLOY_DELAY_SECONDS": "0",
            **extra,
        }
        proc = subprocess.run(["sh", str(HOOK)], capture_output=True, text=True, env=env, timeout=60,
                              check=False)
        return proc, log.read_text().splitlines()

    return run


def test_hook_subscribes_the_blob_triggered_function(fake_az):
    proc, calls = fake_az("func-designer-x/score_batch_blob")
    assert proc.returncode == 0, proc.stderr
    create = [c for c in calls if c.startswith("eventgrid system-topic event-subscription create")]
    assert len(create) == 1
    call = create[0]
    assert ("--endpoint https://func-designer-x.azurewebsites.net/runtime/webhooks/blobs"
            "?functionName=Host.Functions.score_batch_blob&code=blob-key-123") in call
    assert "--system-topic-name evgt-x" in call and "--resource-group rg-test" in call
    assert "--included-event-types Microsoft.Storage.BlobCreated" in call
    assert "--subject-begins-with /blobServices/default/containers/batch-input/" in call
    assert "blob-key-123" not in proc.stdout  # the system key is not echoed


def test_hook_uses_an_explicit_function_name(fake_az):
    proc, calls = fake_az("", BATCH_SCORING_FUNCTION_NAME="my_scorer")
    assert proc.returncode == 0, proc.stderr
    assert not any(c.startswith("functionapp function list") for c in calls)
    assert any("functionName=Host.Functions.my_scorer&" in c for c in calls)


def test_hook_skips_when_the_app_has_no_blob_trigger(fake_az):
    proc, calls = fake_az("")
    assert proc.returncode == 0, proc.stderr
    assert "skipping" in proc.stdout
    assert not any("event-subscription" in c for c in calls)


def test_hook_fails_when_no_function_is_deployed(fake_az):
    proc, calls = fake_az("", all_functions="")
    assert proc.returncode == 1
    assert "did the deployment succeed" in proc.stderr
    assert not any("event-subscription" in c for c in calls)


def test_hook_requires_the_azd_environment():
    proc = subprocess.run(["sh", str(HOOK)], capture_output=True, text=True, timeout=30, check=False,
                          env={"PATH": os.environ["PATH"]})
    assert proc.returncode != 0
    assert "AZURE_RESOURCE_GROUP" in proc.stderr
