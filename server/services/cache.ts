/**
 * The last `max` values of an expensive async read, by key, most recently used kept: compiled
 * engines, a run's stored directions, a checkpoint's tensor. A failed read is forgotten, so the next
 * ask tries again; `onEvict` releases what an evicted value holds (an engine's sessions).
 */
export class PromiseLru<K, V> {
  private readonly map = new Map<K, Promise<V>>();

  constructor(
    private readonly max: number,
    private readonly onEvict?: (value: V) => void,
  ) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    let p = this.map.get(key);
    if (p) this.map.delete(key);
    else {
      p = load();
      p.catch(() => {
        if (this.map.get(key) === p) this.map.delete(key);
      });
    }
    this.map.set(key, p); // most recent last
    for (const [k, old] of this.map) {
      if (this.map.size <= this.max) break;
      this.map.delete(k);
      if (this.onEvict) void old.then(this.onEvict, () => undefined);
    }
    return p;
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  get size(): number {
    return this.map.size;
  }

  delete(key: K): Promise<V> | undefined {
    const p = this.map.get(key);
    this.map.delete(key);
    return p;
  }
}

/** One cache per owner (an artifact store, a data directory), dropped with it. */
export function perOwner<O extends object, K, V>(max: number): (owner: O) => PromiseLru<K, V> {
  const caches = new WeakMap<O, PromiseLru<K, V>>();
  return (owner) => {
    let c = caches.get(owner);
    if (!c) caches.set(owner, (c = new PromiseLru<K, V>(max)));
    return c;
  };
}
