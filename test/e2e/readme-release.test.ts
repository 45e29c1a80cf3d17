/**
 * README's "Release flow" runs as printed: this test takes the section's shell blocks, sets the
 * variables its first block names (a fresh Node registry, its admin password, a local test image,
 * a real local webhook receiver) and runs every other line in one bash, in order: docker push,
 * `berth tag`, docker pull, `berth policy`, `berth webhooks`, `berth retention`. Then it checks
 * what the commands said and what the receiver got.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Clients, clientsReady, missingClients, run } from '../support/clients.ts';
import { ensureTestImage, type TestImage } from '../support/images.ts';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { eventually, startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15962);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORK = resolve('.tmp', 'e2e-readme');
const PASSWORD = `readme-${PORT}-password`;
const missing = missingClients();

/** The ```sh blocks of one README section, dedented (list items indent theirs). */
function shellBlocks(readme: string, heading: string): string[][] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^( *)```sh\n([\s\S]*?)^\1```$/gm)].map((m) => m[2]!.split('\n').filter((l) => l.trim()).map((l) => l.slice(m[1]!.length)));
}

let target: NodeTarget;
let receiver: Receiver;
let image: TestImage;
const clients = new Clients(join(WORK, 'clients'));

before(async () => {
  image = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: 1, variant: `readme-${PORT}` });
  receiver = await startReceiver();
  target = await startNodeTarget({ port: PORT, env: { BERTH_ADMIN_PASSWORD: PASSWORD } });
});

after(async () => {
  if (!missing.docker) {
    await clients.dockerTry(['rmi', '-f', image.imageId]);
    await clients.dockerTry(['logout', new URL(target.url).host]);
  }
  await receiver?.close();
  await target?.stop();
});

it('every command of README "Release flow" runs as printed', async (t) => {
  if (!clientsReady(t, missing, ['docker'])) return;
  const [settings, ...steps] = shellBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'Release flow');
  assert.ok(settings && steps.length >= 5, 'a settings block and the steps');
  const env = {
    BERTH_URL: target.url, BERTH_USER: 'admin', BERTH_PASSWORD: PASSWORD,
    REGISTRY: new URL(target.url).host, IMAGE: image.localTag, HOOK: receiver.url,
  };
  // The settings block must name exactly what the test sets, so a reader sets the same.
  const named = [...settings.join(' ').matchAll(/([A-Z_]+)=/g)].map((m) => m[1]).sort();
  assert.deepEqual(named, Object.keys(env).sort());

  if ((await clients.dockerTry(['image', 'inspect', image.localTag])).code !== 0) await clients.docker(['load', '-i', image.dockerArchive]);
  const script = ['set -euo pipefail', ...steps.flat()].join('\n');
  const result = await run('bash', ['-c', script], { env: { ...clients.dockerEnv, ...env }, timeoutMs: 240_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.code, 0, `the README's commands failed:\n${output.slice(-4000)}`);
  assert.match(result.stdout, /prod\/app:v1\.0\.0 -> sha256:[0-9a-f]{64} \(from ci\/app:build-42; .* no layer copied\)/);
  assert.match(result.stdout, /Digest: sha256:[0-9a-f]{64}/, 'docker pull of the promoted tag');
  assert.match(result.stdout, /policy set: prod\/\*\*\timmutable-tags=v\*/);
  assert.match(result.stdout, /delivered: HTTP 200/, 'webhooks test');
  assert.match(result.stderr, /retention would delete 0 tag\(s\) and 0 manifest\(s\) in 1 repository/);

  // The receiver got the test event and the promotion onto prod/app:stable.
  const events = await eventually(async () => {
    const actions = receiver.received.map((r) => JSON.parse(r.body) as { events: { action: string; target: { repository: string; tag?: string } }[] });
    return actions.some((e) => e.events[0]?.target.tag === 'stable') ? actions : undefined;
  }, 15_000, 'the promotion event');
  assert.deepEqual(events.map((e) => `${e.events[0]!.action} ${e.events[0]!.target.repository}:${e.events[0]!.target.tag ?? ''}`), [
    'test berth/webhook-test:',
    'push prod/app:stable',
  ]);
  assert.match(String(receiver.received[1]!.headers['x-berth-signature-256']), /^sha256=[0-9a-f]{64}$/);
});
