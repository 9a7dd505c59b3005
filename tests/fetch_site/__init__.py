"""A local stand-in for the public web, for ``toxiclinks audit --fetch`` tests and benchmarks.

One server on 127.0.0.1 acts as the HTTP(S) proxy the fetcher finds in the environment and serves
pages by their full URL, so exports can keep real-looking public hostnames:

* ``http://`` URLs arrive in absolute form (``GET http://host/path``);
* ``https://`` URLs arrive through a ``CONNECT host:443`` tunnel, which the server ends with TLS
  itself, presenting a certificate for that host signed by its own certificate authority (made
  afresh per server; ``SSL_CERT_FILE`` points the fetcher's client at it and nothing else).

``robots.txt`` answers 404 (no rules) unless a host is given one. Every request is logged by full
URL. Nothing leaves the machine: the fetcher resolves no name it can hand to the proxy (see
``toxiclinks.fetch._net``), and the proxy itself resolves nothing.

    with serve(pages, robots={"blog.example.com": "User-agent: *\\nDisallow: /private/"}) as site:
        with site.environment():          # HTTP(S)_PROXY, NO_PROXY="", SSL_CERT_FILE
            ...                           # fetch; site.log lists what was requested
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import ssl
import tempfile
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: A page as served: status, extra headers, body.
Page = tuple[int, dict[str, str], bytes]
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                    "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")


def html_page(body: str, *, title: str = "A page", lang: str = "en") -> bytes:
    """A small HTML document."""
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body>{body}</body></html>").encode()


class _Authority:
    """A throw-away certificate authority and the server-side TLS context of each host it signs for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "toxiclinks test proxy CA")])
        now = dt.datetime.now(dt.UTC)
        public = self.key.public_key()
        self.cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.key, hashes.SHA256()))
        self.ca_file = folder / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.key_file = folder / "leaf-key.pem"
        self.key_file.write_bytes(self.leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.contexts: dict[str, ssl.SSLContext] = {}
        self.lock = threading.Lock()

    def context(self, host: str) -> ssl.SSLContext:
        """The TLS context that presents a certificate for ``host``."""
        with self.lock:
            if host not in self.contexts:
                now = dt.datetime.now(dt.UTC)
                public = self.leaf_key.public_key()
                cert = (
                    x509.CertificateBuilder()
                    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
                    .issuer_name(self.cert.subject).public_key(public)
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
                    .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                    .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                                   critical=False)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                   critical=False)
                    .sign(self.key, hashes.SHA256()))
                cert_file = self.folder / f"{len(self.contexts)}.pem"
                cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(cert_file, self.key_file)
                self.contexts[host] = ctx
            return self.contexts[host]


class _Handler(BaseHTTPRequestHandler):
    """Serves the site's pages by full URL, directly (absolute-form) or inside a CONNECT tunnel."""

    protocol_version = "HTTP/1.1"  # keep-alive, so a tunnel carries the requests that follow it
    # Each answer leaves in one write, without Nagle's wait: headers and body sent apart would
    # otherwise wait for a delayed ACK (40 ms or more per request).
    wbufsize = -1
    disable_nagle_algorithm = True
    server: Server
    tunnel: str | None = None  # "https://host[:port]" once a CONNECT tunnel is up

    def log_message(self, *args: object) -> None:
        pass

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.authority.context(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = tls.makefile("wb")
        self.tunnel = f"https://{host}" + ("" if port in ("", "443") else f":{port}")

    def do_GET(self) -> None:
        url = self.path if self.tunnel is None else self.tunnel + self.path
        self.server.record(url)
        parts = urlsplit(url)
        if parts.path == "/robots.txt":
            rules = self.server.robots.get(parts.hostname or "")
            if rules is None:
                return self._send(404, {"Content-Type": "text/plain"}, b"no robots.txt")
            return self._send(200, {"Content-Type": "text/plain"}, rules.encode())
        status, headers, body = self.server.pages.get(url, (404, {}, b"<h1>Not found</h1>"))
        return self._send(status, headers, body)

    def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    """The proxy and its pages; ``log`` lists every requested URL in order."""

    daemon_threads = True

    def __init__(self, pages: Mapping[str, Page], robots: Mapping[str, str], folder: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages = dict(pages)
        self.robots = dict(robots)
        self.authority = _Authority(folder)
        self.log: list[str] = []
        self._lock = threading.Lock()

    def record(self, url: str) -> None:
        with self._lock:
            self.log.append(url)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def page_requests(self, since: int = 0) -> list[str]:
        """Requested URLs other than robots.txt, from position ``since`` of the log."""
        with self._lock:
            return [u for u in self.log[since:] if urlsplit(u).path != "/robots.txt"]

    def variables(self) -> dict[str, str]:
        """The environment that sends the fetcher here: proxies for http and https, nothing
        bypassed (NO_PROXY empty), and this server's certificate authority as the only one trusted."""
        proxy = self.proxy_url
        return {"HTTP_PROXY": proxy, "http_proxy": proxy, "HTTPS_PROXY": proxy, "https_proxy": proxy,
                "NO_PROXY": "", "no_proxy": "", "SSL_CERT_FILE": str(self.authority.ca_file)}

    @contextlib.contextmanager
    def environment(self) -> Iterator[None]:
        """Set :meth:`variables` (and clear other proxy settings) for the block."""
        saved = {name: os.environ.get(name) for name in _PROXY_VARIABLES}
        for name in _PROXY_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(self.variables())
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextlib.contextmanager
def serve(pages: Mapping[str, Page], robots: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Run the proxy with ``pages`` (full URL → page) until the block ends."""
    with tempfile.TemporaryDirectory(prefix="toxiclinks-proxy-") as folder:
        server = Server(pages, robots or {}, Path(folder))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
