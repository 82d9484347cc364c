/**
 * MazeView's GraphQL documents. FindingsView picks its model from MODEL_OPTIONS too, and the
 * playground's run (playground/useRun.ts) decodes with GENERATE_PATH.
 */
import { MODEL_CONFIG } from '../../lib/fragments';

export const MAZE = `query Maze($id: ID!) {
  maze(id: $id) {
    id index split rows cols origin target solution pathLength stats { edges deadEnds forks isTree components cyclomatic forksOnPath l1Distance baselineSuccessProbability } tokens svg(cellSize: 36)
    dataset { id name generator grid }
  }
}`;

export const MODEL_OPTIONS = `query ModelOptions { models(first: 100) { edges { node { id name status ${MODEL_CONFIG} } } } }`;

export const GENERATE_PATH = `mutation GeneratePath($modelId: ID!, $mazeId: ID, $maze: MazeInput) { generatePath(modelId: $modelId, mazeId: $mazeId, maze: $maze) { tokens path metrics { exact_path node_overlap frac_connected_steps frac_adjacent_steps corner_jumps backtracks target_reached valid_rollout invalid_tokens fork_decisions { correct total } frac_correct_forks path_length_ratio predicted_length steps ended } } }`;
