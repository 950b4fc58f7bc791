"""localcloud's one WSGI entry: KMS RPC requests (x-acs-action header or Action parameter) and OSS requests
share a port, as the console's connections assume (the KMS endpoint defaults to the OSS host).

A simulated network delay (latency.py) and a fault drawn by faults.py (tests only) are decided here, before either
app reads or changes anything."""

from urllib.parse import parse_qs

from localcloud import faults, latency
from localcloud.oss.app import application as oss_application


def is_kms_request(environ) -> bool:
    """ACS3 requests name the action in a header; older RPC-signed ones in the query of `/`."""
    if "HTTP_X_ACS_ACTION" in environ:
        return True
    return environ.get("PATH_INFO", "/") == "/" and "Action" in parse_qs(environ.get("QUERY_STRING", ""))


def application(environ, start_response):
    latency.wait()
    fault = faults.draw(environ)
    if fault is not None and fault.drops_connection:
        raise faults.ConnectionDropped()
    if is_kms_request(environ):
        from localcloud.kms.api import application as kms_application

        return kms_application(environ, start_response, fault=fault)
    return oss_application(environ, start_response, fault=fault)
