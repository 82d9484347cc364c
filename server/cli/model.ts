/**
 * `searchlight model …`: create a model file, run it (logits, activation caches) and let it solve
 * mazes. forward / cache / solve run on ONNX Runtime by default (`--engine tfjs` runs the training
 * engine's arithmetic instead; both agree within 1e-4).
 */
import { existsSync } from 'node:fs';
import { SPECIAL, SPECIAL_TOKENS, getTokenizer, tokenizerNames, tokensToIds, vocabForSize } from '../maze/tokenize/index.js';
import { toTokens } from '../maze/parse.js';
import {
  checkSequenceLength,
  ConfigError,
  hookShapes,
  parameterCount,
  PRESETS,
  validateConfig,
  type ModelConfig,
  type PresetName,
  type Weights,
} from '../model/config.js';
import { processWeights } from '../model/process.js';
import type { InterventionSpec } from '../model/onnx/intervene.js';
import { HookError, hookDims, hookGeometry } from '../model/hooks.js';
import type { PositionedEdit, SaeForEdits } from '../interp/sae/decode.js';
import { storedSaeShape } from '../interp/sae/kind.js';
import { loadSaeResult } from './sae-file.js';
import { checkHookNames } from '../model/onnx/hooks.js';
import { writeNpyFile } from '../model/npy.js';
import { padBatch } from '../model/batch.js';
import { argmax } from '../model/argmax.js';
import { writeSafetensorsFile } from '../model/safetensors.js';
import { initRng } from '../model/train/trainer.js';
import { initWeights, loadModel, saveModel, type LoadedModel } from '../model/weights.js';
import { GrowError, insertIdentityBlocks } from '../model/grow.js';
import { Rng } from '../maze/rng.js';
import { type CommandGroup, type CommandSpec, parseCommand, UsageError } from './args.js';
import { INFERENCE_ENGINES, openModel, pathOnlyTokens, type InferenceEngineName } from '../model/open.js';
import { type CliIO, LineWriter, readLines } from './io.js';

const PATH_START = SPECIAL_TOKENS[SPECIAL.PATH_START];

const weightsOption = { type: 'string', description: 'Model file (safetensors)', required: true, placeholder: 'W' } as const;
const engineOption = { type: 'string', description: 'Inference engine', default: 'onnx', choices: INFERENCE_ENGINES } as const;

/** Loads a model file for a command; file problems become one-line user errors. */
export async function loadForCli(path: string): Promise<LoadedModel & { vocab: string[] }> {
  if (!existsSync(path)) throw new UsageError(`model file ${path} does not exist`);
  let m: LoadedModel;
  try {
    m = await loadModel(path);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (m.vocab) return { ...m, vocab: m.vocab };
  // A TransformerLens file carries no vocab: the grid whose vocabulary has d_vocab tokens, where that is unambiguous.
  try {
    return { ...m, vocab: vocabForSize(m.cfg.tokenizer, m.cfg.d_vocab, path) };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Token ids of one line of text; errors name the line and the token. */
function lineIds(text: string, vocab: readonly string[], cfg: ModelConfig, where: string): Int32Array {
  const tokens = toTokens(text);
  if (tokens.length === 0) throw new UsageError(`${where}: no tokens`);
  checkSequenceLength(cfg, tokens.length, where);
  try {
    return tokensToIds(tokens, vocab);
  } catch (e) {
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
}

async function inputLines(io: CliIO, text: string | undefined): Promise<Array<{ line: string; where: string }>> {
  if (text !== undefined) return [{ line: text, where: '--text' }];
  const out: Array<{ line: string; where: string }> = [];
  for await (const { line, lineNo } of readLines(io.stdin)) out.push({ line, where: `line ${lineNo}` });
  if (out.length === 0) throw new UsageError('no input: give --text or token sequences on stdin, one per line');
  return out;
}

const initSpec = {
  name: 'model init',
  summary: 'Create a model file with TransformerLens-initialised weights.',
  options: {
    preset: { type: 'string', description: 'Architecture', required: true, choices: Object.keys(PRESETS) },
    grid: { type: 'integer', description: 'Largest maze side the vocabulary covers', required: true, placeholder: 'N' },
    seed: { type: 'integer', description: 'Initialisation seed (the same draw `train --seed S` starts from)', default: 0, placeholder: 'S' },
    out: { type: 'string', description: 'Output file', required: true, placeholder: 'W.safetensors' },
    tokenizer: { type: 'string', description: 'Token format', default: 'aotp-ut', choices: tokenizerNames() },
    arch: {
      type: 'string',
      description:
        'TransformerLens architecture fields over the preset, as JSON: positional_embedding_type, rotary_dim, rotary_base, rotary_adjacent_pairs, normalization_type, attn_only, parallel_attn_mlp, act_fn',
      placeholder: 'JSON',
    },
  },
} satisfies CommandSpec;

/** The preset with `--arch` fields over it, validated; an error names the option and the field. */
function withArch(base: ModelConfig, arch: string | undefined): ModelConfig {
  if (arch === undefined) return base;
  let extra: unknown;
  try {
    extra = JSON.parse(arch);
  } catch (e) {
    throw new UsageError(`--arch: not valid JSON: ${(e as Error).message}`);
  }
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
    throw new UsageError('--arch: give a JSON object, e.g. {"positional_embedding_type":"rotary","rotary_dim":8}');
  const allowed = [
    'positional_embedding_type',
    'rotary_dim',
    'rotary_base',
    'rotary_adjacent_pairs',
    'normalization_type',
    'attn_only',
    'parallel_attn_mlp',
    'act_fn',
  ];
  const unknown = Object.keys(extra).filter((k) => !allowed.includes(k));
  if (unknown.length)
    throw new UsageError(
      `--arch: ${unknown.map((k) => JSON.stringify(k)).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not an architecture field; use ${allowed.join(', ')}`,
    );
  try {
    return validateConfig({ ...base, ...extra });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--arch: ${e.message}`);
    throw e;
  }
}

async function init(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(initSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const tok = getTokenizer(o.tokenizer);
  const vocab = [...tok.vocab(o.grid)];
  const cfg = withArch({ ...PRESETS[o.preset as PresetName], d_vocab: vocab.length, tokenizer: o.tokenizer }, o.arch);
  const weights = initWeights(cfg, initRng(o.seed));
  await saveModel(o.out, cfg, weights, vocab, {
    'searchlight.init': JSON.stringify({ preset: o.preset, grid: o.grid, seed: o.seed, ...(o.arch ? { arch: JSON.parse(o.arch) } : {}) }),
  });
  io.stdout.write(
    `wrote ${o.out}: preset ${o.preset}, ${o.grid}x${o.grid} ${o.tokenizer} (d_vocab ${cfg.d_vocab}), ${parameterCount(cfg).toLocaleString('en-US')} parameters\n`,
  );
}

const forwardSpec = {
  name: 'model forward',
  summary: 'Print the most likely next token after each sequence (--text, or stdin one per line).',
  options: {
    weights: weightsOption,
    text: { type: 'string', description: 'One token sequence (space-separated tokens)', placeholder: 'T' },
    engine: engineOption,
    out: { type: 'string', description: 'Write the logits [pos, d_vocab] float32 as NumPy .npy (one sequence only)', placeholder: 'logits.npy' },
  },
} satisfies CommandSpec;

async function forward(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(forwardSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const { cfg, weights, vocab } = await loadForCli(o.weights);
  const rows = (await inputLines(io, o.text)).map(({ line, where }) => lineIds(line, vocab, cfg, where));
  if (o.out && rows.length !== 1) throw new UsageError(`--out writes the logits of one sequence; got ${rows.length}`);
  const model = await openModel(o.engine as InferenceEngineName, cfg, weights);
  try {
    const { tokens, B, T } = padBatch(rows, SPECIAL.PADDING);
    const logits = await model.forward(tokens, B, T); // [B, T, V]
    const V = cfg.d_vocab;
    const out = new LineWriter(io.stdout);
    for (let b = 0; b < B; b++) {
      const at = (b * T + rows[b].length - 1) * V;
      await out.line(vocab[argmax(logits.subarray(at, at + V))]);
    }
    await out.flush();
    if (o.out) await writeNpyFile(o.out, logits.slice(0, rows[0].length * V), [rows[0].length, V]);
  } finally {
    await model.dispose();
  }
}

const cacheSpec = {
  name: 'model cache',
  summary: 'Save the activations at the named hook points for one sequence as safetensors.',
  options: {
    weights: weightsOption,
    text: { type: 'string', description: 'The token sequence', required: true, placeholder: 'T' },
    hooks: { type: 'string', description: 'Comma-separated TransformerLens hook names, "logits" allowed (default: every hook)', placeholder: 'a,b,c' },
    out: { type: 'string', description: 'Output file', required: true, placeholder: 'cache.safetensors' },
    engine: engineOption,
  },
  details: "Tensors keep the batch axis (1), as TransformerLens' ActivationCache does: e.g. blocks.0.attn.hook_pattern is [1, n_heads, pos, pos].",
} satisfies CommandSpec;

async function cache(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(cacheSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const { cfg, weights, vocab } = await loadForCli(o.weights);
  const ids = lineIds(o.text, vocab, cfg, '--text');
  const known = hookShapes(cfg, 1, ids.length).map(([n]) => n);
  const names =
    o.hooks === undefined
      ? known.filter((n) => n !== 'logits')
      : o.hooks
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  checkHookNames(
    cfg,
    names.filter((n) => n !== 'logits'),
  ); // logits are cached too, beside the hooks
  if (names.length === 0) throw new UsageError('--hooks names no hook');
  const model = await openModel(o.engine as InferenceEngineName, cfg, weights);
  try {
    const acts = await model.cache(ids, 1, ids.length, names);
    const tensors = names.map((n) => ({ name: n, shape: acts.get(n)!.shape, data: acts.get(n)!.data }));
    await writeSafetensorsFile(o.out, tensors, { tokens: JSON.stringify(toTokens(o.text)), config: JSON.stringify(cfg), engine: model.engine });
    const bytes = tensors.reduce((a, t) => a + t.data.byteLength, 0);
    io.stdout.write(`wrote ${names.length} activations (${(bytes / 2 ** 20).toFixed(2)} MiB) to ${o.out}\n`);
  } finally {
    await model.dispose();
  }
}

const solveSpec = {
  name: 'model solve',
  summary: 'Complete each prompt or sequence on stdin by greedy decoding; print the completed sequences.',
  options: {
    weights: weightsOption,
    engine: engineOption,
    'max-new': { type: 'integer', description: 'At most this many generated tokens per sequence (default: up to n_ctx)', placeholder: 'K' },
    constrained: { type: 'boolean', description: 'Only allow coordinates and <PATH_END> (default: unconstrained, as the model learned)' },
    intervene: {
      type: 'string',
      description:
        'Interventions as JSON: a list of {hook, kind: zero|mean|replace|add, positions?, heads?, features?, value?}; every decoding step runs with them (onnx engine)',
      placeholder: 'JSON',
    },
    sae: { type: 'string', description: 'With --features: the SAE, an `exp run sae --out` result trained on this model', placeholder: 'result.json' },
    features: {
      type: 'string',
      description:
        "SAE feature edits as JSON: a list of {latent, mode: set|scale|zero, value?, positions?}, applied at every decoding step with the SAE's error kept",
      placeholder: 'JSON',
    },
  },
  details: `Input lines are prompts (through ${PATH_START}) or full sequences, which are cut after ${PATH_START}. With --intervene, mean-ablation averages the hook over the input sequences themselves.`,
} satisfies CommandSpec;

async function solve(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(solveSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const { cfg, weights, vocab } = await loadForCli(o.weights);
  const prompts: Int32Array[] = [];
  for (const { line, where } of await inputLines(io, undefined)) {
    const tokens = toTokens(line);
    const at = tokens.indexOf(PATH_START);
    if (at < 0) throw new UsageError(`${where}: no ${PATH_START}; a prompt runs through ${PATH_START}`);
    prompts.push(lineIds(tokens.slice(0, at + 1).join(' '), vocab, cfg, where));
  }
  const maxNew = o['max-new'] ?? cfg.n_ctx;
  if (maxNew < 0) throw new UsageError(`--max-new must be ≥ 0, got ${maxNew}`);
  if (o.features !== undefined && o.sae === undefined) throw new UsageError('--features needs --sae (the SAE whose latents it edits)');
  if (o.sae !== undefined && o.features === undefined) throw new UsageError('--sae is only used with --features');
  if (o.intervene !== undefined || o.features !== undefined)
    return solveIntervened(
      o.intervene ?? '[]',
      { cfg, weights, vocab },
      prompts,
      maxNew,
      !!o.constrained,
      io,
      o.features === undefined ? undefined : { sae: o.sae!, features: o.features, weights: o.weights },
    );
  const model = await openModel(o.engine as InferenceEngineName, cfg, weights);
  try {
    const done = await model.decoder(o.constrained ? pathOnlyTokens(vocab) : undefined)(prompts, maxNew);
    const out = new LineWriter(io.stdout);
    for (let i = 0; i < prompts.length; i++) {
      await out.line([...prompts[i], ...done[i].generated].map((id) => vocab[id]).join(' '));
    }
    await out.flush();
  } finally {
    await model.dispose();
  }
}

/** `--sae result.json --features JSON`: the SAE (its hook must be one of this model's) and the checked edits. */
async function featureEdits(
  o: { sae: string; features: string; weights: string },
  cfg: ModelConfig,
  io: CliIO,
): Promise<{ sae: SaeForEdits; edits: PositionedEdit[] }> {
  const stored = await loadSaeResult(o.sae, 'model solve', { path: o.weights, warn: (l) => io.stderr.write(`${l}\n`) });
  const s = stored.summary;
  checkHookNames(cfg, [s.hook], `--sae ${o.sae}`);
  const t = (n: string): Float32Array => {
    const x = stored.tensors.get(n);
    if (!x) throw new UsageError(`--sae ${o.sae}: its tensors lack ${n}`);
    return x.data;
  };
  if (t('b_dec').length !== hookDims(cfg, hookGeometry(cfg, s.hook), 1, 1).at(-1))
    throw new UsageError(`--sae ${o.sae}: its width ${t('b_dec').length} is not ${s.hook}'s in this model`);
  let list: unknown;
  try {
    list = JSON.parse(o.features);
  } catch (e) {
    throw new UsageError(`--features: not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(list)) throw new UsageError('--features: give a JSON list of {"latent": L, "mode": "set|scale|zero", "value": V, "positions": [...]}');
  const edits = list.map((e, i): PositionedEdit => {
    const ok =
      e &&
      Number.isInteger(e.latent) &&
      e.latent >= 0 &&
      e.latent < s.d_sae &&
      ['set', 'scale', 'zero'].includes(e.mode) &&
      (e.mode === 'zero' || Number.isFinite(e.value)) &&
      (e.positions === undefined || (Array.isArray(e.positions) && e.positions.every((p: unknown) => Number.isInteger(p) && (p as number) >= 0)));
    if (!ok)
      throw new UsageError(
        `--features: entry ${i} must be {latent: 0…${s.d_sae - 1}, mode: set|scale|zero, value (set/scale), positions?: [non-negative integers]}`,
      );
    return { latent: e.latent, mode: e.mode, value: e.value, positions: e.positions };
  });
  return {
    sae: {
      hook: s.hook,
      shape: storedSaeShape(s, (n) => stored.tensors.get(n)?.data),
      weights: { W_enc: t('W_enc'), b_enc: t('b_enc'), W_dec: t('W_dec'), b_dec: t('b_dec') },
    },
    edits,
  };
}

/** `model solve --intervene` / `--features`: decoding that recomputes each step with the interventions (and feature edits) applied. */
async function solveIntervened(
  json: string,
  m: { cfg: ModelConfig; weights: Weights; vocab: string[] },
  prompts: Int32Array[],
  maxNew: number,
  constrained: boolean,
  io: CliIO,
  editing?: { sae: string; features: string; weights: string },
): Promise<void> {
  let specs: unknown;
  try {
    specs = JSON.parse(json);
  } catch (e) {
    throw new UsageError(`--intervene: not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(specs) || !specs.every((s) => typeof s === 'object' && s !== null && typeof s.hook === 'string' && typeof s.kind === 'string'))
    throw new UsageError('--intervene: give a JSON list of {"hook": "...", "kind": "zero|mean|replace|add", ...}');
  const edits = editing ? await featureEdits(editing, m.cfg, io) : undefined;
  const { OnnxEngine } = await import('../model/onnx/engine.js');
  const { decodeRecomputing, resolveInterventions } = await import('../model/onnx/intervene.js');
  const { decodeWithFeatureEdits } = await import('../interp/sae/decode.js');
  const engine = await OnnxEngine.create(m.cfg, m.weights);
  try {
    const ivs = await resolveInterventions(engine, specs as InterventionSpec[], () => prompts, '--intervene').catch((e: unknown) => {
      throw e instanceof HookError ? new UsageError(e.message) : e;
    });
    const allowed = constrained ? pathOnlyTokens(m.vocab) : undefined;
    const stop = m.vocab.indexOf(SPECIAL_TOKENS[SPECIAL.PATH_END]);
    const out = new LineWriter(io.stdout);
    for (const p of prompts) {
      const run = edits
        ? decodeWithFeatureEdits(engine, p, ivs, edits.sae, edits.edits, { stopToken: stop, maxNewTokens: maxNew, allowedTokens: allowed })
        : decodeRecomputing(engine, p, ivs, { stopToken: stop, maxNewTokens: maxNew, allowedTokens: allowed });
      const seq = await run.catch((e: unknown) => {
        throw e instanceof HookError ? new UsageError(`--intervene: ${e.message}`) : e;
      });
      await out.line(Array.from(seq, (id) => m.vocab[id]).join(' '));
    }
    await out.flush();
  } finally {
    await engine.dispose();
  }
}

const growSpec = {
  name: 'model grow',
  summary: 'Insert identity blocks into a model (same logits, more layers) to train it deeper.',
  options: {
    weights: weightsOption,
    at: {
      type: 'string',
      description: 'Comma-separated positions 0 … n_layers: a new block goes in front of that original layer (n_layers appends)',
      required: true,
      placeholder: 'P,P',
    },
    seed: { type: 'integer', description: "Seed of the new blocks' Q, K, V and W_in (their output projections start at zero)", default: 0, placeholder: 'S' },
    out: { type: 'string', description: 'Output file', required: true, placeholder: 'W.safetensors' },
  },
} satisfies CommandSpec;

async function grow(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(growSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const at = o.at.split(',').map((s) => s.trim());
  const positions = at.map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`--at: ${JSON.stringify(s)} is not a layer position (comma-separated integers 0 … n_layers)`);
    return Number(s);
  });
  const m = await loadForCli(o.weights);
  let g: ReturnType<typeof insertIdentityBlocks>;
  try {
    g = insertIdentityBlocks(m.cfg, m.weights, positions, new Rng(`${o.seed}/grow`));
  } catch (e) {
    if (e instanceof GrowError) throw new UsageError(`--at: ${e.message}`);
    throw e;
  }
  await saveModel(o.out, g.cfg, g.weights, m.vocab, {
    'searchlight.grown': JSON.stringify({ from: o.weights, n_layers: m.cfg.n_layers, at: positions, seed: o.seed, layers: g.layerMap }),
  });
  const layout = g.layerMap.map((l) => (l < 0 ? 'new' : String(l))).join(' ');
  io.stdout.write(
    `wrote ${o.out}: ${m.cfg.n_layers} → ${g.cfg.n_layers} layers [${layout}], ${parameterCount(g.cfg).toLocaleString('en-US')} parameters; new blocks are identities (zero W_O and W_out), so the logits are unchanged\n`,
  );
}

const processSpec = {
  name: 'model process',
  summary: "Apply TransformerLens' weight processing (fold_ln, centring, value-bias folding) to a model file.",
  options: {
    weights: weightsOption,
    'fold-ln': { type: 'boolean', description: "Fold each norm's gain (and LN's bias) into the weights that read it (LN → LNPre, RMS → RMSPre)" },
    'center-writing-weights': { type: 'boolean', description: 'Centre W_E, W_pos, W_O, b_O, W_out, b_out over d_model (LN/LNPre models)' },
    'center-unembed': { type: 'boolean', description: 'Centre W_U and b_U over the vocabulary (log-probabilities unchanged)' },
    'fold-value-biases': { type: 'boolean', description: 'Fold b_V into b_O' },
    out: { type: 'string', description: 'Output file', required: true, placeholder: 'W.safetensors' },
  },
} satisfies CommandSpec;

async function processCmd(argv: string[], io: CliIO): Promise<void> {
  const parsed = parseCommand(processSpec, argv, (s) => io.stdout.write(s));
  if (!parsed) return;
  const o = parsed.options;
  const steps = {
    fold_ln: !!o['fold-ln'],
    center_writing_weights: !!o['center-writing-weights'],
    center_unembed: !!o['center-unembed'],
    fold_value_biases: !!o['fold-value-biases'],
  };
  if (!Object.values(steps).some(Boolean))
    throw new UsageError('no step chosen: give --fold-ln, --center-writing-weights, --center-unembed and/or --fold-value-biases');
  const m = await loadForCli(o.weights);
  const p = processWeights(m.cfg, m.weights, steps);
  await saveModel(o.out, p.cfg, p.weights, m.vocab, { 'searchlight.processed': JSON.stringify({ from: o.weights, steps: p.log }) });
  io.stdout.write(`wrote ${o.out}:\n${p.log.map((l) => `  ${l}\n`).join('')}`);
}

export const modelCommands: CommandGroup = {
  init: { summary: initSpec.summary, run: init },
  forward: { summary: forwardSpec.summary, run: forward },
  cache: { summary: cacheSpec.summary, run: cache },
  solve: { summary: solveSpec.summary, run: solve },
  grow: { summary: growSpec.summary, run: grow },
  process: { summary: processSpec.summary, run: processCmd },
};
