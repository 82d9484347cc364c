/**
 * The Searchlight HTTP server: one port for
 *   /graphql            Apollo Server 5 (POST/GET) and graphql-ws subscriptions (WebSocket upgrade)
 *   /files/*, /upload/model   binary downloads and raw model upload (downloads.ts)
 *   /healthz            liveness
 *   anything else       `fallback` (the Next.js web app mounts here), else 404
 *
 * `startServer` migrates the database, sweeps files left by a crash, recovers interrupted jobs,
 * and starts the job runner. One server process per data directory.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { type GraphQLFormattedError, type GraphQLSchema, GraphQLError, execute, parse, specifiedRules, validate } from 'graphql/index.js';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { deviceSecret } from '../auth/device.js';
import {
  RateLimiter,
  type RateLimitOptions,
  addressLoginLimitFromEnv,
  loginRateLimitFromEnv,
  passwordCheckLimitFromEnv,
  rateLimitFromEnv,
} from '../auth/rateLimit.js';
import {
  acquireDataDirLock,
  type DataDirLock,
  type DatabaseOwnership,
  type DbHandle,
  databaseUrlFromEnv,
  defaultDataDir,
  describeDatabase,
  ownDatabase,
  prepareDatabase,
  sweepOrphans,
} from '../services/database.js';
import { JobRunner, type JobSystem } from '../jobs/runner.js';
import { intFromEnv } from '../env.js';
import { type App, type Ctx, authenticate, createContext, eventContext } from '../graphql/context.js';
import { handleFiles } from './files.js';
import { isDevelopment, withEnumValues } from '../graphql/errors.js';
import { ANONYMOUS_BODY_LIMIT, GRAPHQL_BODY_LIMIT, HttpError, handleGraphQL, sendError, sendJson } from './http.js';
import { disposeEngines } from '../services/inference.js';
import {
  anonymousIntrospection,
  costError,
  introspectionError,
  introspectionPlugin,
  MAX_DOCUMENT_TOKENS,
  queryCostPlugin,
  queryDepthRule,
} from '../graphql/limits.js';
import { PubSub } from '../services/pubsub.js';
import { buildExecutableSchema } from '../graphql/schema.js';
import { subscribePerEventContext } from '../graphql/subscribe.js';

export interface ServerOptions {
  /** Data directory (artifact files, and the SQLite database); default SEARCHLIGHT_DATA or ./data. */
  dataDir?: string;
  /** A PostgreSQL server for the database (default SEARCHLIGHT_DATABASE_URL); null: SQLite in the data directory whatever the environment says. */
  databaseUrl?: string | null;
  /** 0 picks a free port. Default PORT or 3000. */
  port?: number;
  /** Default 127.0.0.1 unless HOST is set (0.0.0.0 to serve the network). */
  host?: string;
  /** Requests the API does not handle (the web app). Called with the raw request and response. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
  /** WebSocket upgrades on paths other than /graphql (e.g. Next.js' dev HMR). Default: refused. */
  fallbackUpgrade?: (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => void;
  /** Origins (scheme://host:port) allowed to open cookie-authenticated WebSockets besides the server's own. */
  allowedOrigins?: string[];
  rateLimit?: RateLimitOptions;
  /** Login attempts per account from browsers that never signed in to it, and per browser that did (default SEARCHLIGHT_LOGIN_BURST / _PER_MIN, or 10 then 2 a minute). */
  loginRateLimit?: RateLimitOptions;
  /** Whether callers without credentials may introspect the schema (default: not in production; SEARCHLIGHT_INTROSPECTION). */
  anonymousIntrospection?: boolean;
  /** Login attempts without a device cookie per client address (default from SEARCHLIGHT_ADDRESS_LOGIN_BURST / _PER_MIN). */
  addressLoginLimit?: RateLimitOptions;
  /** Password verifications by the whole server (default from SEARCHLIGHT_PASSWORD_CHECK_BURST / _CHECKS_PER_MIN). */
  passwordCheckLimit?: RateLimitOptions;
  /**
   * /healthz also reports the event loop's longest delay since the previous /healthz and the
   * resident memory (default SEARCHLIGHT_HEALTH_DETAIL=1; off: a bare {ok} for anyone who asks).
   */
  healthDetail?: boolean;
  /**
   * Redis for live updates across API instances and worker processes (default SEARCHLIGHT_REDIS_URL;
   * none: in-process delivery).
   */
  redisUrl?: string;
  /** Channel prefix on Redis (default SEARCHLIGHT_REDIS_PREFIX or "searchlight"), so deployments sharing a Redis stay apart. */
  redisPrefix?: string;
  /** Concurrent job workers (default SEARCHLIGHT_JOB_WORKERS or 1). */
  jobWorkers?: number;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  graphqlUrl: string;
  port: number;
  app: App;
  /** The job system behind app.runner: the embedded runner, or BullMQ with Redis (tests wait on it with idle()). */
  runner: JobSystem;
  schema: GraphQLSchema;
  close(): Promise<void>;
}

/** The longest event-loop delay since the last call (then reset), and the resident memory. */
function healthDetail(h: IntervalHistogram): { eventLoopDelayMaxMs: number; rssBytes: number } {
  const max = h.max / 1e6; // ns → ms
  h.reset();
  return { eventLoopDelayMaxMs: Math.round(max * 10) / 10, rssBytes: process.memoryUsage().rss };
}

export async function startServer(given: ServerOptions = {}): Promise<RunningServer> {
  // Redis settings resolved once: they decide the sweep, the bus and the job system.
  const opts: ServerOptions = {
    ...given,
    redisUrl: given.redisUrl ?? (process.env.SEARCHLIGHT_REDIS_URL?.trim() || undefined),
    redisPrefix: given.redisPrefix ?? (process.env.SEARCHLIGHT_REDIS_PREFIX?.trim() || 'searchlight'),
    databaseUrl: given.databaseUrl === undefined ? databaseUrlFromEnv() : given.databaseUrl,
  };
  const log = opts.log ?? ((l: string) => process.stderr.write(`[searchlight] ${l}\n`));
  // Before anything touches the database: a second server on this directory stops here.
  const lock = acquireDataDirLock(opts.dataDir ?? defaultDataDir());
  let handle: DbHandle | undefined;
  let owner: DatabaseOwnership | undefined;
  try {
    handle = await prepareDatabase({ dataDir: opts.dataDir, url: opts.databaseUrl ?? null });
    log(`database: ${describeDatabase(handle)}; artifacts: ${handle.store.describe()}`);
    // Without Redis the embedded runner treats every RUNNING job as its own after a restart: on a
    // shared PostgreSQL database only one such server may run (several need Redis and its queues).
    if (handle.dialect === 'postgres' && !opts.redisUrl) owner = await ownDatabase(handle);
    // With Redis, `searchlight worker` processes may be writing files beside us right now (a
    // checkpoint renamed into place before its row commits would look orphaned): no sweep then.
    if (!opts.redisUrl) {
      const removed = await sweepOrphans(handle);
      if (removed) log(`removed ${removed} unreferenced or partial file(s) left by an earlier run`);
    }
    return await serve(opts, handle, lock, log, owner);
  } catch (e) {
    // Any failed start (port taken, bad schema, …) gives the database and the directory back.
    await owner?.release();
    await handle?.close();
    lock.release();
    throw e;
  }
}

async function serve(opts: ServerOptions, handle: DbHandle, lock: DataDirLock, log: (l: string) => void, owner?: DatabaseOwnership): Promise<RunningServer> {
  const redisUrl = opts.redisUrl;
  // Loaded only when configured: the embedded default never imports the Redis client.
  const bus = redisUrl ? await (await import('../services/redis.js')).redisBus(redisUrl, opts.redisPrefix) : undefined;
  const pubsub = new PubSub(bus);
  let runner: JobSystem | undefined;
  try {
    runner = redisUrl
      ? await queuedJobs(opts, handle, pubsub, redisUrl, log)
      : new JobRunner({ handle, pubsub, concurrency: opts.jobWorkers, log: (l) => log(`jobs: ${l}`) });
    return await serveOn(opts, handle, lock, log, pubsub, runner, owner);
  } catch (e) {
    await runner?.stop().catch(() => undefined);
    await pubsub.close(); // any failed start lets go of Redis too
    throw e;
  }
}

/**
 * With Redis, jobs go to the BullMQ queues (jobs/queued.ts); this process also runs
 * SEARCHLIGHT_JOB_WORKERS of them (default 1, so one API and one Redis still get work done; 0: only
 * `searchlight worker` processes do).
 */
async function queuedJobs(opts: ServerOptions, handle: DbHandle, pubsub: PubSub, redisUrl: string, log: (l: string) => void): Promise<JobSystem> {
  const [{ JobQueues, queueTimingFromEnv }, { QueuedJobs }] = await Promise.all([import('../services/queue.js'), import('../jobs/queued.js')]);
  const prefix = opts.redisPrefix ?? 'searchlight';
  const dispatch = await JobQueues.open(redisUrl, prefix);
  return new QueuedJobs({
    handle,
    pubsub,
    redisUrl,
    prefix,
    dispatch,
    concurrency: opts.jobWorkers ?? intFromEnv('SEARCHLIGHT_JOB_WORKERS', 1, 0),
    timing: queueTimingFromEnv(),
    remoteMinHooks: intFromEnv('SEARCHLIGHT_REMOTE_MIN_HOOKS', 8, 1),
    remoteTimeoutMs: intFromEnv('SEARCHLIGHT_REMOTE_TIMEOUT_MS', 60_000, 100),
    log: (l) => log(`jobs: ${l}`),
  });
}

async function serveOn(
  opts: ServerOptions,
  handle: DbHandle,
  lock: DataDirLock,
  log: (l: string) => void,
  pubsub: PubSub,
  runner: JobSystem,
  owner?: DatabaseOwnership,
): Promise<RunningServer> {
  const app: App = {
    handle,
    runner,
    inference: runner.inference,
    pubsub,
    limiter: new RateLimiter(opts.rateLimit ?? rateLimitFromEnv()),
    loginLimiter: new RateLimiter(opts.loginRateLimit ?? loginRateLimitFromEnv()),
    passwordChecks: new RateLimiter(opts.passwordCheckLimit ?? passwordCheckLimitFromEnv()),
    addressLimiter: new RateLimiter(opts.addressLoginLimit ?? addressLoginLimitFromEnv()),
    deviceSecret: deviceSecret(handle.dataDir),
    secureCookies: process.env.SEARCHLIGHT_SECURE_COOKIES === '1',
  };
  const schema = buildExecutableSchema();
  const formatError = withEnumValues(schema);
  // Depth is checked when a document is validated; cost once its variables are known (limits.ts).
  const validationRules = [queryDepthRule()];
  // Decided once at start (it reads the environment): may callers without credentials introspect?
  const openIntrospection = opts.anonymousIntrospection ?? anonymousIntrospection();

  // The event loop's delay, sampled every 10 ms by Node's own timer (perf_hooks): what a stall costs every other caller.
  // Enabled once the server listens (a failed start leaves no sampler behind).
  const loopDelay = (opts.healthDetail ?? process.env.SEARCHLIGHT_HEALTH_DETAIL === '1') ? monitorEventLoopDelay({ resolution: 10 }) : null;
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const wsServer = useServer(
    {
      schema,
      // The same token, depth and cost limits as HTTP requests. A document over the token limit is
      // refused here as an error message (graphql-ws' own parse has no limit, and would then parse it).
      onSubscribe: (_c, _id, payload) => {
        try {
          parse(payload.query, { maxTokens: MAX_DOCUMENT_TOKENS });
        } catch (e) {
          return [e instanceof GraphQLError ? e : new GraphQLError(String(e))];
        }
        return undefined;
      },
      validate: (sch, doc) => validate(sch, doc, [...specifiedRules, ...validationRules]),
      execute: (args) => {
        const err =
          (openIntrospection ? null : introspectionError((args.contextValue as Ctx).user !== null, args.document)) ??
          costError(args.schema, args.document, args.operationName, args.variableValues);
        return err ? { errors: [err] } : execute(args);
      },
      // Each event executes with fresh DataLoaders (a subscription lives far longer than a request).
      subscribe: (args) => {
        const err = costError(args.schema, args.document, args.operationName, args.variableValues);
        return err ? { errors: [err] } : subscribePerEventContext<Ctx>(args, eventContext);
      },
      context: (c) => {
        // Scripts pass {authorization: "Bearer ..."} in connection_init; browsers send the cookie.
        const auth = typeof c.connectionParams?.authorization === 'string' ? c.connectionParams.authorization : c.extra.request.headers.authorization;
        return createContext(app, { authorization: auth, cookie: c.extra.request.headers.cookie }, undefined, c.extra.request.socket.remoteAddress ?? '');
      },
      onError: (_c, _id, _payload, errors) =>
        errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: 'BAD_USER_INPUT' } })),
      onNext: (_c, _id, _payload, _args, result) => {
        const r = result as { errors?: readonly GraphQLError[] };
        if (!r.errors) return result;
        return { ...result, errors: r.errors.map((e) => formatError(e.toJSON(), e) as GraphQLFormattedError) } as never;
      },
    },
    wss,
  );

  const apollo = new ApolloServer<Ctx>({
    schema,
    validationRules,
    // The parser stops at this many tokens, before any rule walks the document (graphql-js'
    // maxTokens): the largest query the web app sends has ~300.
    parseOptions: { maxTokens: MAX_DOCUMENT_TOKENS },
    formatError,
    includeStacktraceInErrorResponses: isDevelopment(),
    csrfPrevention: true,
    // Shutdown is ours (RunningServer.close, the start command's signal handlers), not Apollo's.
    stopOnTerminationSignals: false,
    introspection: true,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // The schema sets no cache hints, so every response is uncacheable anyway; the default
      // cache-control plugin would still run a hook on every resolved field (~2% of a query's CPU).
      ApolloServerPluginCacheControlDisabled(),
      queryCostPlugin<Ctx>(),
      ...(openIntrospection ? [] : [introspectionPlugin<Ctx>()]),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsServer.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  const selfOrigins = (req: IncomingMessage): string[] => [`http://${req.headers.host}`, `https://${req.headers.host}`, ...(opts.allowedOrigins ?? [])];

  httpServer.on('request', (req, res) => {
    void (async () => {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      try {
        if (pathname === '/graphql') {
          // One authentication per request: it sizes the body limit and becomes the request's context.
          const auth = await authenticate(app, { authorization: req.headers.authorization, cookie: req.headers.cookie });
          await handleGraphQL(
            apollo,
            req,
            res,
            (setCookies) => createContext(app, req.headers, setCookies, req.socket.remoteAddress ?? '', auth),
            auth.user ? GRAPHQL_BODY_LIMIT : ANONYMOUS_BODY_LIMIT,
          );
        } else if (pathname === '/healthz') {
          sendJson(res, 200, { ok: true, runningJobs: await runner.runningCount(), ...(loopDelay ? healthDetail(loopDelay) : {}) });
        } else if (await handleFiles(app, req, res, pathname)) {
          // handled
        } else if (opts.fallback) {
          await opts.fallback(req, res);
        } else {
          sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${pathname}; the API is at /graphql`);
        }
      } catch (e) {
        if (e instanceof HttpError) sendError(res, e.status, e.code, e.message);
        else {
          log(`${req.method} ${pathname}: ${(e as Error)?.stack ?? e}`);
          sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'internal server error');
        }
      }
    })();
  });

  httpServer.on('upgrade', (req, socket, head) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== '/graphql') {
      if (opts.fallbackUpgrade) opts.fallbackUpgrade(req, socket, head);
      else socket.destroy();
      return;
    }
    // Browsers attach cookies to cross-site WebSocket handshakes: refuse foreign origins
    // (cross-site WebSocket hijacking). Non-browser clients send no Origin.
    const origin = req.headers.origin;
    if (origin && !selfOrigins(req).includes(origin)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const port = opts.port ?? Number(process.env.PORT ?? 3000);
  const host = opts.host ?? process.env.HOST ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    // e.g. the port is taken (startServer closes the database and releases the lock; serve, Redis).
    await apollo.stop().catch(() => undefined);
    throw e;
  }
  try {
    await runner.start();
  } catch (e) {
    await apollo.stop().catch(() => undefined);
    throw e;
  }
  loopDelay?.enable();
  const actual = (httpServer.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${actual}`;
  lock.describe({ url });

  let closing: Promise<void> | undefined;
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    port: actual,
    app,
    runner,
    schema,
    close() {
      closing ??= (async () => {
        try {
          for (const client of wss.clients) client.terminate();
          await apollo.stop(); // drains the HTTP server and the WebSocket server
          await runner.stop();
          await disposeEngines(handle.dataDir);
        } finally {
          loopDelay?.disable();
          await pubsub.close().catch(() => undefined);
          await owner?.release();
          await handle.close();
          lock.release();
        }
      })();
      return closing;
    },
  };
}
