import { describe, expect, it } from 'vitest';
import { expandPoints, parseConfigs, parseCpuList, parseMachines, parseParamAxes, pointFileName } from '../../src/commands/sweep-axes.js';
import { UsageError } from '../../src/errors.js';

const err = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('--cpus lists', () => {
  it('numbers, ranges and series, in the order given, duplicates dropped', () => {
    expect(parseCpuList('1,2,4,8,16')).toEqual([1, 2, 4, 8, 16]);
    expect(parseCpuList('1-4')).toEqual([1, 2, 3, 4]);
    expect(parseCpuList('3..5')).toEqual([3, 4, 5]);
    expect(parseCpuList(' 8 , 1-3 ,2')).toEqual([8, 1, 2, 3]);
    expect(parseCpuList('1..16:x2')).toEqual([1, 2, 4, 8, 16]);
    // The end is a point even when the series steps over it.
    expect(parseCpuList('1..176:x2')).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 176]);
    expect(parseCpuList('3..80:x3')).toEqual([3, 9, 27, 80]);
    expect(parseCpuList('1..20:+8')).toEqual([1, 9, 17, 20]);
    expect(parseCpuList('4..4:x2')).toEqual([4]);
  });

  it('refuses what is not a CPU count, naming the option', () => {
    expect(err(() => parseCpuList('0'))).toBe("option '--cpus': 0 is out of range (1..1024)");
    expect(err(() => parseCpuList('1..176:x0'))).toBe("option '--cpus': '1..176:x0': the factor must be at least 2, not 0");
    expect(err(() => parseCpuList('1..176:x1'))).toBe("option '--cpus': '1..176:x1': the factor must be at least 2, not 1");
    expect(err(() => parseCpuList('1..8:+0'))).toBe("option '--cpus': '1..8:+0': the step must be at least 1, not 0");
    expect(err(() => parseCpuList('8-1'))).toBe("option '--cpus': '8-1' ends below its start");
    expect(err(() => parseCpuList('0-4'))).toBe("option '--cpus': 0 is out of range (1..1024)");
    expect(err(() => parseCpuList('1-2000'))).toBe("option '--cpus': 2000 is out of range (1..1024)");
    expect(err(() => parseCpuList('1,,2'))).toBe("option '--cpus': an empty item in '1,,2'");
    expect(err(() => parseCpuList('two'))).toBe("option '--cpus': 'two' is not a CPU count, a range A-B or a series A..B:xK or A..B:+K");
    expect(err(() => parseCpuList('1..8:y2'))).toBe("option '--cpus': '1..8:y2' is not a CPU count, a range A-B or a series A..B:xK or A..B:+K");
  });
});

describe('--config and --machine lists', () => {
  it('a config per comma, its items joined with +; repeated options add configs', () => {
    expect(parseConfigs(['base,dufour-v11+kernel=5.0', 'per-vma-lock', 'base'])).toEqual([
      { label: 'base', items: ['base'] },
      { label: 'dufour-v11+kernel=5.0', items: ['dufour-v11', 'kernel=5.0'] },
      { label: 'per-vma-lock', items: ['per-vma-lock'] },
    ]);
    expect(err(() => parseConfigs(['base,']))).toBe("option '--config': an empty item in 'base,'");
    expect(err(() => parseConfigs(['base+']))).toBe("option '--config': an empty item in 'base+' (items of one config are joined with '+')");
  });

  it('machines, comma-separated or repeated', () => {
    expect(parseMachines(['x86-vm16,p8-80', 'x86-vm16', 'msm845'])).toEqual(['x86-vm16', 'p8-80', 'msm845']);
    expect(err(() => parseMachines([',x86-16']))).toBe("option '--machine': an empty item in ',x86-16'");
  });
});

describe('parameter axes', () => {
  it('name=a,b,c is an axis; a parameter of one value is passed as it is', () => {
    expect(parseParamAxes(['size=16M,32M', 'threads=4', 'mode=threads,processes'])).toEqual([
      { name: 'size', values: ['16M', '32M'], argIndex: 0 },
      { name: 'mode', values: ['threads', 'processes'], argIndex: 2 },
    ]);
    expect(parseParamAxes(['size=16M'])).toEqual([]);
  });

  it('refuses an empty value, a name given twice, and the names of the other axes', () => {
    expect(err(() => parseParamAxes(['size=16M,']))).toBe("parameter 'size': an empty value in 'size=16M,'");
    expect(err(() => parseParamAxes(['size=1M,2M', 'size=3M,4M']))).toBe("parameter 'size' is given twice");
    expect(err(() => parseParamAxes(['cpus=1,2']))).toBe("parameter 'cpus': its name is that of the cpus axis (give it once, not as a list)");
  });
});

describe('points', () => {
  it('machine, then config, then the parameter axes (the first outermost), then cpus innermost', () => {
    const configs = parseConfigs(['base,spf']);
    const pts = expandPoints({ machines: ['a', 'b'], configs, cpus: [1, 2], params: parseParamAxes(['x=1,2', 'y=5', 'z=p,q']), args: ['x=1,2', 'y=5', 'z=p,q'] });
    expect(pts).toHaveLength(2 * 2 * 2 * 2 * 2);
    const key = (p: (typeof pts)[number]): string => `${p.machine}/${p.config?.label}/${p.params.join(' ')}/${p.cpus}`;
    expect(pts.slice(0, 5).map(key)).toEqual(['a/base/x=1 y=5 z=p/1', 'a/base/x=1 y=5 z=p/2', 'a/base/x=1 y=5 z=q/1', 'a/base/x=1 y=5 z=q/2', 'a/base/x=2 y=5 z=p/1']);
    expect(key(pts[8])).toBe('a/spf/x=1 y=5 z=p/1');
    expect(key(pts[16])).toBe('b/base/x=1 y=5 z=p/1');
    expect(pts[3].paramValues).toEqual({ x: '1', z: 'q' });
  });

  it('an axis not given is one point of the run\'s default', () => {
    const pts = expandPoints({ params: [], args: ['size=1M'] });
    expect(pts).toEqual([{ machine: undefined, config: undefined, cpus: undefined, params: ['size=1M'], paramValues: {} }]);
  });

  it('a point\'s file: its index and coordinates, in characters safe in a file name', () => {
    expect(pointFileName(3, [['machine', 'x86-vm16'], ['config', 'dufour-v11+kernel=5.0'], ['cpus', 16], ['size', '16M']])).toBe('0003-x86-vm16-dufour-v11_kernel=5.0-16cpus-size=16M.json');
    expect(pointFileName(12345, [['config', 'a/b c']])).toBe('12345-a_b_c.json');
  });
});
