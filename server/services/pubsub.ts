/**
 * In-process publish/subscribe for GraphQL subscriptions (job progress, annotation events). One
 * server process owns the database, so in-process delivery reaches every subscriber. Each
 * subscription buffers at most `maxBuffered` events; a slow consumer loses the oldest ones (for
 * progress only the latest state matters).
 */
type Listener = (payload: unknown) => void;

export class PubSub {
  private readonly topics = new Map<string, Set<Listener>>();

  publish(topic: string, payload: unknown): void {
    for (const l of this.topics.get(topic) ?? []) l(payload);
  }

  listenerCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /**
   * An async iterator of the topic's events from now on. `initial` values are yielded first;
   * iteration ends after an event for which `isLast` returns true, or when the consumer returns.
   */
  subscribe<T>(topic: string, opts: { initial?: T[]; isLast?: (v: T) => boolean; maxBuffered?: number } = {}): AsyncIterableIterator<T> {
    const queue: T[] = [...(opts.initial ?? [])];
    const max = opts.maxBuffered ?? 100;
    let waiting: ((r: IteratorResult<T>) => void) | null = null;
    let done = false;
    const listeners = this.topics.get(topic) ?? new Set<Listener>();
    this.topics.set(topic, listeners);
    const stop = (): void => {
      done = true;
      listeners.delete(listener);
      if (listeners.size === 0) this.topics.delete(topic);
    };
    const listener: Listener = (payload) => {
      if (done) return;
      if (waiting) {
        const w = waiting;
        waiting = null;
        w({ value: payload as T, done: false });
      } else {
        queue.push(payload as T);
        if (queue.length > max) queue.shift();
      }
    };
    listeners.add(listener);
    let finished = false; // the last event was delivered
    const it: AsyncIterableIterator<T> = {
      next: () => {
        if (finished || (done && queue.length === 0)) {
          stop();
          return Promise.resolve({ value: undefined, done: true });
        }
        const deliver = (v: T): IteratorResult<T> => {
          if (opts.isLast?.(v)) {
            finished = true;
            stop();
          }
          return { value: v, done: false };
        };
        if (queue.length > 0) return Promise.resolve(deliver(queue.shift() as T));
        return new Promise((resolve) => {
          waiting = (r) => resolve(r.done ? r : deliver(r.value));
        });
      },
      return: () => {
        stop();
        if (waiting) {
          const w = waiting;
          waiting = null;
          w({ value: undefined, done: true });
        }
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }
}
