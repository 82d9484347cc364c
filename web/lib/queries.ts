/** The dashboard's GraphQL documents (operation names show up in server logs). */
import { EXPERIMENT_PARAMS } from './generated/params';

const AGGREGATE =
  'count exact_path_rate valid_rollout_rate target_reached_rate frac_correct_forks_pooled fork_decisions { correct total } means { node_overlap frac_connected_steps frac_adjacent_steps corner_jumps backtracks invalid_tokens frac_correct_forks path_length_ratio }';
const PROGRESS = 'progress { phase done total message skipped datasetId modelId experimentId kind loss lr tokensPerSec etaSec }';
const RESULT = `result { datasetId mazeCount skipped contentHash modelId step loss tokensPerSec evaluationId exact_path_rate baseline_exact_path_rate experimentId kind tensors lastEval { step loss model { exact_path_rate } baseline { exact_path_rate } } }`;
export const MODEL_CONFIG = 'config { d_model n_layers n_heads d_head d_mlp d_vocab n_ctx act_fn eps tokenizer }';
const LINEAGE =
  'lineage { source jobId datasetId seed preset trainMazes steps batch lr engine generated { generator grid grids balance curriculum { by fraction } queries } resumes { attempt fromStep at } ignoredTensors metadataKeys }';

export const JOB_FIELDS = `id kind status ${PROGRESS} ${RESULT} error createdAt createdBy { name }`;

export const JOB_PROGRESS = `subscription JobProgress($id: ID!) { jobProgress(id: $id) { ${JOB_FIELDS} } }`;
export const JOB = `query Job($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
export const CANCEL_JOB = `mutation CancelJob($id: ID!) { cancelJob(id: $id) { ${JOB_FIELDS} } }`;

const DATASET_FIELDS = 'id name generator grid count seed p status mazeCount createdAt createdBy { name }';

export const OVERVIEW = `query Overview {
  datasets(first: 6) { totalCount edges { node { ${DATASET_FIELDS} } } }
  models(first: 6) { totalCount edges { node { id name status parameterCount ${MODEL_CONFIG} createdAt } } }
  running: jobs(first: 20, status: RUNNING) { edges { node { ${JOB_FIELDS} } } }
  queued: jobs(first: 20, status: QUEUED) { edges { node { ${JOB_FIELDS} } } }
  recent: jobs(first: 5) { edges { node { ${JOB_FIELDS} } } }
}`;

export const DATASETS = `query Datasets($first: Int!, $after: String) {
  generators
  datasets(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${DATASET_FIELDS} } } }
}`;

export const CREATE_DATASET = `mutation CreateDataset($input: CreateDatasetInput!) { createDataset(input: $input) { ${JOB_FIELDS} } }`;

export const DATASET = `query Dataset($id: ID!) {
  dataset(id: $id) { ${DATASET_FIELDS} skipped contentHash splits { train test } forkless config { generator rows cols p forkless testFraction } job { ${JOB_FIELDS} } }
}`;

export const DATASET_MAZES = `query DatasetMazes($id: ID!, $first: Int!, $after: String, $split: Split, $cell: Int!) {
  dataset(id: $id) {
    id
    mazes(first: $first, after: $after, split: $split) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id index split pathLength svg(cellSize: $cell) } }
    }
  }
}`;

export const MAZE = `query Maze($id: ID!) {
  maze(id: $id) {
    id index split rows cols origin target solution pathLength stats { edges deadEnds forks isTree components cyclomatic forksOnPath l1Distance baselineSuccessProbability } tokens svg(cellSize: 36)
    dataset { id name generator grid }
  }
}`;

export const MODEL_OPTIONS = `query ModelOptions { models(first: 100) { edges { node { id name status ${MODEL_CONFIG} } } } }`;

export const GENERATE_PATH = `mutation GeneratePath($modelId: ID!, $mazeId: ID, $maze: MazeInput) { generatePath(modelId: $modelId, mazeId: $mazeId, maze: $maze) { tokens path metrics { exact_path node_overlap frac_connected_steps frac_adjacent_steps corner_jumps backtracks target_reached valid_rollout invalid_tokens fork_decisions { correct total } frac_correct_forks path_length_ratio predicted_length steps ended } } }`;

/** The playground's edited maze, checked and tokenized by the server (errors say what is wrong). */
export const TOKENIZE_MAZE = `query TokenizeMaze($input: MazeInput!, $tokenizer: String) { tokenizeMaze(input: $input, tokenizer: $tokenizer) { prompt tokens solution } }`;

export const MODELS = `query Models {
  models(first: 100) { totalCount edges { node { id name status parameterCount ${MODEL_CONFIG} ${LINEAGE} createdAt createdBy { name } } } }
  datasets(first: 100) { edges { node { id name status grid generator } } }
}`;

export const MODEL = `query Model($id: ID!) {
  model(id: $id) {
    id name status parameterCount ${MODEL_CONFIG} ${LINEAGE} vocab createdAt createdBy { name }
    checkpoints { id step sha256 bytes createdAt downloadUrl }
    trainingCurve { step name value }
    evals { id params { datasetId split generator grid seed count checkpointId } summary { count checkpointStep engine model { ${AGGREGATE} } baseline { ${AGGREGATE} } } createdAt job { ${JOB_FIELDS} } }
  }
  circuits(modelId: $id) { id name version updatedAt updatedBy { name } }
  datasets(first: 100) { edges { node { id name status } } }
  trainJobs: jobs(first: 20, kind: trainModel) { edges { node { ${JOB_FIELDS} } } }
}`;

export const TRAIN_MODEL = `mutation TrainModel($input: TrainModelInput!) { trainModel(input: $input) { ${JOB_FIELDS} } }`;
export const EVALUATE_MODEL = `mutation EvaluateModel($input: EvaluateModelInput!) { evaluateModel(input: $input) { ${JOB_FIELDS} } }`;

export const RUN_FORWARD = `mutation RunForward($modelId: ID!, $tokens: String!, $hooks: [String!]) {
  runForward(modelId: $modelId, tokens: $tokens, hooks: $hooks, topK: 5) { nextToken topK { token prob } cacheId cacheUrl }
}`;

/** A finding's target as every view selects it (ComponentTarget). */
export const TARGET_FIELDS = 'target { kind layer head neuron hook position experimentId }';

export const ANNOTATION_FIELDS = `id ${TARGET_FIELDS} body status tags evidence { label url } version createdAt updatedAt score myVote author { id name } comments { id body createdAt author { name } }`;

// A literal page size: the API's cost limit assumes the largest page for a variable `first`.
export const ANNOTATIONS = `query Annotations($modelId: ID!, $search: String) {
  annotations(modelId: $modelId, search: $search, first: 100) { totalCount edges { node { ${ANNOTATION_FIELDS} } } }
}`;

export const ANNOTATION = `query Annotation($id: ID!) { annotation(id: $id) { ${ANNOTATION_FIELDS} } }`;

export const ANNOTATION_EVENTS = `subscription AnnotationEvents($modelId: ID!) {
  annotationEvents(modelId: $modelId) { kind actor { name } comment { id body } annotation { ${ANNOTATION_FIELDS} } }
}`;

export const CREATE_ANNOTATION = `mutation CreateAnnotation($input: CreateAnnotationInput!) { createAnnotation(input: $input) { ${ANNOTATION_FIELDS} } }`;
export const UPDATE_ANNOTATION = `mutation UpdateAnnotation($input: UpdateAnnotationInput!) { updateAnnotation(input: $input) { ${ANNOTATION_FIELDS} } }`;
export const ADD_COMMENT = `mutation AddComment($annotationId: ID!, $body: String!) { addComment(annotationId: $annotationId, body: $body) { id } }`;
export const VOTE = `mutation Vote($annotationId: ID!, $value: Int!) { vote(annotationId: $annotationId, value: $value) { id score myVote } }`;

const CIRCUIT_FIELDS = `id name graph { nodes { id label kind layer head } edges { from to label evidence } } version updatedAt updatedBy { name } model { id name ${MODEL_CONFIG} } owner { name } editors { name } canEdit`;
export const CIRCUIT = `query Circuit($id: ID!) { circuit(id: $id) { ${CIRCUIT_FIELDS} } }`;
export const CREATE_CIRCUIT = `mutation CreateCircuit($modelId: ID!, $name: String!, $graph: CircuitGraphInput!) { createCircuit(modelId: $modelId, name: $name, graph: $graph) { id } }`;
export const CIRCUITS = `query Circuits { circuits(first: 200) { id name version updatedAt updatedBy { name } owner { name } editors { name } model { id name } } }`;
export const SET_CIRCUIT_EDITORS = `mutation SetCircuitEditors($id: ID!, $names: [String!]!) { setCircuitEditors(id: $id, names: $names) { ${CIRCUIT_FIELDS} } }`;
export const UPDATE_CIRCUIT = `mutation UpdateCircuit($id: ID!, $version: Int!, $name: String, $graph: CircuitGraphInput) { updateCircuit(id: $id, version: $version, name: $name, graph: $graph) { ${CIRCUIT_FIELDS} } }`;

export const LOGIN = `mutation Login($name: String!, $password: String!) { login(name: $name, password: $password) { id name role } }`;
export const API_TOKENS = `query ApiTokens { apiTokens { id name prefix createdAt lastUsedAt revoked } }`;
export const CREATE_TOKEN = `mutation CreateApiToken($name: String!) { createApiToken(name: $name) { token apiToken { id } } }`;
export const REVOKE_TOKEN = `mutation RevokeApiToken($id: ID!) { revokeApiToken(id: $id) { id revoked } }`;

export const PLAYGROUND = `query Playground($modelId: ID!, $mazeId: ID!, $withModel: Boolean!, $withMaze: Boolean!) {
  model(id: $modelId) @include(if: $withModel) { id name ${MODEL_CONFIG} vocab latestCheckpoint { id step } }
  maze(id: $mazeId) @include(if: $withMaze) { id index rows cols origin target solution connections tokens svg(cellSize: 40) small: svg(cellSize: 12) dataset { id name } }
}`;

export const PICK_MAZES = `query PickMazes($id: ID!) {
  dataset(id: $id) { id mazes(first: 40) { edges { node { id index pathLength svg(cellSize: 6) } } } }
}`;

const PATCH_PAIR = 'pairs { change length good bad clean_logit_diff corrupt_logit_diff changed_positions }';
const SITE_VALUES = 'resid_pre attn_out mlp_out head_by_pos head_all_pos';
const PROBE_SCORES = '{ accuracy balanced majority control selectivity selectivity_balanced }';
const RETARGET_OUTCOME = '{ valid_to_new_target valid_to_old_target changed }';
const BEHAVIOR_METRICS =
  '{ exact_path_rate valid_rollout_rate target_reached_rate node_overlap frac_connected_steps frac_correct_forks_pooled backtracks invalid_tokens }';

/**
 * Experiment.result: each kind's summary, typed (what its view reads). Fields of one name but
 * different types in two kinds (layers, grid, positions) are aliased, as GraphQL requires.
 */
export const EXPERIMENT_RESULT = `result { __typename
    ... on AttentionSummary { mazes layers query_position query_token grid tokens classes }
    ... on LogitLensSummary { mazes positions lensLayers: layers { layer accuracy correct_prob correct_rank } final_layer_max_abs_diff }
    ... on DlaSummary { components classes counts { fork corridor start end } mean_logit_diff { fork corridor start end } max_sum_error }
    ... on ActivationPatchingSummary { sites classes ${PATCH_PAIR} }
    ... on AttributionPatchingSummary { sites classes ${PATCH_PAIR} correlation_with_exact { ${SITE_VALUES} } }
    ... on GeometrySummary { classes geoLayers: layers properties methods k mazes points_total points_used by_layer { layer scores { property score } }
      geoChance: chance { property chance } best { property layer score chance } pca_explained }
    ... on PathPatchingSummary { receivers { kind layer heads inputs } freeze ${PATCH_PAIR} strongest { layer head effect } }
    ... on ProbesSummary { train test classes targets probeLayers: layers future_equals_solution_at
      table { class layer edge ${PROBE_SCORES} solution ${PROBE_SCORES} future ${PROBE_SCORES} target ${PROBE_SCORES} } }
    ... on WeightsSummary { side: grid embedding { distance_vs_lattice_pearson cosine_distance_vs_lattice_pearson anchor pca_explained_variance pc_row_corr pc_col_corr }
      heads { layer head ov_singular_values qk_singular_values qk_lattice_adjacency_corr } }
    ... on AdjacencyHeadsSummary { mazes queries query_tokens ranked { rank layer head lattice connected wall chance lift connected_share } }
    ... on RetargetSummary { mazes patchedAt: positions conditions baseline { valid_to_old_target valid_to_new_target }
      retargetLayers: layers { layer retarget ${RETARGET_OUTCOME} random ${RETARGET_OUTCOME} same ${RETARGET_OUTCOME} } }
    ... on BehaviorSummary { constrained metrics rows { too_long skipped } table { generator size mazes model ${BEHAVIOR_METRICS} baseline ${BEHAVIOR_METRICS} } }
    ... on LookaheadSummary { mazes forks ambiguous_forks accuracy choice_accuracy chance by_lookahead { lookahead forks correct accuracy choice_accuracy chance } }
  }`;

/** An experiment's params, every kind's fields (web/lib/generated/params.ts). */
const PARAMS = `params { __typename ${EXPERIMENT_PARAMS} }`;

export const EXPERIMENT_FIELDS = `id kind ${PARAMS} seed status error ${EXPERIMENT_RESULT} downloadUrl createdAt createdBy { name }
  tensors { name shape bytes downloadUrl }
  model { id name ${MODEL_CONFIG} vocab } dataset { id name } checkpoint { id step } job { ${JOB_FIELDS} }`;

export const EXPERIMENT = `query Experiment($id: ID!) { experiment(id: $id) { ${EXPERIMENT_FIELDS} mazeSvg(cellSize: 36) } }`;

// Literal page size: the API's cost limit assumes the largest page for a variable `first`.
export const EXPERIMENTS = `query Experiments($modelId: ID, $kind: String, $after: String) {
  experiments(modelId: $modelId, kind: $kind, after: $after, first: 50) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id kind status seed createdAt createdBy { name } model { id name } dataset { id name } job { id ${PROGRESS} } } }
  }
}`;

export const EXPERIMENT_FORM = `query ExperimentForm($modelId: ID) {
  experimentKinds(modelId: $modelId) { kind describe inputField params { name type doc enum choices defaultDoc hasDefault } defaults { __typename ${EXPERIMENT_PARAMS} } }
  models(first: 100) { edges { node { id name status ${MODEL_CONFIG} } } }
  datasets(first: 100) { edges { node { id name status grid generator } } }
}`;

export const RUN_EXPERIMENT = `mutation RunExperiment($modelId: ID!, $params: ExperimentParamsInput!, $datasetId: ID, $seed: Int) {
  runExperiment(modelId: $modelId, params: $params, datasetId: $datasetId, seed: $seed) { ${JOB_FIELDS} params { __typename ... on ExperimentJobParams { experimentId } } }
}`;
