"""host.json, local.settings.json.example, azure.yaml and the azd parameters file."""
from __future__ import annotations

import json
import re

from tests.infra.bicep_text import INFRA, MODULES, ROOT, object_keys, params, read

HOST = json.loads(read(ROOT / "host.json"))
LOCAL = json.loads(read(ROOT / "local.settings.json.example"))
DURABLE = HOST["extensions"]["durableTask"]
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _timespan_seconds(value: str) -> int:
    h, m, s = (int(part) for part in value.split(":"))
    return h * 3600 + m * 60 + s


def test_host_json_basics():
    assert HOST["version"] == "2.0"
    assert HOST["extensionBundle"] == {"id": "Microsoft.Azure.Functions.ExtensionBundle",
                                       "version": "[4.*, 5.0.0)"}
    assert 30 * 60 <= _timespan_seconds(HOST["functionTimeout"]) <= 4 * 3600


def test_durable_task_settings():
    assert DURABLE["hubName"] == "%DESIGNER_TASK_HUB%"
    # Extended sessions are .NET-only; on Python they can silently stop orchestrations.
    assert DURABLE["extendedSessionsEnabled"] is False
    assert 1 <= DURABLE["maxConcurrentActivityFunctions"] <= 4
    assert 1 <= DURABLE["maxConcurrentOrchestratorFunctions"] <= 50
    provider = DURABLE["storageProvider"]
    assert provider["partitionCount"] == 4
    # Flex Consumption guidance: poll at most every 10 seconds.
    assert _timespan_seconds(provider["maxQueuePollingInterval"]) <= 10
    assert "connectionName" not in provider and "connectionStringName" not in provider  # AzureWebJobsStorage
    assert DURABLE["tracing"]["traceInputsAndOutputs"] is False


def test_logging_keeps_framework_noise_down():
    levels = HOST["logging"]["logLevel"]
    assert levels["default"] == "Information"
    assert levels["DurableTask.AzureStorage"] == levels["DurableTask.Core"] == "Warning"


def test_local_settings_example_targets_azurite():
    assert LOCAL["IsEncrypted"] is False
    values = LOCAL["Values"]
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    conn = values["DESIGNER_STORAGE_CONNECTION_STRING"]
    assert "AccountName=devstoreaccount1" in conn and f"AccountKey={AZURITE_KEY}" in conn
    for port in (10000, 10001, 10002):
        assert f"http://127.0.0.1:{port}/devstoreaccount1" in conn
    assert values["DESIGNER_STORAGE"] == conn  # the batch-scoring blob trigger connection
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,44}", values["DESIGNER_TASK_HUB"])
    assert values["DESIGNER_ARTIFACT_SIGNING_KEY"] == "local-dev-only-change-me"
    assert values["DESIGNER_ENABLE_PYTHON_SCRIPT"] == values["DESIGNER_ENABLE_SQL"] == "false"
    for azure_only in ("DESIGNER_BLOB_URL", "DESIGNER_TABLE_URL", "AZURE_CLIENT_ID"):
        assert azure_only not in values


def test_azure_yaml_points_azd_at_the_function_app_and_infra():
    text = read(ROOT / "azure.yaml")
    assert re.search(r"^name: \S+", text, re.MULTILINE)
    assert re.search(r"^infra:\n(  .*\n)*  path: infra\n", text, re.MULTILINE)
    service = re.search(r"^services:\n  api:\n((?:    .*\n)+)", text, re.MULTILINE)
    assert service, "services.api missing"
    body = service.group(1)
    for line in ("project: .", "language: python", "host: function"):
        assert f"    {line}\n" in body
    hook = re.search(r"run: (\S+)", text).group(1)
    assert (ROOT / hook).is_file()
    functionapp = read(MODULES / "functionapp.bicep")
    assert "param serviceName string = 'api'" in functionapp
    assert "'azd-service-name': serviceName" in functionapp


def test_parameters_file_matches_main_bicep():
    declared = params(read(INFRA / "main.bicep"))
    supplied = json.loads(read(INFRA / "main.parameters.json"))["parameters"]
    unknown = set(supplied) - set(declared)
    assert not unknown, f"ARM rejects parameters the template does not declare: {unknown}"
    required = {name for name, has_default in declared.items() if not has_default}
    # azd generates the signing key itself (@metadata azd.type 'generate'); nothing else may be left out.
    assert required - set(supplied) == {"artifactSigningKey"}
    assert "artifactSigningKey" not in supplied
    for name, entry in supplied.items():
        assert re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*(=[^}]*)?\}", entry["value"]), name


def test_signing_key_is_generated_by_azd_and_secure():
    main = read(INFRA / "main.bicep")
    block = main[:main.index("param artifactSigningKey string")].rsplit("@description", 1)[1]
    assert "@secure()" in block and "type: 'generate'" in block
    assert "newGuid()" not in main  # a new key on every provision would orphan signed artifacts


def test_flex_function_app_config():
    functionapp = read(MODULES / "functionapp.bicep")
    flex = functionapp[functionapp.index("var flexFunctionAppConfig"):functionapp.index("resource plan")]
    assert "type: 'blobContainer'" in flex and "type: 'UserAssignedIdentity'" in flex
    assert "name: 'python'" in flex and "version: '3.11'" in flex
    assert "instanceMemoryMB: instanceMemoryMB" in flex
    assert "maximumInstanceCount: maximumInstanceCount" in flex
    assert "name: 'FC1'" in functionapp and "tier: 'FlexConsumption'" in functionapp
    assert "tier: 'ElasticPremium'" in functionapp
    assert object_keys(functionapp, "premiumAppSettings")[:2] == ["FUNCTIONS_EXTENSION_VERSION",
                                                                 "FUNCTIONS_WORKER_RUNTIME"]


def test_python_thread_pool_covers_the_durable_concurrency_limits():
    # Durable must not load more work than the Python worker can run at once (threads x processes).
    functionapp = read(MODULES / "functionapp.bicep")
    threads = int(re.search(r"PYTHON_THREADPOOL_THREAD_COUNT: '(\d+)'", functionapp).group(1))
    flex_activity = re.search(r"var flexActivityConcurrency = (.*)", functionapp).group(1)
    max_activity = max(int(n) for n in re.findall(r"\? (\d+) :|: (\d+)\)", flex_activity) for n in n if n)
    http = int(re.search(r"param httpPerInstanceConcurrency int = (\d+)", functionapp).group(1))
    assert DURABLE["maxConcurrentActivityFunctions"] <= max_activity
    assert threads >= DURABLE["maxConcurrentOrchestratorFunctions"] + max_activity
    assert threads >= http
    local_threads = int(LOCAL["Values"]["PYTHON_THREADPOOL_THREAD_COUNT"])
    durable_total = DURABLE["maxConcurrentOrchestratorFunctions"] + DURABLE["maxConcurrentActivityFunctions"]
    assert local_threads >= durable_total
