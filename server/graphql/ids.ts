/**
 * Global object ids: "<Type>:<row id>", e.g. "Dataset:3" — readable in scripts and logs, and
 * enough for Query.node(id) to find any object.
 */
import { badInput } from './errors.js';

export type NodeType =
  | 'User'
  | 'Dataset'
  | 'Maze'
  | 'Model'
  | 'Checkpoint'
  | 'Evaluation'
  | 'Experiment'
  | 'Job'
  | 'Annotation'
  | 'Comment'
  | 'Circuit'
  | 'ApiToken';

export const toId = (type: NodeType, id: number): string => `${type}:${id}`;

/** Parses a global id; BAD_USER_INPUT when malformed or (with `type`) of another type. */
export function parseId(id: string | number, type?: NodeType): { type: NodeType; id: number } {
  const s = String(id);
  const m = /^([A-Za-z]+):([1-9][0-9]{0,15})$/.exec(s);
  if (!m) throw badInput(`malformed id ${JSON.stringify(s)}: expected "<Type>:<number>", e.g. "${type ?? 'Dataset'}:1"`);
  if (type && m[1] !== type) throw badInput(`id ${JSON.stringify(s)} is a ${m[1]} id, but a ${type} id is expected here`);
  return { type: m[1] as NodeType, id: Number(m[2]) };
}

export const rowId = (id: string | number, type: NodeType): number => parseId(id, type).id;
