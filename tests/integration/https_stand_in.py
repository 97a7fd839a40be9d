"""An HTTPS server standing in for a system valise-server calls out to (a
webhook receiver, a helpdesk's REST API), its certificate from a CA made
here: trust it through the server's ca_file / api_ca_file. Python 3 standard
library and the openssl command."""
import http.server
import socket
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
    and stop(), which can be called again (a receiver down, then up).
    While down, the port stays bound and not listening: connections are
    refused, and no other test's process can take the port meanwhile."""

    def __init__(self, directory, port):
        self.port = port
        self.lock = threading.Lock()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(directory / "receiver.pem"),
                                     str(directory / "receiver.key"))
        self.httpd = None
        self.reserved = self._reserve()

    def _reserve(self):
        """The port, bound: not SO_REUSEADDR, which would let another process
        that sets it (valise-server does) bind it too while it is not
        listening. None if it cannot be bound again (a connection of the last
        start in TIME_WAIT): start() then binds it as it listens."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", self.port))
        except OSError:
            s.close()
            return None
        return s

    def handler(self):
        raise NotImplementedError

    def start(self):
        reserved, self.reserved = self.reserved, None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self.handler(),
                                                     bind_and_activate=reserved is None)
        if reserved is not None:
            self.httpd.socket.close()
            self.httpd.socket = reserved
            # Now, as TCPServer does: the connections it accepts inherit it,
            # and do not keep the port from a later start() once they end.
            reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.httpd.server_activate()  # listen() on the reserved socket
        self.httpd.socket = self.context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
            self.reserved = self._reserve()
