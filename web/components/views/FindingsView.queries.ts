/** FindingsView's GraphQL documents (its model picker is MazeView's MODEL_OPTIONS). */
import { ANNOTATION_FIELDS } from '../../lib/fragments';

// A literal page size: the API's cost limit assumes the largest page for a variable `first`.
export const ANNOTATIONS = `query Annotations($modelId: ID!, $search: String) {
  annotations(modelId: $modelId, search: $search, first: 100) { totalCount edges { node { ${ANNOTATION_FIELDS} } } }
}`;

export const ANNOTATION = `query Annotation($id: ID!) { annotation(id: $id) { ${ANNOTATION_FIELDS} } }`;

export const ANNOTATION_EVENTS = `subscription AnnotationEvents($modelId: ID!) {
  annotationEvents(modelId: $modelId) { kind actor { name } comment { id body } annotation { ${ANNOTATION_FIELDS} } }
}`;
