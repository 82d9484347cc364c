/** ImportSae's GraphQL document. */
export const IMPORT_SAE = `mutation ImportSae($input: ImportSaeInput!) {
  importSae(input: $input) { id status params { __typename ... on ExperimentJobParams { experimentId } } }
}`;
