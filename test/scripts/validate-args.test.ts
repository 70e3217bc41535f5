import { describe, expect, test } from 'vitest';
// @ts-expect-error: a plain JS module of scripts/, without types
import { parseValidateArgs } from '../../scripts/validate-args.js';

const NAMES = ['HANDOFF_SHARE', 'KVM_X86.ttwuNs', 'arch.pteSetNs'];
const parse = (...a: string[]) => parseValidateArgs(a, NAMES);

describe('validate arguments', () => {
  test('cases and --seeds as before', () => {
    expect(parse()).toEqual({ seeds: undefined, only: [], sensitivity: null, converge: false, jobs: undefined, cases: undefined });
    expect(parse('C6', '--seeds', '3', 'C1')).toEqual({ seeds: 3, only: ['C6', 'C1'], sensitivity: null, converge: false, jobs: undefined, cases: undefined });
    expect(() => parse('--seeds', '0')).toThrow(/whole number/);
  });

  test('--sensitivity alone means every constant; with a list, those', () => {
    expect(parse('--sensitivity').sensitivity).toEqual([]);
    expect(parse('--sensitivity', 'HANDOFF_SHARE,KVM_X86.ttwuNs')).toEqual({ seeds: undefined, only: [], sensitivity: ['HANDOFF_SHARE', 'KVM_X86.ttwuNs'], converge: false, jobs: undefined, cases: undefined });
    expect(parse('--sensitivity=arch.pteSetNs', 'C2').sensitivity).toEqual(['arch.pteSetNs']);
    expect(parse('--sensitivity', '--seeds', '2')).toEqual({ seeds: 2, only: [], sensitivity: [], converge: false, jobs: undefined, cases: undefined });
  });

  test('--converge, with or without cases', () => {
    expect(parse('--converge')).toEqual({ seeds: undefined, only: [], sensitivity: null, converge: true, jobs: undefined, cases: undefined });
    expect(parse('--converge', 'C6').only).toEqual(['C6']);
  });

  test('a word after --sensitivity that is not a declared constant is a case', () => {
    expect(parse('--sensitivity', 'C6')).toEqual({ seeds: undefined, only: ['C6'], sensitivity: [], converge: false, jobs: undefined, cases: undefined });
    expect(parse('--sensitivity', 'HANDOFF_SHARE', 'C6')).toEqual({ seeds: undefined, only: ['C6'], sensitivity: ['HANDOFF_SHARE'], converge: false, jobs: undefined, cases: undefined });
  });

  test('an unknown name in --sensitivity=... or an unknown option is an error', () => {
    expect(() => parse('--sensitivity=NOPE')).toThrow(/unknown constant 'NOPE'/);
    expect(() => parse('--sensitivity=HANDOFF_SHARE,NOPE')).toThrow(/unknown constant 'NOPE'/);
    expect(() => parse('--sensitivty')).toThrow(/unknown option/);
  });

  test('-j/--jobs N: runs at once, a whole number from 1', () => {
    expect(parse('-j', '2', 'C6')).toEqual({ seeds: undefined, only: ['C6'], sensitivity: null, converge: false, jobs: 2, cases: undefined });
    expect(parse('--jobs', '1', '--converge').jobs).toBe(1);
    expect(() => parse('-j', '0')).toThrow("-j takes a whole number >= 1, not '0'");
    expect(() => parse('--jobs', 'x')).toThrow("--jobs takes a whole number >= 1, not 'x'");
    expect(() => parse('-j')).toThrow("-j takes a whole number >= 1, not ''");
  });

  test('--cases DIR: another folder of cases', () => {
    expect(parse('--cases', 'fixtures/validate-cases', 'T1').cases).toBe('fixtures/validate-cases');
    expect(() => parse('--cases')).toThrow('--cases takes a folder of case files');
  });
});
