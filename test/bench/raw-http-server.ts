/**
 * The loopback ceiling for the bench: a node:http server that does nothing with bytes.
 * Any PUT/POST/PATCH body is read and dropped (201); `GET /bytes/<n>` sends n bytes from one
 * reused 1 MiB buffer; anything else answers 200 with an empty body. PORT from env.
 */
import http from 'node:http';

const SLICE = Buffer.alloc(1024 * 1024, 0x5a);

const server = http.createServer((req, res) => {
  const match = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  if (req.method === 'GET' && match) {
    let left = Number(match[1]);
    res.writeHead(200, { 'Content-Length': String(left), 'Content-Type': 'application/octet-stream' });
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, SLICE.length);
        left -= n;
        if (!res.write(n === SLICE.length ? SLICE : SLICE.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  req.resume();
  req.on('end', () => {
    res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 200 : 201, { 'Content-Length': '0' });
    res.end();
  });
});
server.requestTimeout = 0;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
