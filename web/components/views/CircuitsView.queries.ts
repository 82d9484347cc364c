/** CircuitsView's GraphQL document. */

export const CIRCUITS = `query Circuits { circuits(first: 200) { id name version updatedAt updatedBy { name } owner { name } editors { name } model { id name } } }`;
