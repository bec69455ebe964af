"""A real-time endpoint's own OpenAPI document: its columns, its keys, and the route it scores at.

Built here, beside the routes, because the paths it names are the HTTP layer's."""

from __future__ import annotations

from typing import Any

from core.serving.deployments import RealtimeEndpoint
from functions import links


def swagger(endpoint: RealtimeEndpoint, base_url: str) -> dict[str, Any]:
    """An OpenAPI 3 document of the endpoint's request and response."""
    types = {
        "integer": {"type": "integer", "format": "int64"},
        "number": {"type": "number", "format": "double"},
        "string": {"type": "string"},
        "boolean": {"type": "boolean"},
    }
    row = {
        "type": "object",
        "properties": {c.name: {**types[c.type], "nullable": True} for c in endpoint.schema_},
        "required": [c.name for c in endpoint.schema_ if c.required],
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{endpoint.name} real-time endpoint",
            "version": str(endpoint.deployment),
            "description": endpoint.description,
        },
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {
                "Bearer": {"type": "http", "scheme": "bearer"},
                "ApiKey": {"type": "apiKey", "in": "header", "name": "api-key"},
            },
            "schemas": {
                "Row": row,
                "Dropped": {
                    "type": "object",
                    "required": ["row", "node", "reason"],
                    "properties": {
                        "row": {"type": "integer", "description": "0-based index in the request"},
                        "node": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
        "security": [{"Bearer": []}, {"ApiKey": []}],
        "paths": {
            links.realtime_score(endpoint.name): {
                "post": {
                    "summary": "Score rows",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["Inputs"],
                                    "properties": {
                                        "Inputs": {
                                            "type": "object",
                                            "required": [endpoint.input_name],
                                            "properties": {
                                                endpoint.input_name: {
                                                    "type": "array",
                                                    "items": {"$ref": "#/components/schemas/Row"},
                                                }
                                            },
                                        },
                                        "GlobalParameters": {"type": "object"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Scored rows; input rows a step removed (e.g. Clean Missing "
                            "Data's 'Remove entire row') are listed in dropped_rows",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "Results": {
                                                "type": "object",
                                                "properties": {
                                                    endpoint.output_name: {
                                                        "type": "array",
                                                        "items": {"type": "object"},
                                                    }
                                                },
                                            },
                                            "dropped_rows": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Dropped"},
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        "400": {
                            "description": "The request does not fit the schema; every problem is listed"
                        },
                        "401": {"description": "Missing or wrong key (or no such endpoint)"},
                    },
                }
            }
        },
    }
