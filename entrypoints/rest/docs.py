"""The API's own documentation: ``/openapi.json``, Swagger UI at ``/docs``, ReDoc at ``/redoc``,
and ``/`` pointing at them.

Swagger UI and ReDoc are vendored under ``static/`` with their licences (Swagger UI 5.33.1,
Apache-2.0; ReDoc 2.5.4, MIT, as shipped by the drf-spectacular-sidecar distribution), so the
pages work with no internet. Every URL in the pages is relative, so they also work behind a
proxy that mounts the service under a prefix.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from domain.client_input import quoted
from entrypoints.rest import openapi, rendering
from entrypoints.rest.errors import ApiError
from entrypoints.rest.app_keys import SETTINGS, USE_CASES

STATIC_DIR = Path(__file__).parent / "static"
# Only the files shipped, by name: nothing else under the package can be reached.
ASSETS = {f"{path.parent.name}/{path.name}": path for path in STATIC_DIR.glob("*/*") if path.is_file()}

_SWAGGER_UI = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Crypto Data Engine API</title>
  <link rel="stylesheet" href="docs/static/swagger-ui/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/static/swagger-ui/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/static/swagger-ui/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      validatorUrl: null,
      deepLinking: true
    });
  </script>
</body>
</html>
"""

_REDOC = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Crypto Data Engine API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>body { margin: 0; padding: 0; }</style>
</head>
<body>
  <redoc spec-url="openapi.json"></redoc>
  <script src="docs/static/redoc/redoc.standalone.js"></script>
</body>
</html>
"""


async def openapi_json(request: web.Request) -> web.Response:
    """GET /openapi.json: the OpenAPI document of this service's settings."""
    settings = request.app[SETTINGS]
    functions = request.app[USE_CASES].get_indicators.function_names()
    document = openapi.document(
        tuple(settings.supported_intervals), tuple(settings.supported_symbols), settings.metrics_enabled, functions
    )
    return rendering.json_response(document)


async def index(request: web.Request) -> web.Response:
    """GET /: a short JSON pointing at the documentation and health (not a bare 404)."""
    return rendering.model_response(rendering.service_index())


async def swagger_ui(request: web.Request) -> web.Response:
    """GET /docs: Swagger UI."""
    return web.Response(text=_SWAGGER_UI, content_type="text/html")


async def redoc(request: web.Request) -> web.Response:
    """GET /redoc: ReDoc."""
    return web.Response(text=_REDOC, content_type="text/html")


async def asset(request: web.Request) -> web.FileResponse:
    """GET /docs/static/{bundle}/{file}: one vendored asset (unknown names: 404 in the envelope)."""
    path = ASSETS.get(f"{request.match_info['bundle']}/{request.match_info['file']}")
    if path is None:
        raise ApiError(404, "NOT_FOUND", f"no such asset: {quoted(request.path)}")
    response = web.FileResponse(path)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def setup_docs(app: web.Application) -> None:
    """Register the documentation routes and their static assets."""
    app.router.add_get("/", index)
    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/docs", swagger_ui)
    app.router.add_get("/redoc", redoc)
    app.router.add_get("/docs/static/{bundle}/{file}", asset)
