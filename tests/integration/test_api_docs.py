"""The API documents itself offline: Swagger UI, ReDoc and the OpenAPI document are served by
the function, every asset they load comes from it (no CDN), under the local ``/api`` mount as
well as at the root; and the document is valid OpenAPI with auth and problem answers."""

from __future__ import annotations

import asyncio
import copy
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import requests
import schemathesis

from shared.api.app import OPENAPI_PATH, create_app
from tests.integration import api_fixtures

api_url = api_fixtures.api_url

PROBLEM = "application/problem+json"
_JS_URL = re.compile(r"""\burl:\s*['"]([^'"]+)['"]""")


class _References(HTMLParser):
    """Every URL an HTML page makes the browser load: src, href, spec-url and Swagger's url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name in ("src", "href", "spec-url") and value:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.urls += _JS_URL.findall(data)


def _references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


def _check_page(page_url: str, html: str, prefix: str) -> dict[str, requests.Response]:
    """Fetch every reference of the page; all must be local, under ``prefix``, and answer 200."""
    assert "https://" not in html and "http://" not in html, "an absolute URL in the page"
    urls = _references(html)
    assert urls, "the page references nothing"
    fetched: dict[str, requests.Response] = {}
    for url in urls:
        assert url.startswith(f"{prefix}/"), url  # relative to the host, under the mount
        absolute = urljoin(page_url, url)
        assert urlsplit(absolute).netloc == urlsplit(page_url).netloc
        answer = requests.get(absolute, timeout=30)
        assert answer.status_code == 200, (url, answer.status_code)
        fetched[url] = answer
    return fetched


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets_through_the_functions_host(
    api_url: str, page: str
) -> None:
    answer = requests.get(f"{api_url}{page}", timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/html")
    prefix = urlsplit(api_url).path  # "/api": the functions host's mount point
    fetched = _check_page(f"{api_url}{page}", answer.text, prefix)

    kinds = {url.rsplit(".", 1)[-1]: response for url, response in fetched.items()}
    assert set(kinds) >= {"js", "json", "png"}
    assert "javascript" in kinds["js"].headers["Content-Type"]
    assert kinds["json"].json()["openapi"].startswith("3.")
    if page == "/docs":
        assert kinds["css"].headers["Content-Type"].startswith("text/css")
        assert len(kinds["js"].content) > 500_000  # the real Swagger UI bundle, not a stub
        assert '"validatorUrl": null' in answer.text  # no badge from validator.swagger.io
    else:
        assert len(kinds["js"].content) > 500_000  # the ReDoc standalone bundle


def test_docs_work_at_the_root_as_in_production() -> None:
    """No mount prefix (root_path ""): the same pages reference root-relative assets."""
    app = create_app()

    async def fetch_all() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            pages = {page: await client.get(page) for page in ("/docs", "/redoc")}
            answers = dict(pages)
            for page in pages.values():
                assert page.status_code == 200
                for url in _references(page.text):
                    assert url.startswith("/") and not url.startswith("/api/"), url
                    answers[url] = await client.get(url)
            return answers

    answers = asyncio.run(fetch_all())
    assert {url for url in answers if url.endswith(".js")} == {
        "/api-docs/static/swagger-ui-bundle.js",
        "/api-docs/static/redoc.standalone.js",
    }
    assert OPENAPI_PATH in answers
    assert all(answer.status_code == 200 for answer in answers.values())
    assert "servers" not in answers[OPENAPI_PATH].json()


def _document(api_url: str) -> dict[str, Any]:
    answer = requests.get(f"{api_url}{OPENAPI_PATH}", timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    document: dict[str, Any] = answer.json()
    return document


def test_the_openapi_document_is_valid_and_points_at_the_mount(api_url: str) -> None:
    document = _document(api_url)
    assert document["servers"] == [{"url": "/api"}]  # clients resolve paths under the mount
    schemathesis.openapi.from_dict(document).validate()

    broken = copy.deepcopy(document)
    broken["paths"]["/api/v1/whoami"]["get"]["responses"]["200"] = {"content": 7}
    with pytest.raises(Exception, match=r"content|description"):
        schemathesis.openapi.from_dict(broken).validate()  # the validator does look


def test_every_operation_documents_bearer_auth_and_its_problem_answers(api_url: str) -> None:
    document = _document(api_url)
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"title", "status"}
    assert "HTTPValidationError" not in document["components"]["schemas"]

    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert {path for path, _, _ in operations} >= {"/api/v1/whoami", "/api/v1/audit"}
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert path.startswith("/api/v1/"), where
        assert operation["security"] == [{"bearerAuth": []}], where
        responses = operation["responses"]
        expected = {"401", "429"}
        if "{" in path:
            expected.add("404")
        if method not in ("get", "head"):
            expected.add("409")
        if operation.get("parameters") or operation.get("requestBody"):
            expected.add("422")
        assert expected <= set(responses), (where, sorted(responses))
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == [PROBLEM], (where, status)
                ref = response["content"][PROBLEM]["schema"]["$ref"]
                assert ref == "#/components/schemas/Problem", (where, status)
        assert "Retry-After" in responses["429"]["headers"], where
        assert "WWW-Authenticate" in responses["401"]["headers"], where

    audit = document["paths"]["/api/v1/audit"]["get"]["responses"]
    assert "403" in audit  # admin only
    assert "403" not in document["paths"]["/api/v1/whoami"]["get"]["responses"]  # any role
