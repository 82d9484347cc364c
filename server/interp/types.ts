/**
 * The common shape of an interpretability experiment (issue 6): a kind with typed parameters, a
 * deterministic `run(ctx, params, progress)` and a result made of a JSON summary plus named float32
 * tensors (the API stores the tensors as files; the CLI writes them as one .safetensors file).
 *
 * Pure core: nothing here touches the database or GraphQL. The job runner builds an
 * ExperimentContext from a stored model (and optionally a dataset slice) and calls `run`.
 */
import type { MazeSpec } from '../maze/generate.js';
import type { SolvedMaze } from '../maze/lattice.js';
import type { ModelConfig, Weights } from '../model/config.js';
import type { OnnxEngine, OnnxGradEngine } from '../model/engine.js';
import type { ParamsSchema } from './params.js';
import type { ImportedSae } from './sae/format.js';
import type { SaeSummary } from './sae/kind.js';

/** A model as experiments see it: config, weights, vocabulary and lazily created engines. */
export interface InterpModel {
  readonly cfg: ModelConfig;
  readonly weights: Weights;
  /** Token strings by id (index = token id), length d_vocab. */
  readonly vocab: readonly string[];
  /** A shared inference engine (created on first call); experiments must not dispose it. */
  engine(): Promise<OnnxEngine>;
  /** A shared gradient engine (attribution patching); created on first call. */
  gradEngine(): Promise<OnnxGradEngine>;
}

/** Where the mazes come from: a fixed list (a dataset slice) or generated on the fly. */
export type MazeSource = { readonly mazes: readonly SolvedMaze[] } | { readonly spec: MazeSpec; readonly count: number; readonly seed: number };

export interface ExperimentContext {
  readonly model: InterpModel;
  /** Seeds everything random in the run (maze generation, edge order, splits, controls). */
  readonly seed: number;
  /**
   * Optional maze source. When absent, a kind generates `params.count` mazes from
   * `params.generator` / `params.grid` (defaults: DFS on the largest grid the vocabulary covers).
   * When present it wins over those params; `params.count` still caps how many are used.
   */
  readonly mazes?: MazeSource;
  /**
   * A trained SAE for kinds that edit its features (params.sae names it): its summary and stored
   * tensors, loaded by whoever runs the kind (the job handler from the artifact store, the CLI from
   * an `exp run sae --out` result).
   */
  readonly sae?: StoredSae;
  /** The `sae` kind: weights to measure as they are instead of training (an SAELens import, sae/format.ts). */
  readonly saeInit?: ImportedSae;
}

/** An `sae` experiment's result, as a kind that uses the SAE reads it. */
export interface StoredSae {
  /** Its experiment's row id (CLI: 0). */
  readonly id: number;
  readonly summary: SaeSummary;
  readonly tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
}

/**
 * Progress report: fraction in [0, 1] and a short message. A job runner may throw from it to cancel
 * (the experiment lets the exception propagate).
 */
export type Progress = (fraction: number, message: string) => void;

/** One result tensor: row-major float32 data of `shape` (integers such as token ids are stored exactly). */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * What every kind's summary has: its registry name as a literal (`kind: 'attention'`), so the
 * summaries of all kinds form one union discriminated by `kind` (index.ts ExperimentSummary).
 */
export interface SummaryBase {
  readonly kind: string;
}

export interface ExperimentResult<S extends SummaryBase = SummaryBase> {
  /**
   * JSON-serialisable summary (tables, per-layer figures, descriptions of the tensors), of the
   * kind's own named type (e.g. AttentionSummary). Stored as JSON and served as `Experiment.result`
   * (typed per kind) and the deprecated `Experiment.summary`, so its keys and values are an API.
   */
  summary: S;
  tensors: NamedTensor[];
}

export interface ExperimentKind<P = Record<string, unknown>, S extends SummaryBase = SummaryBase> {
  /** Registry name, e.g. "activation-patching". */
  readonly kind: string;
  /** One paragraph for `exp list` and the API. */
  readonly describe: string;
  readonly paramsSchema: ParamsSchema<P>;
  run(ctx: ExperimentContext, params: P, progress: Progress): Promise<ExperimentResult<S>>;
}

/**
 * Helper so each kind file keeps its own params and summary types while the registry holds them
 * all: `defineKind<AttentionParams, AttentionSummary>({...})` checks `run`'s summary literal
 * against the summary type (a missing, extra or mistyped key fails to compile).
 */
export function defineKind<P, S extends SummaryBase>(k: ExperimentKind<P, S>): ExperimentKind<P, S> {
  return k;
}
