"""localcloud's HTTP server: cheroot, a multi-threaded production WSGI server that streams request
and response bodies and decodes chunked uploads, embeddable in a thread for tests."""

import threading

from cheroot import wsgi

from localcloud.wsgi import application


def make_server(host: str, port: int, threads: int) -> wsgi.Server:
    """`threads` bounds the requests handled at once: cheroot's pool does not grow, and a request waiting out a
    simulated latency (latency.py) holds its thread, so a job's requests in flight each need one."""
    server = wsgi.Server((host, port), application, numthreads=threads, server_name="localcloud")
    # Uploads of any size stream through; nothing is buffered whole.
    server.max_request_body_size = 0
    return server


class BackgroundServer:
    """A server on its own thread, for tests and benchmarks; `endpoint` is what oss2 should use."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, threads: int = 32):
        self.server = make_server(host, port, threads)
        self.thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host, port = self.server.bind_addr[:2]
        return f"http://{host}:{port}"

    def start(self) -> "BackgroundServer":
        self.server.prepare()
        self.thread = threading.Thread(target=self.server.serve, name="localcloud", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        if self.thread:
            self.thread.join(timeout=10)
