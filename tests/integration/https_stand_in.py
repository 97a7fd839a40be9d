"""An HTTPS server standing in for a system valise-server calls out to (a
webhook receiver, a helpdesk's REST API), its certificate from a CA made
here: trust it through the server's ca_file / api_ca_file. Python 3 standard
library and the openssl command."""
import http.server
import ssl
import subprocess
import threading


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(directory):
    """ca.pem signs receiver.pem (IP:127.0.0.1)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=outbox test ca",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=directory)
    openssl("req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", "receiver.key",
            "-out", "receiver.csr", cwd=directory)
    (directory / "receiver.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "receiver.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "receiver.ext", "-out", "receiver.pem",
            cwd=directory)


class HttpsStandIn:
    """Serves `handler()` (a BaseHTTPRequestHandler class, made by the
    subclass) on 127.0.0.1:port over TLS with receiver.pem, between start()
    and stop(), which can be called again (a receiver down, then up)."""

    def __init__(self, directory, port):
        self.port = port
        self.lock = threading.Lock()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(directory / "receiver.pem"),
                                     str(directory / "receiver.key"))
        self.httpd = None

    def handler(self):
        raise NotImplementedError

    def start(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self.handler())
        self.httpd.socket = self.context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
