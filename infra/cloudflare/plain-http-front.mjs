/**
 * A TCP front for `npm run dev:worker` that refuses TLS at once. docker, podman and skopeo try
 * TLS first on a loopback registry and fall back to plain HTTP only when the ClientHello gets
 * an answer that is not a handshake; `wrangler dev` instead holds such a connection open until
 * the client gives up, about 10 s on every command. On Cloudflare this never happens (TLS ends
 * at the edge), so the front exists only for local development.
 *
 * A connection whose first byte is a TLS record (0x16) gets what the Node server answers: an
 * HTTP 400 and a close, which Go's TLS client reports as "server gave HTTP response to HTTPS
 * client" and falls back on. Every other connection is relayed to wrangler byte for byte with
 * backpressure (pipe), Nagle off both ways, and each side's end passed on only after its data:
 * a streamed pull is never cut or held.
 */
import net from 'node:net';

const REFUSAL = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const TLS_HANDSHAKE_RECORD = 0x16;

/** Listens on host:port and relays to host:innerPort; resolves with a stop function. */
export function startPlainHttpFront({ host, port, innerPort }) {
  const open = new Set();
  const track = (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  const server = net.createServer({ noDelay: true }, (client) => {
    track(client);
    client.on('error', () => client.destroy());
    client.once('data', (first) => {
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        client.end(REFUSAL);
        return;
      }
      client.pause();
      const upstream = net.connect({ host, port: innerPort, noDelay: true });
      track(upstream);
      upstream.on('error', () => {
        upstream.destroy();
        client.destroy();
      });
      client.once('close', () => upstream.destroy());
      upstream.once('connect', () => {
        upstream.write(first);
        // pipe ends the other side when one side ends, after flushing what it wrote.
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () =>
      resolve(
        () =>
          new Promise((done) => {
            server.close(() => done());
            for (const socket of open) socket.destroy();
          }),
      ),
    );
  });
}

/** A free port on `host` (the OS picks it; closed again before wrangler takes it). */
export function freePort(host) {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
