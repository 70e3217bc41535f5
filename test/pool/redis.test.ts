import { describe, expect, test } from 'vitest';
import { parseRedisUrl } from '../../src/pool/redis.js';
import { UsageError } from '../../src/errors.js';

describe('the job queue\'s redis:// URL', () => {
  test('host, port and database; the defaults; the password kept out of the text', () => {
    expect(parseRedisUrl('redis://10.0.0.5:6380/3')).toMatchObject({ host: '10.0.0.5', port: 6380, db: 3, tls: false, text: 'redis://10.0.0.5:6380/3' });
    expect(parseRedisUrl('redis://fleet')).toMatchObject({ host: 'fleet', port: 6379, db: 0, text: 'redis://fleet/0' });
    expect(parseRedisUrl('rediss://u:s%40cret@fleet:7000/1')).toMatchObject({ username: 'u', password: 's@cret', tls: true, text: 'rediss://u:***@fleet:7000/1' });
    expect(parseRedisUrl('redis://:pw@[::1]:6379/0')).toMatchObject({ host: '::1', password: 'pw', text: 'redis://:***@[::1]:6379/0' });
  });

  test.each([
    ['fleet:6379', /^option '--queue': 'fleet:6379' is not a redis URL \(scheme fleet\)/],
    ['http://fleet/0', /is not a redis URL \(scheme http\)/],
    ['redis://:6379/0', /is not a URL|has no host/],
    ['redis://fleet/db1', /has a database 'db1' that is not a number/],
    ['redis://fleet/0?x=1', /has a query or fragment/],
    ['not a url', /is not a URL/],
  ])('%s is a one-line UsageError naming --queue', (url, re) => {
    let e: unknown;
    try {
      parseRedisUrl(url);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(re);
    expect((e as Error).message).toMatch(/\(expected redis:\/\/HOST:PORT\/DB\)$/);
    expect((e as Error).message).not.toContain('\n');
  });
});
