/** SaeView's GraphQL document: the latents that best pick out one connection or cell. */
export const SAE_FEATURES_FOR = `query SaeFeaturesFor($id: ID!, $property: String!, $category: String!) {
  experiment(id: $id) { id saeFeaturesFor(property: $property, category: $category, first: 8) { latent auc density } }
}`;
