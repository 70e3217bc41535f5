import { SYNC, type Code } from '../engine/engine.js';
import type { MmStruct, Thread } from './kernel.js';

/**
 * The mm's RSS counters (mm->rss_stat, include/linux/mm.h and mm/memory.c with
 * SPLIT_RSS_COUNTING): a fault updates its task's cache (add_mm_counter_fast), folded into the
 * mm's shared counters every TASK_RSS_EVENTS_THRESH events (sync_mm_rss); unmaps, THP and
 * khugepaged update the mm's counters directly (add_mm_counter, an atomic on their line).
 * The model keeps one counter for MM_ANONPAGES + MM_FILEPAGES.
 */

/** TASK_RSS_EVENTS_THRESH: a task folds its RSS delta into mm->rss_stat every 64 updates. */
const TASK_RSS_EVENTS_THRESH = 64;

/** add_mm_counter_fast() / inc_mm_counter_fast(): the current task's cached delta. */
export function addMmCounterFast(th: Thread, delta: number): void {
  th.rssPending += delta;
}

/**
 * add_mm_counter_fast() followed by check_sync_rss_stat(): the delta, and one event towards the
 * next sync_mm_rss(). True when syncMmRss() must run now.
 */
export function addMmCounterFastEvent(th: Thread, delta: number): boolean {
  th.rssPending += delta;
  return ++th.rssEvents >= TASK_RSS_EVENTS_THRESH;
}

/** addMmCounterFastEvent() with the sync it may call for. */
export function* addMmCounterFastSync(th: Thread, delta: number): Code {
  if (addMmCounterFastEvent(th, delta)) yield* syncMmRss(th);
}

/** add_mm_counter(): straight into mm->rss_stat, an atomic on its line (mm may be another process's). */
export function* addMmCounter(th: Thread, mm: MmStruct, delta: number): Code {
  const t = th.t;
  if (t.mustSync()) yield SYNC;
  mm.rssLine.writeBy(t);
  mm.rss += delta;
}

/** add_mm_counter() when it needs no sync: true if done (else the caller syncs, or calls addMmCounter()). */
export function addMmCounterNow(th: Thread, mm: MmStruct, delta: number): boolean {
  const t = th.t;
  if (t.owesSync()) return false;
  mm.rssLine.writeBy(t);
  mm.rss += delta;
  return true;
}

/** sync_mm_rss(): fold the task's cached delta into mm->rss_stat. */
export function* syncMmRss(th: Thread): Code {
  const t = th.t;
  if (t.mustSync()) yield SYNC;
  th.mm.rssLine.writeBy(t);
  th.mm.rss += th.rssPending;
  th.rssPending = 0;
  th.rssEvents = 0;
}
