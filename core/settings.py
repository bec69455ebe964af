"""Application settings, read once per process from an environment mapping.

Reading happens in :meth:`Settings.from_env`, called by the function layer on first use, never
at import time, so tests and the local host can build settings from any mapping.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

TRUE_WORDS = {"1", "true", "yes", "on"}
# Proxy settings: the storage SDKs' HTTP client reads the environment for them on each request.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


class Settings(BaseModel):
    """Everything the app reads from its app settings."""

    storage_connection_string: str | None = Field(
        default=None, description="Azurite / local only. In Azure the URLs below are used."
    )
    blob_url: str | None = None
    table_url: str | None = None
    managed_identity_client_id: str | None = None
    task_hub: str = "designer"
    artifact_signing_key: str = Field(min_length=16, repr=False)
    enable_python_script: bool = False
    enable_sql: bool = False
    mini_batch_rows: int = Field(default=100_000, ge=1)
    trust_client_principal: bool = Field(
        False,
        description="Record the caller from App Service authentication's headers (only when "
        "that authentication is on, since it is what strips forged ones)",
    )
    storage_client_environment: bool = Field(
        True,
        description="The storage HTTP client reads proxy settings from the environment on every "
        "request; off when the environment sets none, which saves most of a millisecond of CPU "
        "per request",
    )
    storage_ca_bundle: str | None = Field(
        None, description="CA bundle the storage HTTP client verifies with (else its default)"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def flag(name: str) -> bool:
            return env.get(name, "false").strip().lower() in TRUE_WORDS

        return cls(
            storage_connection_string=env.get("DESIGNER_STORAGE_CONNECTION_STRING") or None,
            blob_url=env.get("DESIGNER_BLOB_URL") or None,
            table_url=env.get("DESIGNER_TABLE_URL") or None,
            managed_identity_client_id=env.get("AZURE_CLIENT_ID") or None,
            task_hub=env.get("DESIGNER_TASK_HUB") or "designer",
            artifact_signing_key=env.get("DESIGNER_ARTIFACT_SIGNING_KEY", ""),
            enable_python_script=flag("DESIGNER_ENABLE_PYTHON_SCRIPT"),
            enable_sql=flag("DESIGNER_ENABLE_SQL"),
            mini_batch_rows=int(env.get("DESIGNER_MINI_BATCH_ROWS") or 100_000),
            trust_client_principal=flag("DESIGNER_TRUST_CLIENT_PRINCIPAL"),
            storage_client_environment=any(k.lower() in PROXY_VARIABLES and v for k, v in env.items()),
            storage_ca_bundle=next((env[k] for k in CA_BUNDLE_VARIABLES if env.get(k)), None),
        )
