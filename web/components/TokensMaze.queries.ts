/** TokensMaze's GraphQL document: a token sequence read back as a drawn maze. */
export const PARSE_MAZE_TOKENS = `query ParseMazeTokens($tokens: String!, $tokenizer: String, $rows: Int, $cols: Int) {
  parseMazeTokens(tokens: $tokens, tokenizer: $tokenizer, rows: $rows, cols: $cols) { svg(cellSize: 30) }
}`;
