import { copyFileSync, linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { refuseClobbering } from '../../src/commands/outputs.js';
import { UsageError } from '../../src/errors.js';
import { spfperf } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const dir = mkdtempSync(join(tmpdir(), 'spfperf-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, 'w.spf');
copyFileSync(join(ROOT, 'workloads', 'page_fault1.spf'), script);
const original = readFileSync(script, 'utf8');
const TINY = ['threads=1', 'iterations=1', 'size=64K'];

describe('an output that is an input or another output is refused (issue 13 item 14)', () => {
  it('stat -o / --save onto the workload script, -o X --save X, record -o onto the script (via a symlink too): exit 1, script intact', async () => {
    symlinkSync('w.spf', join(dir, 'link.spf'));
    linkSync(script, join(dir, 'hard.spf'));
    const cases: Array<[string[], RegExp]> = [
      [['stat', '-o', 'w.spf', './w.spf', ...TINY], /^spfperf: option '-o': 'w.spf' is the workload script \('\.\/w\.spf'\); refusing to overwrite an input\n$/],
      [['stat', '--save', 'w.spf', 'w.spf', ...TINY], /^spfperf: option '--save': 'w.spf' is the workload script/],
      [['stat', '-o', 'out.txt', '--save', './out.txt', 'w.spf', ...TINY], /^spfperf: option '--save': '\.\/out\.txt' is also the file of option '-o'; give each output its own file\n$/],
      [['record', '-o', 'w.spf', 'w.spf', ...TINY], /^spfperf: option '-o': 'w.spf' is the workload script/],
      [['record', '-o', 'link.spf', 'w.spf', ...TINY], /^spfperf: option '-o': 'link.spf' is the workload script/],
      [['record', '-o', 'hard.spf', 'w.spf', ...TINY], /^spfperf: option '-o': 'hard.spf' is the workload script/],
    ];
    for (const [args, msg] of cases) {
      const r = await spfperf(args, { cwd: dir });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(readFileSync(script, 'utf8'), args.join(' ')).toBe(original);
    }
  });

  it('a --config file is an input too', async () => {
    writeFileSync(join(dir, 'k.config'), 'CONFIG_PER_VMA_LOCK=y\n');
    const r = await spfperf(['stat', '--config', 'k.config', '--save', 'k.config', 'w.spf', ...TINY], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^spfperf: option '--save': 'k.config' is the --config file/);
    expect(readFileSync(join(dir, 'k.config'), 'utf8')).toBe('CONFIG_PER_VMA_LOCK=y\n');
  });

  it('distinct outputs, stdout and shared non-regular outputs (/dev/null) are fine', () => {
    const inputs = [{ what: 'the workload script', path: script }];
    expect(() => refuseClobbering(inputs, [{ what: 'a', path: join(dir, 'a') }, { what: 'b', path: join(dir, 'b') }])).not.toThrow();
    expect(() => refuseClobbering(inputs, [{ what: 'a', path: '/dev/null' }, { what: 'b', path: '/dev/null' }])).not.toThrow();
    expect(() => refuseClobbering(inputs, [{ what: 'a', path: '-' }, { what: 'b', path: '-' }])).not.toThrow();
    expect(() => refuseClobbering(inputs, [{ what: 'a', path: join(dir, 'new') }, { what: 'b', path: join(dir, '.', 'new') }])).toThrow(UsageError);
  });
});
