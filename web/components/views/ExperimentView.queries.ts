/** ExperimentView's GraphQL document. */
import { EXPERIMENT_FIELDS } from '../../lib/fragments';

export const EXPERIMENT = `query Experiment($id: ID!) { experiment(id: $id) { ${EXPERIMENT_FIELDS} mazeSvg(cellSize: 36) } }`;
