/**
 * TokensMaze's GraphQL document: token sequences read back as drawn mazes, several at once (the
 * mazes a drill-down draws on one page arrive in one request; see TokensMaze's loader).
 */
export const PARSE_MAZE_TOKENS_LIST = `query ParseMazeTokensList($items: [MazeTokensInput!]!) {
  parseMazeTokensList(items: $items) { svg(cellSize: 30) }
}`;
