from booking.auth.models import Role


def assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "http" not in csp  # no third-party host
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_headers_on_a_public_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_headers_on_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_security_headers(response)
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


def test_500_page_in_own_layout_without_stack_trace(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    boom._access_rule = "public"
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert_security_headers(response)
    assert "Etwas ist schiefgelaufen" in body
    assert "secret internals" not in body
    assert "Traceback" not in body


def test_413_for_oversized_body(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=100)
    response = app.test_client().post("/login", data={"email": "x" * 500, "password": "y"})
    assert response.status_code == 413
    assert_security_headers(response)


def test_405_in_own_layout(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert_security_headers(response)


def test_staff_pages_are_not_cached(client, auth, make_staff):
    user = make_staff(Role.ADMIN)
    auth.login(user.email)
    for path in ("/admin/", "/admin/staff", "/staff/"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store", path
        assert_security_headers(response)


def test_session_cookie_flags(app_factory, make_staff):
    app = app_factory(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        email = make_staff().email
    response = app.test_client().post(
        "/login", data={"email": email, "password": "correct horse battery"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_pages_load_nothing_from_other_hosts(client):
    html = client.get("/").get_data(as_text=True) + client.get("/login").get_data(as_text=True)
    assert "http://" not in html.replace("http://localhost", "")
    assert "https://" not in html


def test_behind_a_proxy_rate_limits_count_per_client(app_factory):
    app = app_factory(PROXY_FIX_HOPS=1, LOGIN_LIMIT_PER_IP="2 per minute")
    client = app.test_client()

    def attempt(ip: str) -> int:
        return client.post(
            "/login",
            data={"email": f"x{ip}@example.org", "password": "x"},
            headers={"X-Forwarded-For": ip},
        ).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert attempt("203.0.113.2") == 200  # another family behind the same proxy
