import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Compare `actual` with fixtures/golden/<name>; `UPDATE_GOLDEN=1 npm test` rewrites the file.
 * A golden file that does not exist is an error unless updating, so a missing file never passes.
 */
export function expectGolden(name: string, actual: string): void {
  const path = join(ROOT, 'fixtures', 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing: run UPDATE_GOLDEN=1 npm test`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
