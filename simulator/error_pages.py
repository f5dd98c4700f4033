"""Non-JSON error answers: the HTML and text that CDNs and web servers send instead of
an API's own error form."""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web

_CLOUDFLARE_PAGE = """<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html lang="en-US">
<head>
<title>{host} | {status}: {reason}</title>
<meta charset="UTF-8" />
<meta name="robots" content="noindex, nofollow" />
</head>
<body>
<div id="cf-wrapper">
  <div id="cf-error-details" class="p-0">
    <header class="mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8">
      <h1 class="inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark leading-tight mr-2">
        <span class="inline-block">{reason}</span>
        <span class="code-label">Error code {status}</span>
      </h1>
    </header>
    <div class="cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto text-center sm:text-left border-solid border-0 border-t border-gray-300">
      <p class="text-13">
        <span class="cf-footer-item sm:block sm:mb-1">Cloudflare Ray ID: <strong class="font-semibold">{ray}</strong></span>
        <span class="cf-footer-separator sm:hidden">&bull;</span>
        <span class="cf-footer-item sm:block sm:mb-1">Performance &amp; security by Cloudflare</span>
      </p>
    </div>
  </div>
</div>
</body>
</html>
"""

_NGINX_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

_RAY = "8c2f3a9b1d4e6f70-AMS"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def cloudflare_page(status: int, host: str) -> web.Response:
    """A Cloudflare error page for ``host`` with HTTP ``status``."""
    body = _CLOUDFLARE_PAGE.format(host=host, status=status, reason=_reason(status), ray=_RAY)
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        headers={"Server": "cloudflare", "CF-RAY": _RAY},
    )


def nginx_page(status: int) -> web.Response:
    """The stock nginx error page for HTTP ``status``."""
    body = _NGINX_PAGE.format(status=status, reason=_reason(status))
    return web.Response(status=status, text=body, content_type="text/html", headers={"Server": "nginx"})


def plain_text(status: int, text: str | None = None) -> web.Response:
    """A ``text/plain`` answer, by default the status phrase."""
    return web.Response(status=status, text=text if text is not None else _reason(status))
