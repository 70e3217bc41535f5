/**
 * PfnList (src/mm/pfn-list.ts): the list of page frames used as a stack by the buddy free lists,
 * the per-CPU lists and an mmu_gather's pages.
 */
import { describe, expect, test } from 'vitest';
import { PfnList } from '../../src/mm/pfn-list.js';

describe('PfnList', () => {
  test('a stack of frames that grows past its first capacity and keeps its order', () => {
    const l = new PfnList(2);
    for (let pfn = 10; pfn < 15; pfn++) l.push(pfn);
    expect(l.length).toBe(5);
    expect(l.toArray()).toEqual([10, 11, 12, 13, 14]);
    expect(l.pop()).toBe(14);
    expect(l.at(0)).toBe(10);
    expect(l.length).toBe(4);
  });

  test('pop() of an empty list is -1', () => {
    const l = new PfnList();
    expect(l.pop()).toBe(-1);
    l.push(0);
    expect(l.pop()).toBe(0);
    expect(l.pop()).toBe(-1);
    l.push(5);
    l.push(6);
    l.clear();
    expect(l.length).toBe(0);
    expect(l.pop()).toBe(-1);
  });

  test('moveFirst() moves the oldest frames, in order, to the end of another list, as free_pcppages_bulk() takes a batch', () => {
    const pcp = new PfnList(4);
    const zone = new PfnList(4);
    zone.push(99);
    for (let pfn = 1; pfn <= 7; pfn++) pcp.push(pfn);
    pcp.moveFirst(3, zone);
    expect(zone.toArray()).toEqual([99, 1, 2, 3]);
    expect(pcp.toArray()).toEqual([4, 5, 6, 7]);
    pcp.moveFirst(10, zone); // more than it holds: all of them
    expect(pcp.length).toBe(0);
    expect(zone.toArray()).toEqual([99, 1, 2, 3, 4, 5, 6, 7]);
  });
});
