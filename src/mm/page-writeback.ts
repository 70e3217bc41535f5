import { SYNC, type Code } from '../engine/engine.js';
import type { Thread } from './kernel.js';
import type { File } from './filemap.js';

/**
 * Dirty-page throttling of mm/page-writeback.c: balance_dirty_pages_ratelimited() and
 * balance_dirty_pages(), against the model's writeback at the storage bandwidth.
 */

/** ratelimit_pages: how many pages a task dirties between two balance_dirty_pages() calls. */
const RATELIMIT_PAGES = 32;

/** balance_dirty_pages_ratelimited(): shmem is not dirty-accounted; disk files check every 32 pages. */
export function* balanceDirtyPagesRatelimited(th: Thread, file: File): Code {
  if (file.shmem) return;
  th.t.cost(th.k.est.DIRTY_RATELIMIT_NS);
  if (++th.nrDirtied < RATELIMIT_PAGES) return;
  th.nrDirtied = 0;
  yield* balanceDirtyPages(th);
}

/**
 * balance_dirty_pages(): the flusher writes dirty file pages back at the storage bandwidth; a
 * task that finds more than dirty_ratio (20 %) of memory dirty pauses (io_schedule_timeout) for
 * as long as writeback needs to bring the dirty count back under the limit, at most 200 ms
 * (MAX_PAUSE). The mmap lock has already been dropped by the caller.
 */
function* balanceDirtyPages(th: Thread): Code {
  const t = th.t;
  const k = th.k;
  t.cost(th.k.est.BALANCE_DIRTY_NS);
  if (t.mustSync()) yield SYNC;
  const wb = k.writeback;
  // Writeback since the last look (the flusher starts once background_ratio, 10 %, is passed).
  const perNs = k.opts.writebackBytesPerNs / k.pageSize;
  const cleaned = Math.floor((t.clock - wb.last) * perNs);
  wb.last = t.clock;
  if (wb.dirty > k.pages.maxPages * 0.1) wb.dirty = Math.max(0, wb.dirty - cleaned);
  const limit = k.pages.maxPages * 0.2;
  if (wb.dirty <= limit) return;
  // MAX_PAUSE in mm/page-writeback.c: at most 200 ms per pause (HZ / 5).
  const pauseNs = Math.min(200e6, (wb.dirty - limit) / perNs);
  yield* k.eng.sleep(t, pauseNs, 'balance_dirty_pages');
}
