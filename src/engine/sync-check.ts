/**
 * The engine's sync-rule check (engine.ts, docs/architecture.md#the-sync-rule): the error a
 * forgotten `yield SYNC` throws, and how it finds the model code that touched the line.
 */

/** A shared cache line was touched by a task that owed a sync: a model bug, never a user error. */
export class SyncRuleError extends Error {
  constructor(
    readonly line: string,
    readonly time: number,
    readonly horizon: number,
    readonly site: string,
  ) {
    super(`sync rule broken: cache line '${line}' touched at ${time} ns, beyond the earliest pending time ${horizon} ns, without a yield SYNC, in ${site}`);
    this.name = 'SyncRuleError';
  }
}

/** The first stack frame outside the engine: the model code that touched the line. */
export function callSite(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const outside = frames.find((f) => !/[\\/]engine[\\/](engine|event-loop|cacheline|locks|sync-check)\.[jt]s|<anonymous>/.test(f));
  return (outside ?? frames[0] ?? 'unknown').trim().replace(/^at /, '');
}
