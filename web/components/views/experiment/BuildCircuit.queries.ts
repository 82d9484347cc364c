/** BuildCircuit's GraphQL document. */
export const CIRCUIT_FROM_EXPERIMENT = `mutation CircuitFromExperiment($experimentId: ID!, $threshold: Float!) {
  circuitFromExperiment(experimentId: $experimentId, threshold: $threshold) { id }
}`;
