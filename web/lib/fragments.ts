/**
 * The selections the dashboard's GraphQL documents share, as strings interpolated into them (the
 * documents live beside the components that send them, in `*.queries.ts` files). Not operations:
 * schema/operations.ts generates no type for these, only for the documents that use them.
 */
import { EXPERIMENT_PARAMS } from './generated/params';

export const AGGREGATE =
  'count exact_path_rate valid_rollout_rate target_reached_rate frac_correct_forks_pooled fork_decisions { correct total } means { node_overlap frac_connected_steps frac_adjacent_steps corner_jumps backtracks invalid_tokens frac_correct_forks path_length_ratio }';
export const PROGRESS = 'progress { phase done total message skipped datasetId modelId experimentId kind loss lr tokensPerSec etaSec }';
export const RESULT = `result { datasetId mazeCount skipped contentHash modelId step loss tokensPerSec evaluationId exact_path_rate baseline_exact_path_rate experimentId kind tensors lastEval { step loss model { exact_path_rate } baseline { exact_path_rate } } }`;
export const MODEL_CONFIG =
  'config { d_model n_layers n_heads d_head d_mlp d_vocab n_ctx act_fn eps tokenizer positional_embedding_type rotary_dim rotary_base rotary_adjacent_pairs normalization_type attn_only parallel_attn_mlp d_vocab_out }';
export const LINEAGE =
  'lineage { source jobId datasetId seed preset trainMazes steps batch lr engine generated { generator grid grids balance curriculum { by fraction } queries } resumes { attempt fromStep at } ignoredTensors metadataKeys }';

export const JOB_FIELDS = `id kind status ${PROGRESS} ${RESULT} error createdAt createdBy { name }`;

export const DATASET_FIELDS = 'id name generator grid count seed p status mazeCount createdAt createdBy { name }';

/** A finding's target as every view selects it (ComponentTarget). */
export const TARGET_FIELDS = 'target { kind layer head neuron hook position experimentId latent index }';

export const ANNOTATION_FIELDS = `id ${TARGET_FIELDS} alsoAbout { kind layer head neuron hook position experimentId latent index } body status tags evidence { label url } version createdAt updatedAt score myVote author { id name } comments { id body createdAt author { name } }`;

export const CIRCUIT_FIELDS = `id name graph { nodes { id label kind layer head } edges { from to label evidence weight } } version updatedAt updatedBy { name } model { id name ${MODEL_CONFIG} } owner { name } editors { name } canEdit`;

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
    ... on LogitLensSummary { mazes positions grid lensLayers: layers { layer accuracy correct_prob correct_rank } final_layer_max_abs_diff }
    ... on DlaSummary { components classes counts { fork corridor start end } mean_logit_diff { fork corridor start end } max_sum_error }
    ... on ActivationPatchingSummary { sites classes ${PATCH_PAIR} }
    ... on AttributionPatchingSummary { sites classes ${PATCH_PAIR} correlation_with_exact { ${SITE_VALUES} } }
    ... on GeometrySummary { classes geoLayers: layers properties methods k mazes points_total points_used by_layer { layer scores { property score } }
      geoChance: chance { property chance } best { property layer score chance } pca_explained }
    ... on PathPatchingSummary { receivers { kind layer heads inputs } freeze ${PATCH_PAIR} strongest { layer head effect } }
    ... on ProbesSummary { train test grid classes targets probeLayers: layers future_equals_solution_at label_columns { edge solution future target }
      table { class layer edge ${PROBE_SCORES} solution ${PROBE_SCORES} future ${PROBE_SCORES} target ${PROBE_SCORES} } }
    ... on WeightsSummary { side: grid embedding { distance_vs_lattice_pearson cosine_distance_vs_lattice_pearson anchor pca_explained_variance pc_row_corr pc_col_corr }
      heads { layer head ov_singular_values qk_singular_values qk_lattice_adjacency_corr } }
    ... on AdjacencyHeadsSummary { mazes queries query_tokens ranked { rank layer head lattice connected wall chance lift connected_share } }
    ... on RetargetSummary { mazes patchedAt: positions conditions baseline { valid_to_old_target valid_to_new_target }
      retargetLayers: layers { layer retarget ${RETARGET_OUTCOME} random ${RETARGET_OUTCOME} same ${RETARGET_OUTCOME} } }
    ... on BehaviorSummary { constrained metrics rows { too_long skipped } table { generator size mazes model ${BEHAVIOR_METRICS} baseline ${BEHAVIOR_METRICS} } }
    ... on LookaheadSummary { mazes forks ambiguous_forks accuracy choice_accuracy chance by_lookahead { lookahead forks correct accuracy choice_accuracy chance } }
    ... on SaeSummary { hook classes architecture d_in d_sae topk l1_coefficient l0_coefficient bandwidth steps batch rows_trained mazes_trained input_scale resampled
      curve { step mse explained_variance l0 dead_fraction }
      eval { mazes rows mse explained_variance l0 dead_fraction ce_clean ce_sae ce_zero loss_recovered }
      encodes { property scored above_095 best { category rows latent auc } } }
    ... on SaeInterventionSummary { sae hook mazes connection_latents min_auc solved
      remove { trials changed rate control_changed control_rate valid changed_valid } add { trials changed rate control_changed control_rate valid changed_valid } }
  }`;

/** An experiment's params, every kind's fields (web/lib/generated/params.ts). */
export const PARAMS = `params { __typename ${EXPERIMENT_PARAMS} }`;

export const EXPERIMENT_FIELDS = `id kind ${PARAMS} seed status error ${EXPERIMENT_RESULT} downloadUrl createdAt createdBy { name }
  tensors { name shape bytes downloadUrl }
  model { id name ${MODEL_CONFIG} vocab } dataset { id name } checkpoint { id step } job { ${JOB_FIELDS} }`;
