/** AnnotationCard's GraphQL documents. */
import { ANNOTATION_FIELDS } from '../../../lib/fragments';

export const UPDATE_ANNOTATION = `mutation UpdateAnnotation($input: UpdateAnnotationInput!) { updateAnnotation(input: $input) { ${ANNOTATION_FIELDS} } }`;
export const ADD_COMMENT = `mutation AddComment($annotationId: ID!, $body: String!) { addComment(annotationId: $annotationId, body: $body) { id } }`;
export const VOTE = `mutation Vote($annotationId: ID!, $value: Int!) { vote(annotationId: $annotationId, value: $value) { id score myVote } }`;
