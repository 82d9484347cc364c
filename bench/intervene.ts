/**
 * `npm run bench -- intervene`: greedy decoding with a hook intervention applied on every forward,
 * in generated tokens per second:
 *   (a) ours: decodeRecomputing (server/model/onnx/intervene.ts), the whole sequence recomputed for
 *       each new token, one prompt after another;
 *   (b) its anchor, in the same run: the same greedy decode in PyTorch with the same weights, prompts
 *       and intervention as a forward hook, recomputing the whole sequence each token as
 *       TransformerLens' run_with_hooks does (bench/torch_intervene.py, torch_train.py's GPT;
 *       /usr/bin/python3 with Debian's python3-torch; null with the reason when unavailable), on as
 *       many threads, and again on one thread: PyTorch's OpenMP threads wait for each other at every
 *       op, so beside other load its two-thread figure collapses (measured 6–32 tokens/s against
 *       ~90 on one thread); its timed passes stop after 20 s;
 *   (c) for context, interp/decode.ts' KV-cache decoder without interventions (decodeWithInterventions
 *       given none) on the same prompts, one row per call as (a) runs, and batched.
 *
 * Model: the hallway preset with TL init at --scale × its std (2 by default, so greedy choices vary
 * from token to token and the agreement check means something; timing does not depend on values), or
 * `--weights W` (e.g. data/demo/demo-5x5.safetensors with --rows 5). Prompts: the first --prompts
 * DFS mazes of the seed, up to <PATH_START>. Each decode stops at <PATH_END> or after --new-tokens.
 * Figures: the median over --reps timed passes over every prompt, after one untimed pass (which
 * compiles the graph variants). Checks: (a) and (b) should generate the same tokens (greedy, same
 * weights; float rounding can flip a near tie, so it is reported as an agreement, not asserted), and
 * the intervention should change them (rows of (a) that differ from (c)'s), else a hook on the wrong
 * module would agree too.
 */
import { benchModel, PYTHON_OPTION } from './model.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseCommand, UsageError } from '../server/cli/args.js';
import { timed } from './timing.js';
import { decodeWithInterventions } from '../server/interp/decode.js';
import { generateMazes } from '../server/maze/generate.js';
import { Rng } from '../server/maze/rng.js';
import { getTokenizer } from '../server/maze/tokenize/index.js';
import { SPECIAL } from '../server/maze/tokenize/vocab.js';
import { isStandardArchitecture, paramShapes } from '../server/model/config.js';
import { decodeRecomputing, encodeSafetensors, type Intervention } from '../server/model/engine.js';
import { OnnxEngine } from '../server/model/onnx/engine.js';
import { hookMean } from '../server/model/onnx/intervene.js';
import { runTorchScript } from './torch.js';

const INTERVENTIONS = {
  'zero-head': 'zero blocks.0.attn.hook_z, head 0, every position',
  'mean-head': 'replace blocks.0.attn.hook_z, head 0, every position, by its mean over the prompts',
  steer: 'add a fixed random vector (norm 4) to blocks.<n_layers/2>.hook_resid_pre at every position',
} as const;
type InterventionName = keyof typeof INTERVENTIONS;

const spec = {
  name: 'bench intervene',
  summary: 'Greedy decoding with an intervention on every forward (decodeRecomputing) beside PyTorch.',
  options: {
    weights: { type: 'string', description: 'Model file (default: hallway preset, TL init × --scale)', placeholder: 'W' },
    scale: { type: 'number', description: 'Init std multiplier for the default model', default: 2 },
    rows: { type: 'integer', description: 'Maze grid side (the model vocabulary must cover it)', default: 6 },
    prompts: { type: 'integer', description: 'DFS maze prompts', default: 6 },
    'new-tokens': { type: 'integer', description: 'At most this many generated tokens per prompt', default: 32 },
    reps: { type: 'integer', description: 'Timed passes over every prompt (after one untimed)', default: 3 },
    seed: { type: 'integer', description: 'Maze seed', default: 1 },
    intervention: { type: 'string', description: 'Which intervention', default: 'zero-head', choices: Object.keys(INTERVENTIONS) },
    threads: { type: 'integer', description: 'Threads for ORT (intra-op) and PyTorch; default one per core', default: os.cpus().length },
    python: PYTHON_OPTION,
  },
} as const;

/** One untimed pass (its result kept), then the median of `reps` timed ones, in seconds. */
const timedS = async <R>(reps: number, fn: () => Promise<R>): Promise<{ first: R; median_s: number }> => {
  const t = await timed(1, reps, fn);
  return { first: t.first, median_s: t.medianMs / 1000 };
};

const rate = (tokens: number, s: number) => ({ tokens_per_s: +(tokens / s).toFixed(1), median_s: +s.toFixed(3), generated_tokens: tokens });

/** Position-wise agreement of two decodes of the same prompts. */
function agreement(ours: number[][], theirs: number[][]) {
  let same = 0,
    total = 0,
    identical = 0;
  const firstDivergence = ours.map((a, i) => {
    const b = theirs[i];
    total += Math.max(a.length, b.length);
    let first: number | null = null;
    for (let k = 0; k < Math.max(a.length, b.length); k++) {
      if (a[k] === b[k]) same++;
      else first ??= k;
    }
    if (first === null) identical++;
    return first;
  });
  return {
    rows_identical: `${identical}/${ours.length}`,
    token_agreement: +(same / total).toFixed(4),
    first_divergence_per_row: firstDivergence,
  };
}

async function intervention(name: InterventionName, engine: OnnxEngine, prompts: Int32Array[]): Promise<Intervention> {
  const cfg = engine.cfg;
  if (name === 'zero-head') return { hook: 'blocks.0.attn.hook_z', kind: 'zero', heads: [0] };
  if (name === 'mean-head') {
    const mean = await hookMean(engine, prompts, 'blocks.0.attn.hook_z'); // [H, d_head]
    return { hook: 'blocks.0.attn.hook_z', kind: 'replace', heads: [0], value: mean.slice(0, cfg.d_head) };
  }
  const rng = new Rng(7);
  const v = Float32Array.from({ length: cfg.d_model }, () => rng.normal());
  const norm = Math.hypot(...v);
  return { hook: `blocks.${Math.floor(cfg.n_layers / 2)}.hook_resid_pre`, kind: 'add', value: v.map((x) => (4 * x) / norm) };
}

export async function run(argv: string[]): Promise<unknown> {
  const parsed = parseCommand(spec, argv);
  if (!parsed) return {};
  const o = parsed.options;
  if (o.reps < 1 || o.prompts < 1 || o['new-tokens'] < 1) throw new UsageError('bench intervene: --reps, --prompts and --new-tokens must be at least 1');
  const tok = getTokenizer('aotp-ut');
  const { cfg, weights } = await benchModel(o.weights, o.rows, o.scale);
  if (cfg.tokenizer !== 'aotp-ut' || tok.vocabSize(o.rows) > cfg.d_vocab)
    throw new UsageError(`bench intervene: the model (${cfg.tokenizer}, d_vocab ${cfg.d_vocab}) does not cover aotp-ut ${o.rows}×${o.rows} mazes; set --rows`);
  const rng = new Rng(o.seed);
  const prompts = [...generateMazes({ generator: 'dfs', rows: o.rows }, o.prompts, o.seed)].map((m) => tok.tokenizeToIds(m, rng).slice(0, tok.promptLength(m)));
  const N = o['new-tokens'];
  const stop = SPECIAL.PATH_END;
  const name = o.intervention as InterventionName;

  const load0 = os.loadavg();
  const engine = await OnnxEngine.create(cfg, weights, { threads: o.threads });
  try {
    const iv = await intervention(name, engine, prompts);
    // (a) ours: decodeRecomputing, one prompt after another.
    const ours = await timedS(o.reps, async () => {
      const out: number[][] = [];
      for (const p of prompts) out.push(Array.from((await decodeRecomputing(engine, p, [iv], { stopToken: stop, maxNewTokens: N })).subarray(p.length)));
      return out;
    });
    const oursCount = ours.first.reduce((a, g) => a + g.length, 0);
    // (c) context: the KV-cache decoder without interventions, one row per call and all rows batched.
    const kv = async (batch: number) => {
      const r = await timedS(o.reps, () =>
        decodeWithInterventions(
          engine,
          prompts.map((prompt) => ({ prompt })),
          { stopToken: stop, maxNewTokens: N, batch },
        ),
      );
      const count = r.first.reduce((a, g) => a + g.length, 0);
      return { tokens: r.first.map((g) => Array.from(g)), figures: { batch, ...rate(count, r.median_s) } };
    };
    const kvOne = await kv(1);
    const kvBatched = await kv(prompts.length);
    // That the intervention acts at all (module comment).
    const changed = ours.first.filter((g, i) => g.join() !== kvOne.tokens[i].join()).length;

    // (b) the anchor, on the same weights (a TL state_dict in a temporary safetensors file).
    let torch: { result: unknown; reason?: string };
    if (!isStandardArchitecture(cfg) || !['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'].includes(cfg.act_fn))
      torch = { result: null, reason: 'torch_train.py GPT covers the standard architecture with the tanh GELU only' };
    else {
      const dir = mkdtempSync(join(os.tmpdir(), 'bench-intervene-'));
      try {
        const file = join(dir, 'weights.safetensors');
        writeFileSync(file, encodeSafetensors(paramShapes(cfg).map(([n, shape]) => ({ name: n, shape, data: weights.get(n)! }))));
        torch = runTorchScript(o.python, 'torch_intervene.py', {
          ...cfg,
          weights: file,
          prompts: prompts.map((p) => Array.from(p)),
          new_tokens: N,
          stop,
          interventions: [
            { hook: iv.hook, kind: iv.kind, heads: iv.heads ?? null, positions: iv.positions ?? null, value: iv.value ? Array.from(iv.value) : null },
          ],
          reps: o.reps,
          budget_s: 20,
          threads: o.threads,
          also_threads: o.threads > 1 ? [1] : [],
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    type TorchRate = { tokens_per_s: number; median_s: number; threads: number; passes: number };
    const t = torch.result as (TorchRate & { generated_tokens: number; generated: number[][]; torch: string; also: TorchRate[] }) | null;
    const one = t?.also.find((x) => x.threads === 1);
    const oursRate = rate(oursCount, ours.median_s);
    return {
      what: `greedy decoding of ${prompts.length} ${o.rows}x${o.rows} DFS maze prompts (${prompts.map((p) => p.length).join(', ')} tokens), ≤ ${N} new tokens each (stop <PATH_END>), one intervention on every forward, whole sequence recomputed per token`,
      model: o.weights ?? `hallway preset, TL init × ${o.scale}`,
      intervention: { name, what: INTERVENTIONS[name], hook: iv.hook, kind: iv.kind },
      threads: o.threads,
      binding: engine.binding,
      ours_decode_recomputing: oursRate,
      pytorch_recomputing_with_hook: t
        ? { ...rate(t.generated_tokens, t.median_s), passes: t.passes, torch: t.torch, threads: t.threads }
        : { unavailable: torch.reason },
      ratio_tokens_per_s: t ? +(oursCount / ours.median_s / t.tokens_per_s).toFixed(2) : null,
      // PyTorch on one thread (module comment): beside other load, its fairer figure.
      pytorch_one_thread: one ? { ...rate(t!.generated_tokens, one.median_s), passes: one.passes } : null,
      ratio_vs_pytorch_one_thread: one ? +(oursCount / ours.median_s / one.tokens_per_s).toFixed(2) : null,
      same_tokens_as_pytorch: t ? agreement(ours.first, t.generated) : null,
      rows_changed_by_the_intervention: `${changed}/${prompts.length}`,
      context_kv_cache_no_intervention: { one_row_per_call: kvOne.figures, batched: kvBatched.figures },
      reps: o.reps,
      // Other work on the machine skews both sides, PyTorch's two OpenMP threads most.
      loadavg_before: load0.map((x) => +x.toFixed(2)),
      loadavg_after: os.loadavg().map((x) => +x.toFixed(2)),
    };
  } finally {
    await engine.dispose();
  }
}
