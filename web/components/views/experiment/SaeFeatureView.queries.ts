/** SaeFeatureView's GraphQL document. */
export const SAE_FEATURE = `query SaeFeature($id: ID!, $latent: Int!) {
  experiment(id: $id) {
    id kind status model { id name } result { __typename ... on SaeSummary { hook classes d_sae architecture topk } }
    saeFeature(latent: $latent, examples: 8) {
      latent density meanActivation maxActivation
      histogram { from to count }
      examples { maze position activation token tokens activations svg(cellSize: 30) }
      logitsUp { token weight } logitsDown { token weight }
      neighbours { latent cosine }
      encodes { property category auc }
    }
  }
}`;
