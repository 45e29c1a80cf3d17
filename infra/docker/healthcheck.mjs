// The image's HEALTHCHECK: GET /healthz on this container's own port, over HTTPS when
// BERTH_TLS_CERT is set (the certificate is for clients' names, not 127.0.0.1, so it is not
// verified here: this only asks whether the process answers).
import { request as http } from 'node:http';
import { request as https } from 'node:https';

const tls = Boolean(process.env.BERTH_TLS_CERT);
const host = !process.env.HOST || process.env.HOST === '0.0.0.0' || process.env.HOST === '::' ? '127.0.0.1' : process.env.HOST;
const send = tls ? https : http;
const req = send({ host, port: Number(process.env.PORT || 5000), path: '/healthz', timeout: 4000, rejectUnauthorized: false }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
