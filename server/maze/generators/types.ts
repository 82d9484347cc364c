/**
 * Shared types of the maze generators. Kept apart from the registry (index.ts) so each generator
 * file can import them without an import cycle.
 */
import type { Coord, LatticeMaze } from '../lattice.js';
import type { Rng } from '../rng.js';

export interface GeneratorOptions {
  rows: number;
  cols: number;
  /** The only source of randomness; a generator draws from it in a fixed order (determinism). */
  rng: Rng;
  /** Edge-opening probability in [0, 1] (`percolation`, `dfs_percolation`; default 0.5). */
  p?: number;
  /** `dfs` only: never branch — a single random self-avoiding corridor that stops when stuck. */
  forkless?: boolean;
  /** `dfs` only: stop once this many cells (start included) are reachable. */
  accessible_cells?: number;
  /** `dfs` only: no cell farther than this many steps (along the tree) from the start cell. */
  max_tree_depth?: number;
  /** Start / root cell (`dfs`, `dfs_percolation`, `prim`, `wilson`); default: drawn uniformly. */
  start?: Coord;
}

/** A generator builds one maze from its options, consuming randomness only from `opts.rng`. */
export type Generator = (opts: GeneratorOptions) => LatticeMaze;

/** Options beyond rows/cols/rng that a generator may accept. */
export type GeneratorOptionName = 'p' | 'forkless' | 'accessible_cells' | 'max_tree_depth' | 'start';

export const GENERATOR_OPTION_NAMES: readonly GeneratorOptionName[] = ['p', 'forkless', 'accessible_cells', 'max_tree_depth', 'start'];

export interface GeneratorMeta {
  /** One line for `--help` and error messages. */
  description: string;
  /** True when every output (with default options) is a spanning tree of the lattice. */
  spanningTree: boolean;
  /** Options the generator understands; any other option given to it is an error. */
  options: readonly GeneratorOptionName[];
}
