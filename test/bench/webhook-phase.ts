/**
 * Push latency with and without webhooks: manifest PUTs (the request that triggers a push event)
 * timed on three Berth processes alike but for their hooks: none, one to a receiver that answers
 * 200 at once, one to a receiver that never answers (each delivery then waits out its 10 s
 * timeout and its retries in the background). Rounds are interleaved across the three, as the
 * other phases do, so drift on a shared machine spreads over all of them. The receivers are
 * processes of their own: in this process they would share the event loop that times the PUTs.
 */
import { ask, expectStatus } from './http.ts';
import { bytesPayload } from './data.ts';
import { add, type Table } from './stats.ts';
import { BENCH_ADMIN, startBerth, type RegistrySystem } from './systems.ts';
import { spawnLogged, waitForHttp, type Spawned } from '../support/process.ts';
import { sha256 } from '../support/registry-client.ts';

const REPO = 'bench/hooks';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export function webhookTable(perRound: number): Table {
  return {
    id: 'manifest_put_webhooks',
    title: `Manifest PUT (push event) with and without a webhook, ${perRound} per round, back to back`,
    unit: 'ms',
    better: 'lower',
    samples: {},
    note: 'berth_hook_none: no webhook; berth_hook_ok: a receiver answering 200; berth_hook_dead: a receiver that never answers. Each PUT starts as the previous one is answered, so it overlaps that one\'s delivery, which runs in the same process.',
  };
}

/** The same PUTs spaced apart, so no delivery overlaps the next push: what a push itself waits for. */
export const SPACED_GAP_MS = 30;
export function spacedWebhookTable(perRound: number): Table {
  return {
    id: 'manifest_put_webhooks_spaced',
    title: `Manifest PUT with and without a webhook, ${perRound} per round, ${SPACED_GAP_MS} ms apart`,
    unit: 'ms',
    better: 'lower',
    samples: {},
    note: `As above, with ${SPACED_GAP_MS} ms between PUTs: the previous delivery has finished when the next push starts.`,
  };
}

async function addHook(sys: RegistrySystem, url: string): Promise<void> {
  const res = await fetch(`${sys.url}/admin/webhooks`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${BENCH_ADMIN.username}:${BENCH_ADMIN.password}`).toString('base64')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ url, allowInternal: true, repos: REPO, secret: 'bench-webhook-secret-0123' }),
  });
  if (res.status !== 201) throw new Error(`adding a webhook to ${sys.id}: ${res.status} ${await res.text()}`);
}

/** Uploads the config and layer every manifest names (monolithic POST+PUT). */
async function pushBlob(sys: RegistrySystem, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await ask({ url: `${sys.url}/v2/${REPO}/blobs/uploads/`, method: 'POST', headers: sys.headers });
  expectStatus(start, [202], 'POST upload');
  const location = new URL(String(start.headers.location), sys.url);
  location.searchParams.set('digest', digest);
  expectStatus(await ask({ url: location.toString(), method: 'PUT', headers: { ...sys.headers, 'Content-Type': 'application/octet-stream' }, body: bytesPayload(bytes) }), [201], 'PUT blob');
  return digest;
}

/** A receiver process on `port`: answers 200 at once, or reads the body and never answers. */
async function startReceiverProcess(port: number, answer: 'ok' | 'hang'): Promise<{ url: string; spawned: Spawned }> {
  const code = `let n = 0; require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { n++; ${answer === 'ok' ? "res.end('ok');" : "if (req.method === 'GET') res.end(String(n));"} }); }).listen(${port}, '127.0.0.1');`;
  const spawned = spawnLogged(process.execPath, ['-e', code], {});
  const url = `http://127.0.0.1:${port}`;
  if (answer === 'ok') await waitForHttp(url, spawned.child, spawned.output, 10_000);
  else await new Promise((resolve) => setTimeout(resolve, 500));
  return { url: `${url}/hook`, spawned };
}

export async function webhookRounds(opts: { port: number; rounds: number; perRound: number; table: Table; spaced: Table; log: (line: string) => void }): Promise<void> {
  const receivers = [await startReceiverProcess(opts.port + 3, 'ok'), await startReceiverProcess(opts.port + 4, 'hang')];
  const systems: RegistrySystem[] = [];
  try {
    for (const [i, id] of ['berth_hook_none', 'berth_hook_ok', 'berth_hook_dead'].entries()) {
      systems.push(await startBerth({ id, port: opts.port + i, auth: true }));
    }
    await addHook(systems[1]!, receivers[0]!.url);
    await addHook(systems[2]!, receivers[1]!.url);
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const layer = Buffer.alloc(1024, 7);
    const blobs = new Map<string, [string, string]>();
    for (const sys of systems) blobs.set(sys.id, [await pushBlob(sys, config), await pushBlob(sys, layer)]);
    let n = 0;
    for (let round = 0; round < opts.rounds; round++) {
      const order = systems.map((_, i) => systems[(i + round) % systems.length]!);
      for (const sys of order) {
        const [configDigest, layerDigest] = blobs.get(sys.id)!;
        const putMedian = async (gapMs: number): Promise<number> => {
          const times: number[] = [];
          for (let i = 0; i < opts.perRound; i++) {
            const manifest = JSON.stringify({
              schemaVersion: 2, mediaType: OCI_MANIFEST,
              config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
              layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
              annotations: { n: String(n++) },
            });
            if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
            const res = await ask({ url: `${sys.url}/v2/${REPO}/manifests/v${n}`, method: 'PUT', headers: { ...sys.headers, 'Content-Type': OCI_MANIFEST }, body: manifest });
            expectStatus(res, [201], `manifest PUT on ${sys.id}`);
            times.push(res.ms);
          }
          times.sort((a, b) => a - b);
          return times[Math.floor(times.length / 2)]!;
        };
        const backToBack = await putMedian(0);
        add(opts.table, sys.id, backToBack);
        const spaced = await putMedian(SPACED_GAP_MS);
        add(opts.spaced, sys.id, spaced);
        opts.log(`  round ${round + 1} ${sys.id}: median ${backToBack.toFixed(1)} ms back to back, ${spaced.toFixed(1)} ms ${SPACED_GAP_MS} ms apart, over ${opts.perRound} PUTs each`);
      }
    }
  } finally {
    for (const sys of systems) await sys.stop();
    for (const r of receivers) await r.spawned.stop();
  }
}
