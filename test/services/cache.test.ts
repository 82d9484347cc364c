/** PromiseLru (server/services/cache.ts): the cache behind engines, direction stores and checkpoint tensors. */
import { describe, expect, it } from 'vitest';
import { PromiseLru, perOwner } from '../../server/services/cache.js';

describe('PromiseLru', () => {
  it('loads a key once, keeps the last `max` used, releases what it evicts, and forgets a failed load', async () => {
    const evicted: string[] = [];
    const lru = new PromiseLru<string, string>(2, (v) => evicted.push(v));
    let loads = 0;
    const load = (v: string) => () => {
      loads++;
      return Promise.resolve(v);
    };
    expect(await lru.get('a', load('A'))).toBe('A');
    expect(await lru.get('a', load('A again'))).toBe('A'); // kept: not loaded again
    expect(loads).toBe(1);
    await lru.get('b', load('B'));
    await lru.get('a', load('A')); // a is now the most recent
    await lru.get('c', load('C')); // evicts b, the least recently used
    await Promise.resolve();
    expect([...lru.keys()]).toEqual(['a', 'c']);
    expect(evicted).toEqual(['B']);
    await expect(lru.get('d', () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');
    await new Promise((r) => setTimeout(r, 0));
    expect([...lru.keys()]).not.toContain('d');
    expect(await lru.get('d', load('D'))).toBe('D'); // tried again
    expect(lru.delete('d')).toBeInstanceOf(Promise);
    expect(lru.size).toBe(1);
  });

  it('keeps one cache per owner', async () => {
    const of = perOwner<object, number, number>(4);
    const [x, y] = [{}, {}];
    await of(x).get(1, async () => 10);
    expect(of(x)).toBe(of(x));
    expect(await of(y).get(1, async () => 20)).toBe(20);
    expect(await of(x).get(1, async () => 30)).toBe(10);
  });
});
