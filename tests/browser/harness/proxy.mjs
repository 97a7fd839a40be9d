// A TCP relay in front of valise-server: the browser talks TLS to the server
// through it, so a test can count the bytes the browser sent upstream (did a
// resumed upload start over?) and cut every connection (a network drop).
// It keeps listening while the server behind it restarts on the same port.
import net from "node:net";

export class Proxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.upstreamBytes = 0;
    this.sockets = new Set();
  }

  async start() {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, "127.0.0.1");
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.on("data", (chunk) => {
        this.upstreamBytes += chunk.length;
      });
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on("error", close);
      upstream.on("error", close);
      client.on("close", close);
      upstream.on("close", close);
    });
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = this.server.address().port;
    this.url = `https://localhost:${this.port}`;
    return this;
  }

  // Drops every connection in flight, as a network failure would.
  cut() {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async stop() {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
