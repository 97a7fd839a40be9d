"""An HTTP CONNECT proxy for the tests (the site proxy an agent goes
through): optional Basic credentials, a log of the tunnels it opened,
refusals on demand. Python 3 standard library only."""
import base64
import socket
import socketserver
import threading
import time

TIMEOUT = 60


class ConnectProxy:
    """An HTTP CONNECT proxy. mode: "tunnel"; "auth" (Basic user:password
    required, else 407); "403" or "502" (refuse); "silent" (never answer);
    "huge" (a 20 KiB answer head). Every CONNECT is logged as (target,
    headers). `upstream`, if set, is where every tunnel really goes."""

    def __init__(self, mode="tunnel", user=None, password=None, upstream=None):
        self.mode, self.upstream = mode, upstream
        self.expected = None
        if user is not None:
            self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.connects = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy.serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, client):
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.connects.append((target, headers))
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if self.mode == "silent":
            time.sleep(10)
            return
        if self.mode == "huge":
            client.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"x" * 20480 + b"\r\n\r\n")
            return
        if self.mode in ("403", "502"):
            reason = {"403": "Forbidden", "502": "Bad Gateway"}[self.mode]
            client.sendall(f"HTTP/1.1 {self.mode} {reason}\r\nContent-Length: 0\r\n\r\n".encode())
            return
        if self.mode == "auth" and headers.get("proxy-authorization") != self.expected:
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                           b"Proxy-Authenticate: Basic realm=\"test\"\r\n"
                           b"Content-Length: 13\r\n\r\nauth required")
            return
        host, _, port = target.rpartition(":")
        try:
            server = socket.create_connection(self.upstream or (host.strip("[]"), int(port)), 10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.pipe(client, server)

    @staticmethod
    def pipe(a, b):
        def copy(source, sink):
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for s in (source, sink):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        other = threading.Thread(target=copy, args=(b, a), daemon=True)
        other.start()
        copy(a, b)
        other.join(TIMEOUT)
        b.close()

    def targets(self):
        return [target for target, _ in self.connects]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
