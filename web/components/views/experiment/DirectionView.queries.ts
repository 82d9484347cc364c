/** DirectionView's GraphQL documents: a probe direction, and its activity over test mazes. */
export const PROBE_DIRECTION = `query ProbeDirection($id: ID!, $index: Int!) {
  experiment(id: $id) {
    id dataset { id } model { id name lineage { datasetId } }
    result { __typename ... on ProbesSummary { grid } }
    probeDirection(index: $index) {
      index class layer hook target column cell edge label norm bias balancedAccuracy controlBalancedAccuracy auc controlAuc
      siblings { index label cosine auc }
      acrossLayers { index label cosine balancedAccuracy auc }
      logitsUp { token weight } logitsDown { token weight }
    }
  }
  datasets(first: 100) { edges { node { id name status grid } } }
}`;

export const PROBE_DIRECTION_ACTIVITY = `query ProbeDirectionActivity($id: ID!, $index: Int!, $dataset: ID) {
  experiment(id: $id) {
    id
    probeDirection(index: $index) {
      activity(datasetId: $dataset) {
        dataset { id name } mazes offset splitSize overlap positions nTrue nFalse maxSumError auc
        byClass { class meanTrue nTrue meanFalse nFalse }
        writers { component meanTrue meanFalse }
        examples { maze { id index svg(cellSize: 28) } position token value label tokens values }
      }
    }
  }
}`;
