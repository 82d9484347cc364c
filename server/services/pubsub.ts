/**
 * Publish/subscribe for GraphQL subscriptions (job progress, annotation events). Subscribers are
 * this process's; delivery is in-process by default, or — with a MessageBus (Redis, services/redis.ts)
 * — through the bus, which brings every process's events to every process, this one included
 * (each event is delivered once, when it comes back). Each subscription buffers at most
 * `maxBuffered` events; a slow consumer loses the oldest ones (for progress only the latest state
 * matters). Payloads crossing a bus must be JSON (rows are: numbers, strings, JSON columns).
 */
type Listener = (payload: unknown) => void;

/** A transport between processes. */
export interface MessageBus {
  /** Connected now (while it reconnects, events stay in this process rather than being lost). */
  ready(): boolean;
  publish(topic: string, payload: unknown): void;
  onMessage(handler: (topic: string, payload: unknown) => void): void;
  close(): Promise<void>;
}

export class PubSub {
  private readonly topics = new Map<string, Set<Listener>>();

  constructor(private readonly bus?: MessageBus) {
    bus?.onMessage((topic, payload) => this.deliver(topic, payload));
  }

  publish(topic: string, payload: unknown): void {
    if (this.bus?.ready()) this.bus.publish(topic, payload);
    else this.deliver(topic, payload); // no bus, or Redis reconnecting: this process's subscribers still hear it
  }

  private deliver(topic: string, payload: unknown): void {
    for (const l of this.topics.get(topic) ?? []) l(payload);
  }

  /** Stops the bus (server shutdown). */
  async close(): Promise<void> {
    await this.bus?.close();
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
