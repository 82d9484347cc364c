/** Shapes of the API objects as the dashboard's queries select them (schema/*.graphql). */
import type { Target } from '../components/views/findings/target';

export type Role = 'ADMIN' | 'RESEARCHER' | 'VIEWER';
export interface User {
  id: string;
  name: string;
  role: Role;
}

export type JobStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export interface JobProgressInfo {
  done?: number | null;
  total?: number | null;
  phase?: string | null;
  message?: string | null;
  [k: string]: unknown;
}
export interface Job {
  id: string;
  kind: string;
  status: JobStatus;
  progress: JobProgressInfo | null;
  params?: unknown;
  result: Record<string, unknown> | null;
  error: string | null;
  createdAt?: string;
  createdBy?: { name: string } | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}
export interface Connection<T> {
  edges: Array<{ node: T }>;
  pageInfo: PageInfo;
  totalCount: number;
}

export interface Dataset {
  id: string;
  name: string;
  generator: string;
  grid: number;
  count: number;
  seed: number;
  p: number | null;
  status: 'BUILDING' | 'READY';
  mazeCount: number;
  skipped?: number;
  contentHash?: string | null;
  splits?: Record<string, [number, number]>;
  createdAt: string;
  createdBy: { name: string } | null;
  job?: Job | null;
}

export interface MazeSummary {
  id: string;
  index: number;
  split: string;
  pathLength: number;
  svg: string;
}
export interface Maze {
  id: string;
  index: number;
  split: string;
  rows: number;
  cols: number;
  origin: [number, number];
  target: [number, number];
  solution: Array<[number, number]>;
  pathLength: number;
  stats: Record<string, unknown>;
  tokens: string;
  svg: string;
  dataset: { id: string; name: string; generator: string; grid: number };
}

export interface ModelConfig {
  d_model: number;
  n_layers: number;
  n_heads: number;
  d_head: number;
  d_mlp: number;
  d_vocab: number;
  n_ctx: number;
  act_fn: string;
  eps: number;
  tokenizer: string;
  positional_embedding_type: 'standard' | 'rotary';
  rotary_dim: number | null;
  rotary_base: number | null;
  rotary_adjacent_pairs: boolean | null;
  normalization_type: 'LN' | 'LNPre' | 'RMS' | 'RMSPre' | null;
  attn_only: boolean;
  parallel_attn_mlp: boolean;
  d_vocab_out: number;
}

/** What sets an architecture apart from the standard GPT (learned positions, LayerNorm, GELU-style MLP after attention), e.g. "rotary · RMS · parallel"; '' when standard. */
export function architectureLabel(c: Pick<ModelConfig, 'positional_embedding_type' | 'normalization_type' | 'attn_only' | 'parallel_attn_mlp'>): string {
  const parts: string[] = [];
  if (c.positional_embedding_type === 'rotary') parts.push('rotary');
  if (c.normalization_type !== 'LN') parts.push(c.normalization_type ?? 'no norm');
  if (c.attn_only) parts.push('attn-only');
  if (c.parallel_attn_mlp) parts.push('parallel');
  return parts.join(' · ');
}
export interface Checkpoint {
  id: string;
  step: number;
  sha256: string;
  bytes: number;
  createdAt: string;
  downloadUrl: string;
}
export interface CurvePoint {
  step: number;
  name: string;
  value: number;
}
export interface Evaluation {
  id: string;
  params: Record<string, unknown>;
  summary: Record<string, unknown> | null;
  createdAt: string;
  job: Job | null;
}
export interface Model {
  id: string;
  name: string;
  config: ModelConfig;
  lineage: Record<string, unknown>;
  status: 'TRAINING' | 'READY' | 'FAILED';
  parameterCount: number;
  createdAt: string;
  createdBy: { name: string } | null;
}

export type AnnotationStatus = 'HYPOTHESIS' | 'SUPPORTED' | 'REFUTED';
export interface Comment {
  id: string;
  body: string;
  createdAt: string;
  author: { name: string } | null;
}
export interface Evidence {
  label: string;
  url: string;
}
export interface Annotation {
  id: string;
  target: Target;
  alsoAbout: Target[];
  body: string;
  status: AnnotationStatus;
  tags: string[];
  evidence: Evidence[];
  author: { id: string; name: string } | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  comments: Comment[];
  score: number;
  myVote: number;
}

export interface CircuitNode {
  id: string;
  label?: string | null;
  kind?: string | null;
  layer?: number | null;
  head?: number | null;
}
export interface CircuitEdge {
  from: string;
  to: string;
  label?: string | null;
  evidence?: string | null;
  /** The effect it stands for, signed (circuits built from evidence). */
  weight?: number | null;
}
export interface CircuitGraph {
  nodes: CircuitNode[];
  edges: CircuitEdge[];
}
export interface Circuit {
  id: string;
  name: string;
  graph: CircuitGraph;
  version: number;
  updatedAt: string;
  updatedBy: { name: string } | null;
  model: { id: string; name: string; config: ModelConfig };
  owner: { name: string } | null;
  editors: Array<{ name: string }>;
  canEdit: boolean;
}
