/**
 * Bundles a Worker entry with esbuild roughly the way wrangler does for
 * `compatibility_flags = ["nodejs_compat"]`: browser/workerd package conditions, ESM output,
 * Node built-ins left as imports for workerd to provide. (Wrangler additionally injects unenv
 * polyfills for the few built-ins workerd lacks; `npm run size -- --wrangler` measures that.)
 */
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

export interface WorkerBundle {
  code: string;
  bytes: number;
}

export async function bundleWorker(entry: string, options: { minify?: boolean } = {}): Promise<WorkerBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['browser', 'module', 'main'],
    external: ['node:*', ...builtinModules],
    minify: options.minify ?? false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return { code: output.text, bytes: output.contents.byteLength };
}
