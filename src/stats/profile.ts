/**
 * A cpu-clock recording (record -e cpu-clock [-g]) read as perf diff reads a perf.data: its
 * samples by the shared object and symbol of the sampled function (the leaf of a call chain), as
 * `report`'s `dso` and `sym` keys name them.
 */
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { keyOf } from '../format/report-keys.js';
import { profileKey, type Profile, type ProfileEntry } from '../format/profile-diff.js';
import { openTraceInput, readTrace, type TraceHeader } from '../trace/ndjson-reader.js';

/** The event perf diff compares here: the simulated CPUs' time. */
export const PROFILE_EVENT = 'cpu-clock';

/** Does this file start like a cpu-clock recording (a trace header that lists cpu-clock)? */
export function isProfileHeader(h: TraceHeader | null): boolean {
  return h !== null && (h.events ?? []).includes(PROFILE_EVENT);
}

/** Read the cpu-clock samples of a recording into a Profile. */
export async function loadProfile(path: string, stdin: Readable, warn: (m: string) => void): Promise<Profile> {
  const { stream, name } = await openTraceInput(path, stdin);
  let program: string | undefined;
  const entries = new Map<string, ProfileEntry>();
  let total = 0;
  const st = await readTrace(
    stream,
    {
      header: (h) => {
        const f = h.workload?.file ?? h.workload?.name;
        program = f === undefined ? undefined : basename(f);
      },
      sample: (s) => {
        if (s.event !== PROFILE_EVENT) return;
        const period = typeof s.period === 'number' ? s.period : 1;
        const dso = keyOf('dso', s, program);
        const sym = keyOf('sym', s, program);
        const k = profileKey(dso, sym);
        const e = entries.get(k);
        entries.set(k, { dso, sym, period: (e?.period ?? 0) + period });
        total += period;
      },
    },
    { name, warn },
  );
  if (!isProfileHeader(st.header)) throw new UsageError(`${name}: not a cpu-clock recording (record -e cpu-clock [-g])`);
  if (total === 0) throw new UsageError(`${name}: no cpu-clock samples`);
  return { event: PROFILE_EVENT, total, entries };
}
