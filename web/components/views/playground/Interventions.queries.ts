/** The playground's intervened rollout: generatePath with interventions and SAE feature edits (see Interventions.tsx). */
export const GENERATE_PATH_INTERVENED = `mutation GeneratePathIntervened($modelId: ID!, $mazeId: ID, $maze: MazeInput, $interventions: [InterventionInput!], $featureEdits: FeatureEditsInput) { generatePath(modelId: $modelId, mazeId: $mazeId, maze: $maze, interventions: $interventions, featureEdits: $featureEdits) { tokens path metrics { exact_path target_reached valid_rollout steps frac_correct_forks } } }`;

/** The model's finished SAEs, whose latents the playground can edit (newest first). */
export const EDITABLE_SAES = `query EditableSaes($modelId: ID!) { experiments(modelId: $modelId, kind: "sae", first: 20) { edges { node { id status checkpoint { id } result { __typename ... on SaeSummary { hook d_sae } } } } } }`;
