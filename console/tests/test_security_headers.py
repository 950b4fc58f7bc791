"""Security headers on every answer, and the settings that turn on those a TLS deployment needs."""

import json
import os
import subprocess
import sys

import pytest

INLINE = "'unsafe-inline'"


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/api/v1/buckets/", "/api/v1/docs/"])
def test_every_answer_allows_scripts_and_styles_from_the_console_only(client_as, viewer, path):
    policy = client_as(viewer).get(path)["Content-Security-Policy"]

    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";") if directive.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert INLINE not in policy and "unsafe-eval" not in policy


def _settings_under(**environment) -> dict:
    """The settings a fresh process computes from `environment` (they are read once, at start)."""
    program = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "console.settings", **environment}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1]}
    hsts, proxy, secure = json.loads(done.stdout)
    return {"hsts": hsts, "proxy": proxy, "secure_cookies": secure}


def test_hsts_is_sent_only_when_the_console_is_served_over_tls():
    assert _settings_under(SECURE_COOKIES="0")["hsts"] == 0
    assert _settings_under(SECURE_COOKIES="1") == {"hsts": 31536000, "proxy": None, "secure_cookies": True}


def test_a_tls_proxy_header_is_a_header_and_its_value():
    assert _settings_under(SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https")["proxy"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]
    refused = _settings_under(SECURE_PROXY_SSL_HEADER="https")
    assert "SECURE_PROXY_SSL_HEADER is a header and a value" in refused["error"]
