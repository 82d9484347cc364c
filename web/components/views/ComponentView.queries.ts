/** ComponentView's GraphQL documents: the component with its evidence, and its activity over mazes. */
export const COMPONENT = `query Component($model: ID!, $name: String!) {
  model(id: $model) {
    id name lineage { datasetId } config { n_layers n_heads d_mlp attn_only }
    component(name: $name) {
      name kind layer head neuron
      evidence { experiment { id kind createdAt checkpoint { step } } kind measure value rank of }
    }
  }
  datasets(first: 100) { edges { node { id name status grid } } }
}`;

export const COMPONENT_ACTIVITY = `query ComponentActivity($model: ID!, $name: String!, $dataset: ID) {
  model(id: $model) {
    id
    component(name: $name) {
      activity(datasetId: $dataset) {
        dataset { id name } mazes splitSize positions byClassMeasure byClass { class value n }
        examples { maze { id index rows cols svg(cellSize: 28) } position token value cell heat tokens values }
      }
    }
  }
}`;
