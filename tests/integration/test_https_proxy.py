"""common/'s HTTPS client through an HTTP CONNECT proxy, driven through the
test-only `https_get` program ($HTTPS_GET): the threaded CONNECT proxy of
connect_proxy.py (optional Basic credentials, a log of the tunnels it opened,
refusals on demand) in front of a real HTTPS server on 127.0.0.1 (ssl + http.server, its
certificates made by the openssl command). Also the unverified fetch of a CA
for pinning against a fingerprint. Python 3 standard library only."""
import http.server
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from connect_proxy import ConnectProxy

TIMEOUT = 60
BODY = b"hello through the tunnel\n"


def https_get():
    path = os.environ.get("HTTPS_GET")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"HTTPS_GET={path!r}: the built https_get program; ctest sets it")
    return path


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=TIMEOUT)


def make_certificates(directory):
    """ca.pem signs server.pem (IP:127.0.0.1, DNS:localhost); other-ca.pem signs nothing here."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for name in ("ca", "other-ca"):
        openssl("req", "-x509", *ec, "-days", "2", "-subj", f"/CN=valise test {name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=directory)
    openssl("req", *ec, "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr",
            cwd=directory)
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem",
            cwd=directory)


def openssl_fingerprint(pem):
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(pem)],
                         check=True, capture_output=True, text=True, timeout=TIMEOUT)
    return out.stdout.strip()  # "sha256 Fingerprint=AB:CD:..."


class HttpsServer:
    """GET /hello answers BODY, GET /ca.pem the CA certificate; records the SNI names."""

    def __init__(self, directory):
        self.server_names = []
        ca_pem = (directory / "ca.pem").read_bytes()
        names = self.server_names

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so that one tunnel carries many requests

            def do_GET(self):
                body = {"/hello": BODY, "/ca.pem": ca_pem}.get(self.path)
                self.send_response(200 if body is not None else 404)
                body = body if body is not None else b"not found\n"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(directory / "server.pem", directory / "server.key")
        context.sni_callback = lambda sock, name, ctx: names.append(name)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ProxyTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="valise-proxy-test-"))
        make_certificates(cls.dir)
        cls.ca = cls.dir / "ca.pem"
        cls.https = HttpsServer(cls.dir)
        cls.origin = f"127.0.0.1:{cls.https.port}"

    @classmethod
    def tearDownClass(cls):
        cls.https.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def proxy(self, **kwargs):
        p = ConnectProxy(**kwargs)
        self.addCleanup(p.close)
        return p

    def get(self, url, *args, env=None):
        environment = {k: v for k, v in os.environ.items()
                       if k.lower() not in ("https_proxy", "no_proxy")}
        environment.update(env or {})
        return subprocess.run([https_get(), url, *map(str, args)], capture_output=True, text=True,
                              timeout=TIMEOUT, env=environment)

    def assertOk(self, r, body=BODY.decode()):
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("HTTP 200\n", r.stdout)
        self.assertTrue(r.stdout.endswith(body) or body in r.stdout, r.stdout)

    def assertFails(self, r, *phrases, code=1):
        self.assertEqual(r.returncode, code, (r.stdout, r.stderr))
        lines = r.stderr.strip().split("\n")
        self.assertEqual(len(lines), 1, r.stderr)  # one line, no crash or trace
        self.assertTrue(lines[0].startswith("https_get: "), r.stderr)
        for phrase in phrases:
            self.assertIn(phrase, r.stderr)


class Tunnel(ProxyTestCase):
    def test_get_through_the_proxy(self):
        proxy = self.proxy()
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca, "--proxy", proxy.url)
        self.assertOk(r)
        self.assertEqual(proxy.targets(), [self.origin])
        self.assertEqual(proxy.connects[0][1].get("host"), self.origin)
        self.assertNotIn("proxy-authorization", proxy.connects[0][1])

    def test_host_name_goes_to_the_proxy_and_as_sni(self):
        proxy = self.proxy()
        before = len(self.https.server_names)
        r = self.get(f"https://localhost:{self.https.port}/hello", "--ca", self.ca,
                     "--proxy", proxy.url)
        self.assertOk(r)
        self.assertEqual(proxy.targets(), [f"localhost:{self.https.port}"])
        self.assertEqual(self.https.server_names[before:], ["localhost"])

    def test_kept_alive_requests_share_one_tunnel(self):
        proxy = self.proxy()
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca, "--proxy", proxy.url,
                     "--repeat", 3)
        self.assertOk(r)
        self.assertEqual(r.stdout.count("HTTP 200\n"), 3)
        self.assertEqual(proxy.targets(), [self.origin])

    def test_proxy_from_the_environment_and_no_proxy(self):
        proxy = self.proxy()
        url = f"https://{self.origin}/hello"
        # curl's scheme-less form.
        r = self.get(url, "--ca", self.ca, "--proxy-from-env",
                     env={"https_proxy": f"127.0.0.1:{proxy.port}"})
        self.assertOk(r)
        self.assertEqual(proxy.targets(), [self.origin])
        r = self.get(url, "--ca", self.ca, "--proxy-from-env",
                     env={"HTTPS_PROXY": proxy.url, "NO_PROXY": "example.org, 127.0.0.1"})
        self.assertOk(r)
        self.assertEqual(len(proxy.connects), 1)  # direct this time


class Credentials(ProxyTestCase):
    USER, PASSWORD = "site agent", "p@ss:w%rd"
    URL_USERINFO = "site%20agent:p%40ss%3Aw%25rd"

    def test_right_credentials(self):
        proxy = self.proxy(mode="auth", user=self.USER, password=self.PASSWORD)
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca,
                     "--proxy", f"http://{self.URL_USERINFO}@127.0.0.1:{proxy.port}")
        self.assertOk(r)
        self.assertEqual(proxy.targets(), [self.origin])

    def test_wrong_credentials_are_a_407_error(self):
        proxy = self.proxy(mode="auth", user=self.USER, password=self.PASSWORD)
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca,
                     "--proxy", f"http://site%20agent:wrong-secret@127.0.0.1:{proxy.port}")
        self.assertFails(r, "the proxy refused to connect to the server",
                         "407 Proxy Authentication Required",
                         "refused the user name and password")
        self.assertNotIn("wrong-secret", r.stderr + r.stdout)
        self.assertEqual(len(proxy.connects), 1)

    def test_missing_credentials_say_where_to_give_them(self):
        proxy = self.proxy(mode="auth", user=self.USER, password=self.PASSWORD)
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca, "--proxy", proxy.url)
        self.assertFails(r, "407", "it needs credentials", "http://USER:PASSWORD@HOST:PORT")


class Failures(ProxyTestCase):
    def test_proxy_down(self):
        with socket.socket() as s:  # a port that nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca,
                     "--proxy", f"http://127.0.0.1:{port}")
        self.assertFails(r, "cannot connect to the proxy", f"127.0.0.1:{port}: connection refused")

    def test_proxy_host_not_found(self):
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca,
                     "--proxy", "http://proxy.invalid:3128")
        self.assertFails(r, "cannot connect to the proxy", "proxy.invalid:3128")

    def test_refusals_keep_the_status(self):
        for mode, phrase in (("403", "answered 403 Forbidden: it does not allow connecting to"),
                             ("502", "answered 502 Bad Gateway: it could not reach")):
            proxy = self.proxy(mode=mode)
            r = self.get(f"https://{self.origin}/hello", "--ca", self.ca, "--proxy", proxy.url)
            self.assertFails(r, "the proxy refused to connect to the server", phrase,
                             self.origin)

    def test_silent_proxy_times_out(self):
        proxy = self.proxy(mode="silent")
        start = time.monotonic()
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca, "--proxy", proxy.url,
                     "--timeout-ms", 1000)
        self.assertFails(r, "timed out", "did not answer CONNECT in time")
        self.assertLess(time.monotonic() - start, 8)

    def test_oversized_answer_is_refused(self):
        proxy = self.proxy(mode="huge")
        r = self.get(f"https://{self.origin}/hello", "--ca", self.ca, "--proxy", proxy.url)
        self.assertFails(r, "invalid HTTP response", "over 16 KiB")

    def test_proxy_urls(self):
        url = f"https://{self.origin}/hello"
        self.assertFails(self.get(url, "--ca", self.ca, "--proxy", "https://127.0.0.1:3128"),
                         "only http:// proxies are supported")
        self.assertFails(self.get(url, "--ca", self.ca, "--proxy", "socks5://127.0.0.1:1080"),
                         "only http:// proxies are supported")
        for bad in ("127.0.0.1:3128", "http://127.0.0.1:99999", "http://p:1/path"):
            self.assertFails(self.get(url, "--ca", self.ca, "--proxy", bad),
                             "not a proxy URL: expected http://[USER:PASSWORD@]HOST[:PORT]")


class Verification(ProxyTestCase):
    def test_server_certificate_still_verified_through_the_proxy(self):
        proxy = self.proxy()
        r = self.get(f"https://{self.origin}/hello", "--ca", self.dir / "other-ca.pem",
                     "--proxy", proxy.url)
        self.assertFails(r, "the server's certificate is not trusted")
        self.assertEqual(proxy.targets(), [self.origin])  # the tunnel was made; TLS refused

    def test_host_name_still_verified_through_the_proxy(self):
        # The proxy, not the client, resolves names: send "elsewhere" to our server.
        proxy = self.proxy(upstream=("127.0.0.1", self.https.port))
        r = self.get(f"https://elsewhere.test:{self.https.port}/hello", "--ca", self.ca,
                     "--proxy", proxy.url)
        self.assertFails(r, "the server's certificate is for another host name")
        self.assertEqual(proxy.targets(), [f"elsewhere.test:{self.https.port}"])

    def test_unverified_fetch_of_a_ca_to_pin(self):
        proxy = self.proxy()
        url = f"https://{self.origin}/ca.pem"
        fingerprint = openssl_fingerprint(self.ca)
        # Not trusted (the system store does not know this CA) ...
        self.assertFails(self.get(url, "--proxy", proxy.url),
                         "the server's certificate is not trusted")
        # ... but it can be fetched unverified and checked against the fingerprint.
        r = self.get(url, "--proxy", proxy.url, "--insecure-fetch", "--fingerprint", fingerprint)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(self.ca.read_text(), r.stdout)
        self.assertTrue(r.stdout.endswith("fingerprint matches\n"), r.stdout)
        # Directly too, with the fingerprint typed as SHA256:hex.
        hex_digits = fingerprint.split("=", 1)[1].replace(":", "").lower()
        r = self.get(url, "--insecure-fetch", "--fingerprint", "SHA256:" + hex_digits)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_fingerprint_of_another_certificate_is_refused(self):
        r = self.get(f"https://{self.origin}/ca.pem", "--insecure-fetch", "--fingerprint",
                     openssl_fingerprint(self.dir / "other-ca.pem"))
        self.assertFails(r, "the certificate's SHA-256 is", code=3)

    def test_no_secrets_to_an_unverified_server(self):
        r = self.get(f"https://{self.origin}/ca.pem", "--insecure-fetch", "--token", "t0ken")
        self.assertFails(r, "a token or client certificate is never sent to an unverified server")


if __name__ == "__main__":
    unittest.main()
