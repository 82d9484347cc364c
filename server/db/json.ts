/**
 * The shapes of the JSON columns (drizzle `$type<>`): what our own code writes. Columns that held
 * free JSON from clients in earlier versions (annotation evidence, circuit graphs) stay `unknown`
 * here and are normalised where they are read (services/annotations.ts, services/circuits.ts).
 */
import type { MazeSpec } from '../maze/generate.js';
import type { AggregateMetrics } from '../maze/metrics.js';
import type { ModelConfig } from '../model/config.js';

export type { ModelConfig };

/** Maze-index ranges [start, end) of a dataset's splits. */
export interface DatasetSplits {
  train: [number, number];
  test: [number, number];
}

/**
 * Where an imported dataset came from (services/datasets.ts importDatasetArchive): a maze-dataset ZANJ
 * archive, with the parts of its config that have no column of their own. Its mazes are stored as
 * read, not generated: the spec and seed do not regenerate them.
 */
export interface ImportedDatasetSource {
  format: 'maze-dataset';
  /** The archive's `__muutils_format__` (MazeDataset, MazeDataset:minimal, …). */
  layout: string;
  /** cfg.name, cfg.fname */
  name: string;
  fname: string | null;
  /** cfg.maze_ctor.__name__ and its kwargs, cfg.endpoint_kwargs, cfg.seed (null when absent). */
  mazeCtor: string;
  mazeCtorKwargs: Record<string, unknown>;
  endpointKwargs: Record<string, unknown>;
  seed: number | null;
}

/** A dataset's generation config: the maze spec plus its split (and, for an import, its source). */
export type DatasetConfig = MazeSpec & { cols: number; testFraction: number; imported?: ImportedDatasetSource };

/** Mazes a training run generated (trainModel on generated mazes). */
export interface GeneratedMazesSpec {
  generator: string;
  grid: number;
  sampling?: { grids?: number[]; balance?: 'lookahead'; curriculum?: { by: 'grid' | 'lookahead'; fraction: number } };
  queries?: number;
}

export interface ModelLineage {
  source: 'train' | 'import' | 'demo';
  /** train */
  jobId?: number;
  datasetId?: string;
  generated?: GeneratedMazesSpec;
  seed?: number;
  preset?: string;
  trainMazes?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  engine?: string;
  resumes?: Array<{ attempt: number; fromStep: number | null; at: string }>;
  /** import / demo */
  ignoredTensors?: string[];
  metadataKeys?: string[];
  /** import: TL weight processing applied, one line per step (process.ts' log). */
  processing?: string[];
}

/** An evaluation's source (a dataset's test split or generated mazes) and size. */
export interface EvaluationParams {
  datasetId?: string;
  split?: 'test';
  generator?: string;
  grid?: number;
  seed?: number;
  count: number;
  checkpointId?: number;
}

export interface EvaluationSummary extends Omit<EvaluationParams, 'count' | 'checkpointId'> {
  count: number;
  checkpointStep: number;
  engine: string;
  model: AggregateMetrics;
  baseline: AggregateMetrics;
}

/** A stored component target (services/annotations.ts targetKey validates it). */
export interface ComponentTarget {
  kind: 'embed' | 'pos_embed' | 'unembed' | 'head' | 'mlp' | 'neuron' | 'hook' | 'experiment' | 'feature' | 'direction';
  layer?: number;
  head?: number;
  neuron?: number;
  hook?: string;
  position?: number;
  /** experiment; feature: the sae experiment's row id; direction: the probes experiment's */
  experimentId?: number;
  /** feature: the SAE latent */
  latent?: number;
  /** direction: the probe's index (interp/probes.ts probeDirectionIndex) */
  index?: number;
}

/** A job's last reported progress; the fields after `message` are those of the kinds that report them. */
export interface JobProgress {
  phase?: string;
  /** Units done of total (mazes, updates, percent). */
  done?: number;
  total?: number;
  message?: string;
  skipped?: number;
  datasetId?: string;
  modelId?: string;
  experimentId?: string;
  kind?: string;
  loss?: number;
  lr?: number;
  tokensPerSec?: number;
  etaSec?: number;
}

/** What a completed job made (each kind sets its own fields). */
export interface JobResult {
  datasetId?: string;
  mazeCount?: number;
  skipped?: number;
  contentHash?: string;
  modelId?: string;
  step?: number;
  loss?: number;
  tokensPerSec?: number;
  lastEval?: { step: number; loss: number; seconds: number; model: AggregateMetrics; baseline: AggregateMetrics } | null;
  evaluationId?: string;
  exact_path_rate?: number | null;
  baseline_exact_path_rate?: number | null;
  experimentId?: string;
  kind?: string;
  tensors?: number;
}
