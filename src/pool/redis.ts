/**
 * The Redis server of the job queue (queue.ts, queue-worker.ts): its URL, and one connection to it
 * whose failure is one line naming the option, never ioredis's retry messages or a stack.
 *
 *   redis://HOST[:PORT][/DB]           (PORT 6379, DB 0 when left out)
 *   redis://[USER]:PASSWORD@HOST:PORT/DB, and rediss:// for TLS
 */
import type { Redis, RedisOptions } from 'ioredis';
import { UsageError } from '../errors.js';

export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
  /** The URL to print: without the password. */
  readonly text: string;
  /** The option the URL came from, for messages ('--queue'). */
  readonly option: string;
}

/** Parse a redis:// URL; a bad one is a UsageError naming the option. */
export function parseRedisUrl(url: string, option = '--queue'): RedisTarget {
  const bad = (why: string): UsageError => new UsageError(`option '${option}': '${url}' ${why} (expected redis://HOST:PORT/DB)`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('is not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`is not a redis URL (scheme ${u.protocol.replace(/:$/, '')})`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw bad('has no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(path)) throw bad(`has a database '${decodeURIComponent(path)}' that is not a number`);
  const db = path === '' ? 0 : Number(path);
  if (u.search !== '' || u.hash !== '') throw bad('has a query or fragment');
  const username = u.username === '' ? undefined : decodeURIComponent(u.username);
  const password = u.password === '' ? undefined : decodeURIComponent(u.password);
  const who = username !== undefined ? `${u.username}${password !== undefined ? ':***' : ''}@` : password !== undefined ? ':***@' : '';
  return { host, port, db, username, password, tls: u.protocol === 'rediss:', text: `${u.protocol}//${who}${u.host}/${db}`, option };
}

/** How a connection behaves once it is up, when the server goes away. */
export interface Reconnect {
  /** Longest wait between two attempts, ms. */
  readonly maxDelayMs: number;
  /** Give up after this many attempts in a row (Infinity: never). */
  readonly attempts: number;
}

/**
 * One connection, tried once: an unreachable server, a refused password or a database out of
 * range is a UsageError of one line. Once it is up, it reconnects as `reconnect` says (bullmq's
 * blocking commands need maxRetriesPerRequest null: a command waits for the reconnection).
 * `onError` hears the connection's errors (without a listener ioredis prints each one).
 */
export async function connectRedis(t: RedisTarget, reconnect: Reconnect, onError: (e: Error) => void = () => {}): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const opts: RedisOptions = {
    host: t.host,
    port: t.port,
    db: t.db,
    username: t.username,
    password: t.password,
    tls: t.tls ? {} : undefined,
    lazyConnect: true,
    connectTimeout: 10_000,
    maxRetriesPerRequest: null,
    // The first connection is tried once: its failure is the user's to fix, now.
    retryStrategy: () => null,
  };
  const r = new Redis(opts);
  let last: Error | undefined;
  let up = false;
  r.on('error', (e: Error) => {
    last = e;
    if (up) onError(e);
  });
  try {
    await r.connect();
    // A database out of range is only an error event of the connection: ask for it again.
    if (t.db !== 0) await r.select(t.db);
  } catch (e) {
    r.disconnect();
    const why = (e instanceof Error && /^ERR|^WRONGPASS|^NOAUTH/.test(e.message) ? e : (last ?? (e as Error))).message.split('\n')[0];
    throw new UsageError(`${/^(ERR|WRONGPASS|NOAUTH|WRONGTYPE)/.test(why) ? 'cannot use' : 'cannot reach'} redis at ${t.text} (option '${t.option}'): ${why}`);
  }
  // Later connections (bullmq's duplicates of this one) and reconnections: retried as asked.
  r.options.retryStrategy = (times: number) => (times > reconnect.attempts ? null : Math.min(200 * times, reconnect.maxDelayMs));
  up = true;
  return r;
}
