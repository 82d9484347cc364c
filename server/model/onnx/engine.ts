/**
 * OnnxEngine: hooked inference of our TransformerLens-compatible GPT on ONNX Runtime.
 *
 *   forward            logits [B, T, d_vocab]
 *   runWithCache       logits + only the requested activations, sliced to requested positions
 *   runWithInterventions  the same, with per-row patches / ablations / steering (interventions.ts)
 *
 * Each distinct graph variant (which hooks are outputs, which are patched, KV cache or not, see
 * graph.ts) is compiled once into an ORT session and kept in a small LRU cache: ORT runs every node
 * of a session's graph whatever outputs are fetched, so a plain forward must not pay for hooks.
 */
import { checkWeights } from '../weights.js';
import type { ModelConfig, Weights } from '../config.js';
import { buildGraph, flatHeadOutput, specKey, type GraphSpec } from './graph.js';
import { allHookNames, hookGeometry, HookError } from '../hooks.js';
import { compileInterventions, type Intervention } from './interventions.js';
import { feedI32, feedI64, OrtSession, runtimeOptionsFromEnv, type ActiveBinding, type Feed, type HostTensor, type RuntimeOptions } from './runtime.js';
import { UserError } from '../../errors.js';

export interface Activation {
  shape: number[];
  data: Float32Array;
}

export interface CacheOptions {
  /** Hook names to return (TL names); default every hook. */
  names?: readonly string[];
  /** Keep only these (query) positions of each activation, in this order; default all. */
  positions?: readonly number[];
  /**
   * Unembed only the last position: logits [B, 1, d_vocab] (graph variant lastOnly, which also
   * computes the last block for that position alone when no hook of it is requested or intervened
   * on). ln_final's hooks are then unavailable.
   */
  lastOnly?: boolean;
}

export interface RunResult {
  /** [B, T, d_vocab] ([B, 1, d_vocab] with `lastOnly`) */
  logits: Float32Array;
  cache: Map<string, Activation>;
}

export interface EngineOptions extends RuntimeOptions {
  /** Compiled graph variants kept (LRU); default 12. */
  maxSessions?: number;
}

interface Entry {
  session: Promise<OrtSession>;
  busy: number;
  evicted: boolean;
}

export class EngineError extends Error {
  override name = 'EngineError';
}

export class OnnxEngine {
  private readonly sessions = new Map<string, Entry>();
  private disposed = false;

  private constructor(
    readonly cfg: ModelConfig,
    private readonly weights: Weights,
    private readonly opts: EngineOptions,
    /** Execution provider in use ('cpu' or 'cuda'). */
    readonly provider: 'cpu' | 'cuda',
    /** The ORT binding running its sessions (runtime.ts): 'direct' hands outputs over without a copy. */
    readonly binding: ActiveBinding,
  ) {}

  /**
   * Checks the weights and compiles the plain forward graph. Device/threads default from
   * SEARCHLIGHT_* env. The engine keeps `weights` to compile further variants on demand: do not
   * mutate them afterwards (make a new engine instead).
   */
  static async create(cfg: ModelConfig, weights: Weights, opts: EngineOptions = {}): Promise<OnnxEngine> {
    checkWeights(cfg, weights);
    const o = { ...runtimeOptionsFromEnv(), ...opts };
    const first = await OrtSession.create(buildGraph(cfg, weights, {}), o);
    // Every later variant runs where the first one does.
    const pinned = { ...o, device: first.provider, binding: first.binding };
    const engine = new OnnxEngine(cfg, weights, pinned, first.provider, first.binding);
    engine.sessions.set(specKey({}), { session: Promise.resolve(first), busy: 0, evicted: false });
    return engine;
  }

  /** Checks a flat [B, T] token batch; an error names the bad row/position. */
  checkTokens(tokens: Int32Array, B: number, T: number, offset = 0): void {
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new EngineError(`batch must be at least 1×1, got B=${B}, T=${T}`);
    if (tokens.length !== B * T) throw new EngineError(`tokens has ${tokens.length} entries but B×T = ${B}×${T} = ${B * T}`);
    if (offset + T > this.cfg.n_ctx) throw new UserError(`sequence length ${offset + T} exceeds n_ctx ${this.cfg.n_ctx}`, { code: 'SEQUENCE_TOO_LONG' });
    const V = this.cfg.d_vocab;
    for (let i = 0; i < tokens.length; i++) {
      if (!(tokens[i] >= 0 && tokens[i] < V))
        throw new UserError(`token ${tokens[i]} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${V})`, {
          code: 'TOKEN_OUTSIDE_VOCABULARY',
        });
    }
  }

  /**
   * Runs graph variant `spec` (compiled on first use) on `feeds`, fetching `fetch`.
   * The low-level entry point used by patching sweeps and generation. Hook outputs come as the
   * graph makes them: q/k/v for which `flatHeadOutput` holds are [B, T, H·E] (see graph.ts).
   */
  async runSpec(spec: GraphSpec, feeds: Record<string, Feed>, fetch: readonly string[]): Promise<Record<string, HostTensor>> {
    if (this.disposed) throw new EngineError('engine was disposed');
    const key = specKey(spec);
    let e = this.sessions.get(key);
    if (e)
      this.sessions.delete(key); // re-insert below: Map order is our LRU order
    else e = { session: OrtSession.create(buildGraph(this.cfg, this.weights, spec), this.opts), busy: 0, evicted: false };
    this.sessions.set(key, e);
    this.evict();
    e.busy++;
    try {
      return await (await e.session).run(feeds, fetch);
    } finally {
      e.busy--;
      if (e.evicted && e.busy === 0) void (await e.session).dispose();
    }
  }

  private evict(): void {
    const max = Math.max(1, this.opts.maxSessions ?? 12);
    for (const [key, e] of this.sessions) {
      if (this.sessions.size <= max) break;
      this.sessions.delete(key);
      e.evicted = true;
      if (e.busy === 0)
        void e.session.then(
          (s) => s.dispose(),
          () => undefined,
        );
    }
  }

  /** logits [B, T, d_vocab] for a flat row-major [B, T] token batch. */
  async forward(tokens: Int32Array, B: number, T: number): Promise<Float32Array> {
    this.checkTokens(tokens, B, T);
    const out = await this.runSpec({}, { tokens: feedI32(tokens, [B, T]) }, ['logits']);
    return out.logits.data;
  }

  /** logits plus the activations named in `opts.names` (default all), sliced to `opts.positions`. */
  async runWithCache(tokens: Int32Array, B: number, T: number, opts: CacheOptions = {}): Promise<RunResult> {
    return this.runWithInterventions(tokens, B, T, [], opts);
  }

  /** Like runWithCache, with interventions applied (each may target its own rows). */
  async runWithInterventions(tokens: Int32Array, B: number, T: number, interventions: readonly Intervention[], opts: CacheOptions = {}): Promise<RunResult> {
    this.checkTokens(tokens, B, T);
    const names = [...new Set(opts.names ?? allHookNames(this.cfg))];
    for (const n of names) hookGeometry(this.cfg, n); // unknown names throw
    for (const p of opts.positions ?? []) {
      if (!Number.isInteger(p) || p < 0 || p >= T) throw new HookError(`cache position ${p} is outside [0, ${T})`, 'INVALID_INTERVENTION');
    }
    const iv = compileInterventions(this.cfg, interventions, B, T);
    // Positions are gathered inside the graph, so ORT copies out only what was asked for.
    const positions = opts.positions ? [...opts.positions] : undefined;
    const spec: GraphSpec = { outputs: names, patch: iv.patch, add: iv.add, cachePositions: !!positions && names.length > 0, lastOnly: !!opts.lastOnly };
    const feeds: Record<string, Feed> = { tokens: feedI32(tokens, [B, T]), ...iv.feeds };
    if (spec.cachePositions)
      feeds.cache_positions = feedI64(
        BigInt64Array.from(positions!, (p) => BigInt(p)),
        [positions!.length],
      );
    const out = await this.runSpec(spec, feeds, ['logits', ...names]);
    const cache = new Map<string, Activation>();
    for (const n of names) {
      const { dims, data } = out[n];
      // [B, pos, H·E] → [B, pos, H, d_head]: the same bytes (graph.ts header).
      cache.set(n, { shape: flatHeadOutput(spec, n) ? [dims[0], dims[1], this.cfg.n_heads, this.cfg.d_head] : dims, data });
    }
    return { logits: out.logits.data, cache };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (e) => (await e.session).dispose()));
  }
}
