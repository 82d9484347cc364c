/**
 * Query depth and cost limits, so an expensive query is refused before any resolver runs.
 *
 * Depth does not depend on variables: it is a GraphQL validation rule (Apollo caches validation
 * per document, so it is checked once per distinct query text). Cost does: `first: $n` may ask for
 * 5 items or 500, and validation cannot see variable values. So cost is computed once the
 * operation is resolved and its variables are known — in an Apollo plugin's `didResolveOperation`
 * hook for HTTP (`queryCostPlugin`) and before execution for WebSocket operations (`costError`,
 * called by server.ts) — with each `first` taken from its actual (coerced) value.
 *
 * Cost model: every field costs 1 (some derived fields more, see FIELD_COST) plus the cost of its
 * selection multiplied by the number of items it may return: its `first` argument (literal,
 * variable or schema default), or LIST_GUESS for other lists of objects. Only when the variables
 * cannot be coerced (execution will refuse them anyway) is a variable `first` taken as MAX_PAGE.
 * Introspection is priced by the size of its answer (INTROSPECTION_COST). Fragments are measured
 * once per document (memoised), so measuring is linear in the document's size.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  GraphQLError,
  Kind,
  visit,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql/index.js';
import { MAX_PAGE } from './pagination.js';
import { MAX_ALSO_ABOUT } from '../services/annotations.js';

export const MAX_DEPTH = 12;
export const MAX_COST = 50_000;
/** Tokens a document may have (lexer tokens: names, punctuation, values). */
export const MAX_DOCUMENT_TOKENS = 10_000;
const LIST_GUESS = 50;
/** The most sequences Query.parseMazeTokensList reads in one request (a page of drill-down mazes). */
export const MAX_PARSE_ITEMS = 32;
/** Lists whose length the services bound, priced at that bound instead of LIST_GUESS. */
const LIST_BOUNDS: Record<string, number> = {
  'Annotation.alsoAbout': MAX_ALSO_ABOUT,
  'Query.parseMazeTokensList': MAX_PARSE_ITEMS,
};
/** Fields that compute something per item (renderings, token sequences). */
const FIELD_COST: Record<string, number> = {
  svg: 10,
  ascii: 5,
  tokens: 5,
  connections: 3,
  stats: 2,
  // SAE fields read an experiment's stored tensors; saeActivations also runs the model.
  saeFeature: 1_000,
  saeFeaturesFor: 200,
  saeActivations: 5_000,
  // A probe direction reads its run's stored probes and the checkpoint's unembedding.
  probeDirection: 1_000,
  // A component's activity runs the model on up to 500 test mazes.
  activity: 5_000,
};
/** Introspection by its answer's size: a whole schema is dear (a tenth of the limit), one type cheap. */
const INTROSPECTION_COST: Record<string, number> = { __schema: 5_000, __type: 100, __typename: 0 };

export interface Limits {
  maxDepth: number;
  maxCost: number;
}
export const DEFAULT_LIMITS: Limits = { maxDepth: MAX_DEPTH, maxCost: MAX_COST };

function isList(t: GraphQLOutputType): boolean {
  return isListType(isNonNullType(t) ? t.ofType : t);
}

function rootType(schema: GraphQLSchema, op: OperationDefinitionNode) {
  return op.operation === 'query' ? schema.getQueryType() : op.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
}

const opName = (op: OperationDefinitionNode): string => (op.name ? ` ${op.name.value}` : '');

/** Refuses operations nested deeper than `maxDepth` (fragments expanded). */
export function queryDepthRule(limits: Limits = DEFAULT_LIMITS): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(op: OperationDefinitionNode) {
      const root = rootType(context.getSchema(), op);
      if (!root) return;
      const fragments = new Map(
        context
          .getDocument()
          .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
          .map((d) => [d.name.value, d]),
      );
      const { depth } = measure({ schema: context.getSchema(), fragments, variables: null }, op.selectionSet, root);
      if (depth > limits.maxDepth) {
        context.reportError(
          new GraphQLError(`operation${opName(op)} is ${depth} levels deep; the limit is ${limits.maxDepth}`, {
            nodes: [op],
            extensions: { limit: 'depth', depth, maxDepth: limits.maxDepth },
          }),
        );
      }
    },
  });
}

/**
 * The cost of the operation `operationName` of `document` with these (uncoerced, as sent)
 * variables; null when the document names no such operation (execution reports that).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): { cost: number; op: OperationDefinitionNode } | null {
  const op = getOperationAST(document, operationName ?? undefined);
  const root = op && rootType(schema, op);
  if (!op || !root) return null;
  const coerced = getVariableValues(schema, op.variableDefinitions ?? [], variables ?? {});
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  return { cost: measure({ schema, fragments, variables: coerced.coerced ?? null }, op.selectionSet, root).cost, op };
}

/** The error refusing an over-costly operation, or null when it is within the limit. */
export function costError(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: Limits = DEFAULT_LIMITS,
): GraphQLError | null {
  const r = operationCost(schema, document, operationName, variables);
  if (!r || r.cost <= limits.maxCost) return null;
  return new GraphQLError(
    `operation${opName(r.op)} may cost ${r.cost} (fields × page sizes); the limit is ${limits.maxCost} — ask for smaller pages (first) or fewer nested lists`,
    {
      nodes: [r.op],
      extensions: { code: 'BAD_USER_INPUT', limit: 'cost', cost: r.cost, maxCost: limits.maxCost },
    },
  );
}

/** True when the operation selects __schema or __type anywhere (fragments included). */
export function usesIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') found = true;
    },
  });
  return found;
}

/** The error refusing an anonymous caller's introspection, or null when the operation may run. */
export function introspectionError(signedIn: boolean, document: DocumentNode): GraphQLError | null {
  if (signedIn || !usesIntrospection(document)) return null;
  return new GraphQLError('introspection needs a signed-in caller on this server', { extensions: { code: 'UNAUTHENTICATED' } });
}

/**
 * Apollo plugin: introspection only for signed-in callers (production default, SEARCHLIGHT_INTROSPECTION
 * `signed-in` | `always`): an anonymous caller learns nothing of the schema but what errors say.
 * WebSocket operations get the same check from server.ts through introspectionError.
 */
export function introspectionPlugin<C extends BaseContext & { user: unknown }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const err = introspectionError(rc.contextValue.user !== null, rc.document);
          if (err) throw new GraphQLError(err.message, { extensions: { ...err.extensions, http: { status: 401 } } });
        },
      };
    },
  };
}

/** Whether anonymous callers may introspect: SEARCHLIGHT_INTROSPECTION, else not in production. */
export function anonymousIntrospection(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.SEARCHLIGHT_INTROSPECTION;
  if (v === 'always') return true;
  if (v === 'signed-in') return false;
  if (v !== undefined && v !== '') throw new Error(`SEARCHLIGHT_INTROSPECTION must be "always" or "signed-in"; got ${JSON.stringify(v)}`);
  return env.NODE_ENV !== 'production';
}

/** Apollo plugin: the cost check on HTTP requests, once variables are known. */
export function queryCostPlugin<C extends BaseContext>(limits: Limits = DEFAULT_LIMITS): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const err = costError(rc.schema, rc.document, rc.operationName, rc.request.variables, limits);
          // extensions.http sets the response status (400, as for other refused documents); Apollo strips it.
          if (err) throw new GraphQLError(err.message, { nodes: err.nodes, extensions: { ...err.extensions, http: { status: 400 } } });
        },
      };
    },
  };
}

interface Env {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  /** Coerced variable values; null when unknown (validation) or not coercible. */
  variables: Record<string, unknown> | null;
  /** Fragment name → its cost and height, measured once per document. */
  memo: Map<string, { cost: number; height: number }>;
}

/** Items a list field may return: its `first` (with variables and defaults applied), else a guess. */
function multiplier(env: Env, field: GraphQLField<unknown, unknown>, sel: FieldNode, parent: GraphQLCompositeType): number {
  const firstDef = field.args.find((a) => a.name === 'first');
  if (firstDef) {
    const node = sel.arguments?.find((a) => a.name.value === 'first');
    let n: unknown;
    if (env.variables) {
      try {
        n = getArgumentValues(field as never, sel, env.variables).first;
      } catch {
        n = undefined; // not coercible: execution refuses it; assume the worst here
      }
      n ??= firstDef.defaultValue; // null or absent: the resolver's default page (the schema's default)
    } else if (!node) n = firstDef.defaultValue;
    else if (node.value.kind === Kind.INT) n = Number(node.value.value);
    return typeof n === 'number' && Number.isFinite(n) ? Math.max(1, n) : MAX_PAGE;
  }
  const bound = LIST_BOUNDS[`${parent.name}.${field.name}`];
  if (bound !== undefined) return bound;
  if (isList(field.type) && !parent.name.endsWith('Connection')) return LIST_GUESS; // a connection's edges are its parent's `first`
  return 1;
}

/**
 * Cost and height (levels below `set`'s own) of a selection set. A fragment's cost and height do
 * not depend on where it is spread (its type condition fixes its parent), so each is measured once
 * per document and reused (`env.memo`): the measure is linear in the document, where expanding
 * every spread anew was exponential (10 spreads × 8 levels of nested fragments took 14 s).
 */
function measureSet(env: Env, set: SelectionSetNode, parent: GraphQLCompositeType): { cost: number; height: number } {
  let cost = 0;
  let height = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      const name = sel.name.value;
      if (name.startsWith('__')) {
        // Introspection is priced, not free: one __schema answer is ~100 kB, and 1,000 aliased
        // copies made a 43 MB response (issue 16).
        cost += INTROSPECTION_COST[name] ?? 0;
        height = Math.max(height, 1);
        continue;
      }
      const field: GraphQLField<unknown, unknown> | undefined = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
      if (!field) continue; // other rules report unknown fields
      let c = FIELD_COST[name] ?? 1;
      let h = 1;
      const named = getNamedType(field.type);
      if (sel.selectionSet && isCompositeType(named)) {
        const inner = measureSet(env, sel.selectionSet, named);
        c += inner.cost * multiplier(env, field, sel, parent);
        h = 1 + inner.height;
      }
      cost += c;
      height = Math.max(height, h);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const typeName = sel.typeCondition?.name.value;
      const t = typeName ? env.schema.getType(typeName) : parent;
      if (!t || !isCompositeType(t)) continue;
      const inner = measureSet(env, sel.selectionSet, t);
      cost += inner.cost;
      height = Math.max(height, inner.height);
    } else {
      const inner = measureFragment(env, sel.name.value);
      cost += inner.cost;
      height = Math.max(height, inner.height);
    }
  }
  return { cost, height };
}

function measureFragment(env: Env, name: string): { cost: number; height: number } {
  const hit = env.memo.get(name);
  if (hit) return hit; // measured, or in progress: a cycle, which NoFragmentCyclesRule reports
  const zero = { cost: 0, height: 0 };
  env.memo.set(name, zero);
  const frag = env.fragments.get(name);
  const t = frag && env.schema.getType(frag.typeCondition.name.value);
  const r = frag && t && isCompositeType(t) ? measureSet(env, frag.selectionSet, t) : zero;
  env.memo.set(name, r);
  return r;
}

/** Cost and depth (levels, the operation's own fields at level 1) of an operation's selection. */
function measure(env: Omit<Env, 'memo'>, set: SelectionSetNode, parent: GraphQLCompositeType): { cost: number; depth: number } {
  const r = measureSet({ ...env, memo: new Map() }, set, parent);
  return { cost: r.cost, depth: r.height };
}
