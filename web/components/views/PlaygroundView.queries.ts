/** PlaygroundView's GraphQL documents (its model and dataset lists are ModelsView's MODELS). */
import { MODEL_CONFIG } from '../../lib/fragments';

/** The playground's edited maze, checked and tokenized by the server (errors say what is wrong). */
export const TOKENIZE_MAZE = `query TokenizeMaze($input: MazeInput!, $tokenizer: String) { tokenizeMaze(input: $input, tokenizer: $tokenizer) { prompt tokens solution } }`;

export const PLAYGROUND = `query Playground($modelId: ID!, $mazeId: ID!, $withModel: Boolean!, $withMaze: Boolean!) {
  model(id: $modelId) @include(if: $withModel) { id name ${MODEL_CONFIG} vocab hookNames latestCheckpoint { id step } }
  maze(id: $mazeId) @include(if: $withMaze) { id index rows cols origin target solution connections tokens svg(cellSize: 40) small: svg(cellSize: 12) dataset { id name } }
}`;
