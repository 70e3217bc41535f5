import { describe, expect, it } from 'vitest';
import { commandsOf, type InkKey } from '../../src/ui/key-commands.js';

const none: InkKey = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageUp: false, pageDown: false, home: false, end: false, return: false, escape: false, tab: false, ctrl: false };

describe('report view keys', () => {
  it('takes each key of a burst ink hands over as one string, in order', () => {
    expect(commandsOf('jjj\r', none)).toEqual(['down', 'down', 'down', 'toggle']);
    expect(commandsOf('kGgb l\th', none)).toEqual(['up', 'bottom', 'top', 'breakdown', 'pageDown', 'nextTable', 'nextTable', 'prevTable']);
    // A quit in the middle of a burst is one of its commands (the view stops there).
    expect(commandsOf('jq\u0003', none)).toEqual(['down', 'quit', 'quit']);
    expect(commandsOf('xyz', none)).toEqual([]);
  });

  it('maps the keys ink names (arrows, paging, enter, tab, escape, ctrl-c) to one command', () => {
    expect(commandsOf('', { ...none, downArrow: true })).toEqual(['down']);
    expect(commandsOf('', { ...none, upArrow: true })).toEqual(['up']);
    expect(commandsOf('', { ...none, pageUp: true })).toEqual(['pageUp']);
    expect(commandsOf('', { ...none, end: true })).toEqual(['bottom']);
    expect(commandsOf('', { ...none, rightArrow: true })).toEqual(['nextTable']);
    expect(commandsOf('', { ...none, leftArrow: true })).toEqual(['prevTable']);
    expect(commandsOf('', { ...none, return: true })).toEqual(['toggle']);
    expect(commandsOf('', { ...none, tab: true })).toEqual(['nextTable']);
    expect(commandsOf('', { ...none, escape: true })).toEqual(['quit']);
    expect(commandsOf('c', { ...none, ctrl: true })).toEqual(['quit']);
    expect(commandsOf('j', { ...none, ctrl: true })).toEqual([]);
  });
});
