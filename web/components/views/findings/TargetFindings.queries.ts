/** TargetFindings' GraphQL document: the findings about one component (main or further target). */
export const TARGET_FINDINGS = `query TargetFindings($model: ID!, $target: ComponentTargetInput!) {
  annotations(modelId: $model, target: $target, first: 20) { totalCount edges { node { id status body author { name } } } }
}`;
