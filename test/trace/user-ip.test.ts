import { describe, expect, it } from 'vitest';
import { ipOfLine, lineOfIp, TEXT_BASE } from '../../src/trace/user-ip.js';

describe('user ip of a workload statement', () => {
  it('maps a line to an ip in .text and back', () => {
    expect(ipOfLine(132)).toBe(0x401840);
    for (const line of [1, 7, 132, 100000]) expect(lineOfIp(ipOfLine(line))).toBe(line);
  });

  it('an ip that is no statement\'s has no line', () => {
    expect(lineOfIp(TEXT_BASE)).toBeUndefined();
    expect(lineOfIp(ipOfLine(5) + 3)).toBeUndefined();
    expect(lineOfIp(0xffffffff81000000)).toBeUndefined();
  });
});
