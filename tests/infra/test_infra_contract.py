"""The template and the code agree: every app setting the code reads is set by the
template (identity based, no keys), and the template creates exactly the
containers and tables the code uses (infra/storage-layout.json is the shared list)."""
from __future__ import annotations

import json
import re

import pytest

from tests.infra.bicep_text import INFRA, MODULES, ROOT, all_bicep_sources, object_keys, read

LAYOUT = json.loads(read(INFRA / "storage-layout.json"))
FUNCTIONAPP = read(MODULES / "functionapp.bicep")
COMMON_SETTINGS = object_keys(FUNCTIONAPP, "commonAppSettings")
PREMIUM_SETTINGS = object_keys(FUNCTIONAPP, "premiumAppSettings")
LOCAL_ONLY = {"DESIGNER_STORAGE_CONNECTION_STRING"}

# The settings named in the contract with core/settings.py (besides what the code greps to).
CONTRACT_SETTINGS = {
    "DESIGNER_BLOB_URL", "DESIGNER_TABLE_URL", "AZURE_CLIENT_ID", "DESIGNER_TASK_HUB",
    "DESIGNER_ARTIFACT_SIGNING_KEY", "DESIGNER_ENABLE_PYTHON_SCRIPT", "DESIGNER_ENABLE_SQL",
    "DESIGNER_MINI_BATCH_ROWS",
    "AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId",
    "DESIGNER_STORAGE__blobServiceUri", "DESIGNER_STORAGE__queueServiceUri",
    "DESIGNER_STORAGE__credential", "DESIGNER_STORAGE__clientId",
}


def settings_read_by_code() -> set[str]:
    source = read(ROOT / "core" / "settings.py")
    names = set(re.findall(r"\b(DESIGNER_[A-Z0-9_]*[A-Z0-9]|AZURE_CLIENT_ID)\b", source))
    return names - LOCAL_ONLY


# ---- storage layout -------------------------------------------------------------------

def test_layout_lists_are_unique_and_valid_names():
    containers, tables = LAYOUT["containers"], LAYOUT["tables"]
    assert len(set(containers)) == len(containers) and len(set(tables)) == len(tables)
    for name in containers:
        assert re.fullmatch(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]", name), name
    for name in tables:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,62}", name), name
    assert LAYOUT["batchInputContainer"] in containers


def test_code_uses_exactly_the_containers_and_tables_the_template_creates():
    import core.storage.store  # the lead's core package; this test fails until it exists

    assert sorted(core.storage.store.CONTAINERS) == sorted(LAYOUT["containers"])
    assert sorted(core.storage.store.TABLES) == sorted(LAYOUT["tables"])


def test_storage_module_creates_every_layout_container_and_table_privately():
    storage = read(MODULES / "storage.bicep")
    assert "loadJsonContent('../storage-layout.json')" in storage
    containers = re.search(r"resource dataContainers '[^']+/containers@[^']+' = "
                           r"\[for (\w+) in layout\.containers:(.*?)\n\}\]", storage, re.DOTALL)
    tables = re.search(r"resource dataTables '[^']+/tables@[^']+' = "
                       r"\[for (\w+) in layout\.tables:(.*?)\n\}\]", storage, re.DOTALL)
    assert containers and tables
    assert f"name: {containers.group(1)}" in containers.group(2)
    assert "publicAccess: 'None'" in containers.group(2)
    assert f"name: {tables.group(1)}" in tables.group(2)


# ---- app settings ---------------------------------------------------------------------

def test_every_setting_the_code_reads_is_set_by_the_template():
    read_by_code = settings_read_by_code()
    assert read_by_code, "core/settings.py reads no DESIGNER_* setting?"
    missing = sorted(read_by_code - set(COMMON_SETTINGS))
    assert not missing, f"core/settings.py reads settings the template does not set: {missing}"


def test_contract_settings_are_set_for_both_hosting_plans():
    missing = sorted(CONTRACT_SETTINGS - set(COMMON_SETTINGS))
    assert not missing, missing


def test_no_storage_connection_string_or_key_reaches_azure():
    for path, source in all_bicep_sources().items():
        assert "DESIGNER_STORAGE_CONNECTION_STRING" not in source, path
        assert "listKeys(" not in source, path
        assert "AccountKey=" not in source, path
        assert "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING" not in source, path
    settings = set(COMMON_SETTINGS) | set(PREMIUM_SETTINGS)
    assert "AzureWebJobsStorage" not in settings  # only the identity-based AzureWebJobsStorage__* form
    assert "DESIGNER_STORAGE" not in settings
    storage = read(MODULES / "storage.bicep")
    for line in ("allowSharedKeyAccess: false", "allowBlobPublicAccess: false", "minimumTlsVersion: 'TLS1_2'",
                 "supportsHttpsTrafficOnly: true"):
        assert line in storage


def test_identity_settings_use_the_user_assigned_identity():
    body = FUNCTIONAPP[FUNCTIONAPP.index("var commonAppSettings"):]
    for name in ("AzureWebJobsStorage__clientId", "DESIGNER_STORAGE__clientId", "AZURE_CLIENT_ID"):
        assert re.search(rf"\b{name}: identityClientId\b", body), name
    for name in ("AzureWebJobsStorage__credential", "DESIGNER_STORAGE__credential"):
        assert re.search(rf"\b{name}: 'managedidentity'", body), name
    assert "DESIGNER_ARTIFACT_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=${signingKeySecretUri})'" in body
    assert "keyVaultReferenceIdentity: identityId" in FUNCTIONAPP
    assert "httpsOnly: true" in FUNCTIONAPP and "minTlsVersion: '1.2'" in FUNCTIONAPP


def test_flex_gets_no_setting_flex_rejects():
    # Flex Consumption takes runtime/version from functionAppConfig and rejects these settings.
    flex_invalid = {"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION",
                    "FUNCTIONS_WORKER_PROCESS_COUNT",
                    "WEBSITE_RUN_FROM_PACKAGE", "SCM_DO_BUILD_DURING_DEPLOYMENT", "ENABLE_ORYX_BUILD",
                    "WEBSITE_CONTENTSHARE", "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT"}
    assert not flex_invalid & set(COMMON_SETTINGS)
    assert "union(commonAppSettings, isFlex ? {} : premiumAppSettings)" in FUNCTIONAPP


def test_host_json_references_are_app_settings():
    host = read(ROOT / "host.json")
    references = set(re.findall(r"%([A-Za-z0-9_]+)%", host))
    assert references, "host.json should take the task hub name from %DESIGNER_TASK_HUB%"
    assert not references - set(COMMON_SETTINGS)


# ---- bindings in the function code ----------------------------------------------------

def _function_sources() -> dict[str, str]:
    return {p.name: read(p) for p in sorted((ROOT / "functions").glob("*.py"))}


def test_binding_connections_are_identity_based_settings():
    connections = set()
    for source in _function_sources().values():
        connections |= set(re.findall(r"connection\s*=\s*[\"']([A-Za-z0-9_]+)[\"']", source))
    for connection in connections - {"AzureWebJobsStorage"}:
        prefix = f"{connection}__"
        assert f"{prefix}credential" in COMMON_SETTINGS, connection
        assert f"{prefix}clientId" in COMMON_SETTINGS, connection
        assert {f"{prefix}blobServiceUri", f"{prefix}serviceUri"} & set(COMMON_SETTINGS), connection


def test_blob_triggers_use_the_event_grid_source():
    # Flex Consumption runs only the Event Grid based blob trigger; a polling trigger never fires there.
    for name, source in _function_sources().items():
        for call in re.finditer(r"\.blob_trigger\((.*?)\)\s*\n", source, re.DOTALL):
            assert re.search(r"source\s*=\s*(func\.)?BlobSource\.EVENT_GRID|source\s*=\s*[\"']EventGrid[\"']",
                             call.group(1)), f"{name}: blob trigger without source=EventGrid"


# ---- roles ------------------------------------------------------------------------------

ROLE_IDS = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",  # deployer only
}


def test_only_the_expected_built_in_roles_are_assigned_at_resource_scope():
    guids = set()
    for path, source in all_bicep_sources().items():
        guids |= set(re.findall(r"'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'", source))
        assignments = re.findall(r"Microsoft\.Authorization/roleAssignments@[^']+' = .*?\n\}", source,
                                 re.DOTALL)
        for block in assignments:
            assert re.search(r"\n  scope: \w+", block), f"{path.name}: role assignment without resource scope"
            assert "scope: rg" not in block and "subscription()" not in block.split("roleDefinitionId")[0]
    assert guids == set(ROLE_IDS), {g: ROLE_IDS.get(g, "unexpected") for g in guids ^ set(ROLE_IDS)}
    roles = read(MODULES / "roles.bicep")
    app_roles = roles[roles.index("var appStorageRoles"):roles.index("resource storage")]
    assert "storageBlobDataContributor" not in app_roles  # the app gets Owner (host needs it), not both
    keyvault = read(MODULES / "keyvault.bicep")
    assert re.search(r"resource secretReader [^\n]+\n(.*\n)*?  scope: signingKey\n", keyvault)


@pytest.mark.parametrize("module", ["identity", "monitoring", "storage", "keyvault", "roles", "functionapp"])
def test_main_uses_every_module(module):
    main = read(INFRA / "main.bicep")
    assert re.search(rf"^module \w+ 'modules/{module}\.bicep' = \{{", main, re.MULTILINE)


def test_health_probe_path_is_an_anonymous_route_excluded_from_auth():
    main = read(INFRA / "main.bicep")
    path = re.search(r"^param healthCheckPath string = '([^']*)'", main, re.MULTILINE).group(1)
    if not path:
        return
    assert path.startswith("/api/")
    excluded = re.search(r"^param authExcludedPaths array = \[(.*?)\]", main,
                         re.MULTILINE | re.DOTALL).group(1)
    assert f"'{path}'" in excluded
    route = path.removeprefix("/api/")
    anonymous = [m for m in re.finditer(r"\.route\(([^)]*)\)", "\n".join(_function_sources().values()))
                 if re.search(rf"route\s*=\s*[\"']{re.escape(route)}[\"']", m.group(1))]
    assert anonymous, f"no function serves {path}"
    assert all("AuthLevel.ANONYMOUS" in m.group(1) for m in anonymous), f"{path} must be anonymous"
