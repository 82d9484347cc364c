/** SaeAtTokens' GraphQL documents: a model's SAEs, and the latents active along a sequence. */
export const MODEL_SAES = `query ModelSaes($modelId: ID!) {
  experiments(modelId: $modelId, kind: "sae", first: 50) { edges { node { id status result { __typename ... on SaeSummary { hook classes d_sae } } } } }
}`;

export const SAE_ACTIVATIONS = `query SaeActivations($id: ID!, $tokens: String!) {
  experiment(id: $id) { id saeActivations(tokens: $tokens, top: 8) { position token latents { latent activation } } }
}`;
