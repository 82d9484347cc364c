/** The playground run's GraphQL document (it decodes with MazeView's GENERATE_PATH first). */

export const RUN_FORWARD = `mutation RunForward($modelId: ID!, $tokens: String!, $hooks: [String!]) {
  runForward(modelId: $modelId, tokens: $tokens, hooks: $hooks, topK: 5) { nextToken topK { token prob } cacheId cacheUrl }
}`;
