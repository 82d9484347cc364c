/** CircuitView's GraphQL documents. */
import { CIRCUIT_FIELDS } from '../../lib/fragments';

export const CIRCUIT = `query Circuit($id: ID!) { circuit(id: $id) { ${CIRCUIT_FIELDS} } }`;
export const SET_CIRCUIT_EDITORS = `mutation SetCircuitEditors($id: ID!, $names: [String!]!) { setCircuitEditors(id: $id, names: $names) { ${CIRCUIT_FIELDS} } }`;
export const UPDATE_CIRCUIT = `mutation UpdateCircuit($id: ID!, $version: Int!, $name: String, $graph: CircuitGraphInput) { updateCircuit(id: $id, version: $version, name: $name, graph: $graph) { ${CIRCUIT_FIELDS} } }`;

/** The circuit after each change by anyone (so every viewer sees the others' edits live). */
export const CIRCUIT_CHANGED = `subscription CircuitChanged($id: ID!) { circuitChanged(id: $id) { ${CIRCUIT_FIELDS} } }`;
