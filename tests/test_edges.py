"""The server's edges: health, login links and cookie sessions, cross-site writes, the test clock, config."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.people import Api
from workroom.app import create_app
from workroom.config import ConfigError, Settings
from workroom.services import Services


async def test_healthz_ok(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "db": "ok", "broker": "ok"}


async def test_healthz_names_the_failing_database(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    # Nothing listens on port 1: the database is the failing part, the broker is fine.
    services = Services(make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/none", tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services=services)),
                                 base_url="http://testserver") as http:
        response = await http.get("/healthz")
    await services.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing" and body["db"].startswith("failing") and body["broker"] == "ok"


async def test_login_link_sets_a_session_cookie(api: Api, http: httpx.AsyncClient) -> None:
    room = await api.room()
    response = await http.get(f"/login?token={room['client'].token}")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = await http.get("/api/me")
    assert me.status_code == 200 and me.json()["email"] == room["client"].email
    # Same-origin write with the cookie works; a cross-site one is refused and stores nothing.
    same = await http.post(f"/api/rooms/{room.id}/messages", json={"body": "from the page"},
                           headers={"Origin": "http://testserver"})
    assert same.status_code == 201 and same.json()["source"] == "web"
    cross = await http.post(f"/api/rooms/{room.id}/messages", json={"body": "forged"},
                            headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and cross.json()["error"]["code"] == "cross_site_request"
    no_origin = await http.post(f"/api/rooms/{room.id}/messages", json={"body": "forged"})
    assert no_origin.status_code == 403
    bodies = [e["data"].get("body") for e in await api.events(room, room["client"])]
    assert bodies == [None, "from the page"]


async def test_bad_login_links(http: httpx.AsyncClient) -> None:
    assert (await http.get("/login")).status_code == 401
    bad = await http.get("/login?token=not-a-jwt")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "not_authenticated"
    http.cookies.set("workroom_session", "a_1.forged.sig")
    forged_cookie = await http.get("/api/me")
    assert forged_cookie.status_code == 401


async def test_test_clock_moves_forward_only(api: Api, http: httpx.AsyncClient) -> None:
    before = (await http.get("/api/test-clock")).json()["now"]
    moved = await api.advance("P1DT2H")
    assert moved["now"] > before
    for body, status in [({"advance": "tomorrow"}, 422), ({}, 422), ({"advance": "P1D", "now": before}, 422),
                         ({"now": before}, 409), ({"advance": "-P1D"}, 422)]:
        response = await http.post("/api/test-clock", json=body)
        assert response.status_code == status, (body, response.text)


async def test_no_test_clock_in_production(services: Services, tmp_path: Path) -> None:
    from tests.conftest import make_settings

    settings = make_settings(services.settings.database_url, tmp_path, WORKROOM_TEST_CLOCK="0")
    app = create_app(services=Services(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        assert (await http.post("/api/test-clock", json={"advance": "P30D"})).status_code == 404


@pytest.mark.parametrize("env,variable", [
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
    ({"WORKROOM_MAX_UPLOAD_BYTES": "lots"}, "WORKROOM_MAX_UPLOAD_BYTES"),
    ({"WORKROOM_POLICY": "generous"}, "WORKROOM_POLICY"),
    ({"WORKROOM_DB_POOL_SIZE": "0"}, "WORKROOM_DB_POOL_SIZE"),
    ({"WORKROOM_TEST_CLOCK": "maybe"}, "WORKROOM_TEST_CLOCK"),
    ({"WORKROOM_SECRET": "short"}, "WORKROOM_SECRET"),
    ({"DATABASE_URL": "postgresql+asyncpg://x/y"}, "WORKROOM_SECRET"),
    ({"SMTP_URL": "mail.example.com"}, "SMTP_URL"),
])
def test_bad_configuration_names_the_variable(env: dict[str, str], variable: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"WORKROOM_VAR_DIR": str(tmp_path), **env})
    assert variable in str(error.value)


def test_embedded_secret_is_generated_once(tmp_path: Path) -> None:
    first = Settings.from_env({"WORKROOM_VAR_DIR": str(tmp_path)})
    second = Settings.from_env({"WORKROOM_VAR_DIR": str(tmp_path)})
    assert first.secret == second.secret and len(first.secret) >= 32
    assert first.embedded and first.database_url.endswith("workroom.db")


def test_bad_configuration_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "workroom.cli", "migrate"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "WORKROOM_VAR_DIR": str(tmp_path), "WORKROOM_POLICY": "x"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "workroom: configuration error: WORKROOM_POLICY must be one of default, marketplace-2026, got 'x'"]


async def test_the_page_and_its_icon_are_served(http: httpx.AsyncClient) -> None:
    page = await http.get("/")
    assert page.status_code == 200 and '<link rel="icon" href="/static/favicon.svg"' in page.text
    icon = await http.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_run_refuses_a_taken_port_with_one_line(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "workroom.cli", "run", "--port", "0"], capture_output=True,
                                text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "WORKROOM_VAR_DIR": str(tmp_path),
                                                            "WORKROOM_SMTP_PORT": str(port)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"workroom: port {port} on 127.0.0.1 is already in use; choose another with WORKROOM_SMTP_PORT")
