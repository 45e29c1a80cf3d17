/**
 * `npm run build:aws`: bundles worker/runtime/lambda.ts into one minified ES module
 * (dist/aws/index.mjs, handlers `index.handler` and `index.scheduled`, plus chunks behind dynamic
 * imports) and zips them into
 * dist/aws/berth-lambda.zip, the artifact infra/aws/deploy.sh uploads.
 *
 * Everything is bundled, the AWS SDK included: the runtime's own SDK copy is a different version
 * from the one Berth is tested with.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createZip } from './zip.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface BuildResult {
  /** The entry module (index.mjs) the runtime imports. */
  entry: string;
  zipFile: string;
  bundleBytes: number;
  gzipBytes: number;
  /** All .mjs files, entry and lazily loaded chunks. */
  totalBytes: number;
  zipBytes: number;
}

/** Builds into `outDir` (dist/aws by default; tests build into a temporary directory). */
export async function buildLambda(outDir = join(root, 'dist', 'aws')): Promise<BuildResult> {
  const outFile = join(outDir, 'index.mjs');
  const zipFile = join(outDir, 'berth-lambda.zip');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: root, // metafile paths are relative to it
    entryPoints: [join(root, 'worker', 'runtime', 'lambda.ts')],
    outdir: outDir,
    entryNames: 'index',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    // Code behind dynamic imports (the SSM client) goes into chunks loaded only when needed.
    splitting: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'none',
    metafile: true,
    // Prefer the ESM builds of dependencies; the CommonJS ones that remain may `require` Node
    // built-ins, which an ES module only has through createRequire.
    mainFields: ['module', 'main'],
    banner: { js: "import{createRequire as __berthCreateRequire}from'node:module';const require=__berthCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  if (result.errors.length) throw new Error('esbuild failed');
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(result.metafile));
  const files = Object.keys(result.metafile.outputs).map((f) => resolve(root, f));
  const code = readFileSync(outFile);
  const zip = createZip(files.map((f) => ({ name: relative(outDir, f).split(sep).join('/'), data: readFileSync(f) })));
  writeFileSync(zipFile, zip);
  const totalBytes = files.reduce((sum, f) => sum + readFileSync(f).length, 0);
  return { entry: outFile, zipFile, bundleBytes: code.length, gzipBytes: gzipSync(code).length, totalBytes, zipBytes: zip.length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const r = await buildLambda();
  const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
  console.log(
    `dist/aws/index.mjs ${kib(r.bundleBytes)} (gzip ${kib(r.gzipBytes)}), all modules ${kib(r.totalBytes)}; ` +
      `${relative(root, r.zipFile)} ${kib(r.zipBytes)}`,
  );
}
