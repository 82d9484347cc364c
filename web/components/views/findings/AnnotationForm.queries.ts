/** AnnotationForm's GraphQL document. */
import { ANNOTATION_FIELDS } from '../../../lib/fragments';

export const CREATE_ANNOTATION = `mutation CreateAnnotation($input: CreateAnnotationInput!) { createAnnotation(input: $input) { ${ANNOTATION_FIELDS} } }`;
