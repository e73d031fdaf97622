"""FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from casework import __version__
from casework.api import (
    problems,
    routes_admin,
    routes_auth,
    routes_cases,
    routes_documents,
    routes_oidc,
    routes_records,
    routes_trust,
    routes_work,
    routes_workflow,
)
from casework.config import Settings
from casework.store.unit_of_work import Database


def create_app(db: Database | None = None) -> FastAPI:
    app = FastAPI(
        title="casework",
        version=__version__,
        description="Case management from intake to closure. Errors are RFC 9457 problem+json.",
    )
    app.state.db = db or Database(Settings.from_env().database_url)
    problems.install(app)
    for router in (routes_auth.router, routes_oidc.router, routes_cases.router, routes_records.router, routes_admin.router):
        app.include_router(router)
    for router in routes_workflow.routers:
        app.include_router(router)
    app.include_router(routes_work.router)
    app.include_router(routes_documents.router)
    app.include_router(routes_trust.router)
    app.add_middleware(routes_documents.UploadLimit)

    from casework import web

    web.install(app)

    # Make the Problem schema part of the OpenAPI components so responses can reference it.
    original = app.openapi

    def openapi() -> dict:  # type: ignore[type-arg]
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        from pydantic.json_schema import models_json_schema

        _, defs = models_json_schema([(problems.Problem, "serialization")], ref_template="#/components/schemas/{model}")
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        # A body that is not valid UTF-8 JSON text is refused by FastAPI with 400 before validation.
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    for code, declared in problems.responses(400).items():
                        operation.setdefault("responses", {}).setdefault(str(code), declared)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
