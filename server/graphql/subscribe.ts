/**
 * Subscription execution with a fresh context per event.
 *
 * graphql-js' `subscribe` executes every event of a subscription with the one `contextValue` made
 * when the client subscribed (graphql-js execution/subscribe.js: `execute({...args, rootValue:
 * payload})`). Our context carries DataLoaders, which cache: an `annotationEvents` subscription
 * that loaded an annotation's comments for its first event would serve those same comments (and
 * score) for every later event. Loaders are meant to live for one request; for a subscription, one
 * event is the request. So this does what graphql-js' `subscribe` does — create the source event
 * stream, map each event through `execute` — but gives each event `perEvent(context)`.
 */
import { type ExecutionArgs, type ExecutionResult, GraphQLError, createSourceEventStream, execute } from 'graphql/index.js';
import { CredentialsRevoked } from './context.js';

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof (x as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

/**
 * `source` mapped through `fn`; returning (client unsubscribed) or a failing `fn` closes `source`.
 * When `isLast(result)` holds, that result is the stream's last: the next call closes `source`.
 */
export function mapEvents<T, R>(
  source: AsyncIterable<T>,
  fn: (v: T) => Promise<R> | R,
  isLast: (r: R) => boolean = () => false,
): AsyncGenerator<R, void, void> {
  let ended = false;
  const it = source[Symbol.asyncIterator]();
  const close = async (): Promise<void> => {
    try {
      await it.return?.();
    } catch {
      /* keep the original error */
    }
  };
  const mapped = async (r: IteratorResult<T>): Promise<IteratorResult<R, void>> => {
    if (r.done) return { value: undefined, done: true };
    try {
      const value = await fn(r.value);
      ended = isLast(value);
      return { value, done: false };
    } catch (e) {
      await close();
      throw e;
    }
  };
  const gen: AsyncGenerator<R, void, void> = {
    next: async () => {
      if (ended) {
        await close();
        return { value: undefined, done: true };
      }
      return mapped(await it.next());
    },
    return: async () => {
      await close();
      return { value: undefined, done: true };
    },
    throw: async (e: unknown) => {
      await close();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return gen;
    },
  } as AsyncGenerator<R, void, void>;
  return gen;
}

/** Like graphql-js' `subscribe`, but each event executes with `perEvent(args.contextValue)`. */
export async function subscribePerEventContext<C>(
  args: ExecutionArgs,
  perEvent: (ctx: C) => Promise<C>,
): Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return stream as ExecutionResult;
  const ending = new WeakSet<ExecutionResult>();
  return mapEvents(
    stream,
    async (payload) => {
      let contextValue: C;
      try {
        contextValue = await perEvent(args.contextValue as C);
      } catch (e) {
        if (!(e instanceof CredentialsRevoked)) throw e;
        // The subscriber's credentials are gone: one last event carrying the error, then the end.
        const last: ExecutionResult = { errors: [new GraphQLError(e.message, { extensions: { code: 'UNAUTHENTICATED' } })] };
        ending.add(last);
        return last;
      }
      return (await execute({ ...args, rootValue: payload, contextValue })) as ExecutionResult;
    },
    (r) => ending.has(r),
  );
}
