import { describe, expect, it } from 'vitest';
import { ARCH_VALUES, CONFIG_PRESET_VALUES, LOCK_SORT_VALUES, MACHINE_VALUES, REPORT_DEFAULT_SORT, REPORT_SORT_VALUES, SCRIPT_FIELD_VALUES } from '../src/cli-values.js';
import { LOCK_SORT_KEYS } from '../src/format/lock-contention.js';
import { DEFAULT_SORT, SORT_KEYS } from '../src/format/report-keys.js';
import { ARCH_NAMES } from '../src/config/arch.js';
import { MACHINES } from '../src/config/machine.js';
import { listConfigPresets } from '../src/config/kconfig.js';
import { SCRIPT_FIELDS } from '../src/format/script.js';
import { spfperf } from './helpers/cli.js';

describe('--help lists every value an option takes', () => {
  it('each list is its registry\'s, in order', () => {
    expect(ARCH_VALUES).toEqual(ARCH_NAMES);
    expect(MACHINE_VALUES).toEqual([...Object.keys(MACHINES), 'host']);
    expect(CONFIG_PRESET_VALUES).toEqual(listConfigPresets().flatMap((p) => [p.name, ...p.aliases]));
    expect(SCRIPT_FIELD_VALUES).toEqual(SCRIPT_FIELDS);
    expect(REPORT_SORT_VALUES).toEqual(SORT_KEYS);
    expect(REPORT_DEFAULT_SORT).toBe(DEFAULT_SORT);
    expect(LOCK_SORT_VALUES).toEqual(LOCK_SORT_KEYS);
  });

  it('stat --help, script --help and report --help name them all', async () => {
    const flat = (s: string): string => s.replace(/\s+/g, ' ');
    const stat = flat((await spfperf(['stat', '--help'])).stdout);
    for (const v of [...ARCH_VALUES, ...MACHINE_VALUES, ...CONFIG_PRESET_VALUES]) expect(stat, v).toContain(v);
    expect(stat).toContain(`profile on a bare-metal 16-CPU machine of it: ${ARCH_VALUES.join(', ')}`);
    const script = flat((await spfperf(['script', '--help'])).stdout);
    expect(script).toContain(SCRIPT_FIELD_VALUES.join(', '));
    const report = flat((await spfperf(['report', '--help'])).stdout);
    expect(report).toContain(`${REPORT_SORT_VALUES.join(', ')} (default: "comm,dso,sym")`);
  });
});
