"""What the applications really serve, asked of the applications themselves (the aiohttp routers of
merchant-service and the simulator, the function server's routing table)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from fraud_functions.server import FunctionServer

App = web.Application | FunctionServer

# Paths of Flink's REST API (JobManager) the chart may probe; the TaskManager has no REST API.
FLINK_REST_PATHS = {"/config", "/overview", "/jobs/overview"}
PROMETHEUS_PATHS = {"/metrics"}


def all_routes(app: App) -> set[str]:
    """Every path the app routes, whatever the method."""
    if isinstance(app, FunctionServer):
        return set(app.routes)
    return {route.resource.canonical for route in app.router.routes() if route.resource is not None}


def get_routes(app: App) -> set[str]:
    """Static paths answered to GET."""
    if isinstance(app, FunctionServer):
        return {path for path, (method, _) in app.routes.items() if method == "GET"}
    return {
        route.resource.canonical
        for route in app.router.routes()
        if route.method in ("GET", "*") and route.resource is not None
    }


def functions_app() -> FunctionServer:
    from fraud_functions.scoring import load_model
    from fraud_functions.server import make_app
    from fraud_functions.settings import FunctionSettings

    settings = FunctionSettings.from_env({})
    return make_app(settings, load_model(settings.model_strategy, settings.model_path))


def merchant_app() -> web.Application:
    from merchant_service.app import make_app
    from merchant_service.settings import Settings

    return make_app(Settings())


def simulator_app() -> web.Application:
    from fraud_simulator.health import make_app

    return make_app()


def routes_by_image(values: Mapping[str, Any]) -> dict[str, tuple[str, set[str]]]:
    """image repository -> (env variable with the listening port, GET routes) for the chart's Python images."""
    images = values["images"]
    return {
        images["functions"]["repository"]: ("FUNCTIONS_PORT", get_routes(functions_app())),
        images["merchantService"]["repository"]: ("MERCHANT_SERVICE_PORT", get_routes(merchant_app())),
        images["simulator"]["repository"]: ("SIMULATOR_HEALTH_PORT", get_routes(simulator_app())),
    }


def flink_routes(flink: Mapping[str, Any], component: str) -> dict[int, set[str]]:
    """Ports and paths a Flink pod serves, from the FlinkDeployment's own configuration."""
    conf = flink["spec"]["flinkConfiguration"]
    served = {int(conf["metrics.reporter.prom.port"]): set(PROMETHEUS_PATHS)}
    if component == "jobManager":
        served[int(conf.get("rest.port", 8081))] = set(FLINK_REST_PATHS)
    return served
