/** MazePicker's GraphQL document. */

export const PICK_MAZES = `query PickMazes($id: ID!) {
  dataset(id: $id) { id mazes(first: 40) { edges { node { id index pathLength svg(cellSize: 6) } } } }
}`;
