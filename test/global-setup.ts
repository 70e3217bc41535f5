import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every .ts/.tsx file under dir. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(f) && !f.endsWith('.d.ts') ? [p] : [];
  });
}

/** A source file whose compiled file in dist/ is missing or older than it, if any. */
export function staleSource(root = ROOT): string | undefined {
  const src = join(root, 'src');
  return sources(src).find((f) => {
    const out = join(root, 'dist', relative(src, f).replace(/\.tsx?$/, '.js'));
    return !existsSync(out) || statSync(out).mtimeMs < statSync(f).mtimeMs;
  });
}

/**
 * Before any test file loads: list the design files (src/mm/spf/designs.gen.ts) and embed the
 * machine files (src/config/machines.gen.ts) as the build does,
 * and build dist/ when a source is newer than its compiled file (or dist/ is missing, on a fresh
 * clone), then the start-up bundle dist/spfperf.cjs when it is older than what it bundles: the
 * worker threads of the pool (src/pool/pool.ts) and the tests that run bin/spfperf.js or
 * scripts/validate.js run the compiled files, and must run what the sources say.
 */
export default async function setup(): Promise<void> {
  // @ts-expect-error a plain .mjs script without types
  await import('../scripts/gen-designs.mjs');
  // The same for the shipped machine files (src/config/machines.gen.ts).
  // @ts-expect-error a plain .mjs script without types
  await import('../scripts/gen-machines.mjs');
  const stale = staleSource();
  if (stale !== undefined) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
      throw new Error(`test/global-setup.ts: building dist/ (${relative(ROOT, stale)} is newer than its build) failed:\n${out}`);
    }
  }
  // @ts-expect-error a plain .mjs script without types
  const { bundleStale, bundleCli } = (await import('../scripts/bundle-cli.mjs')) as { bundleStale: () => boolean; bundleCli: () => Promise<void> };
  if (bundleStale()) await bundleCli();
}
