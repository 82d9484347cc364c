/**
 * The executable schema: schema/*.graphql (schema-first) with our resolvers attached. We attach
 * resolvers to graphql-js' field objects directly (what graphql-tools' makeExecutableSchema does),
 * and refuse a resolver for a type or field the SDL does not declare, so a typo fails at start-up.
 *
 * We import 'graphql/index.js' (graphql's CommonJS build), never bare 'graphql': Node resolves
 * Apollo's and graphql-ws' `import 'graphql'` to that file, while Vite (vitest) would resolve a bare
 * import to index.mjs — two copies of graphql-js, which refuse each other's schema objects.
 */
import {
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type GraphQLScalarType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
} from 'graphql/index.js';
import { loadSchema } from '../../schema/codegen.js';
import type { Ctx } from './context.js';
import type { Resolvers } from './generated/types.js';
import { annotationResolvers } from './resolvers/annotation.js';
import { commonResolvers } from './resolvers/common.js';
import { componentResolvers } from './resolvers/component.js';
import { directionResolvers } from './resolvers/direction.js';
import { datasetResolvers } from './resolvers/dataset.js';
import { experimentResolvers } from './resolvers/experiment.js';
import { jobResolvers } from './resolvers/job.js';
import { modelResolvers } from './resolvers/model.js';
import { userResolvers } from './resolvers/user.js';

export const ALL_RESOLVERS: Resolvers<Ctx>[] = [
  commonResolvers,
  userResolvers,
  datasetResolvers,
  modelResolvers,
  jobResolvers,
  annotationResolvers,
  experimentResolvers,
  componentResolvers,
  directionResolvers,
];

type AnyFn = GraphQLFieldResolver<unknown, unknown>;

export function buildExecutableSchema(resolverSets: Resolvers<Ctx>[] = ALL_RESOLVERS): GraphQLSchema {
  const schema = loadSchema();
  for (const set of resolverSets) {
    for (const [typeName, fields] of Object.entries(set as Record<string, unknown>)) {
      const type = schema.getType(typeName);
      if (!type) throw new Error(`resolvers given for type ${typeName}, which the schema does not declare`);
      if (isScalarType(type)) {
        const impl = fields as GraphQLScalarType;
        Object.assign(type, { serialize: impl.serialize, parseValue: impl.parseValue, parseLiteral: impl.parseLiteral });
        continue;
      }
      if (isUnionType(type)) {
        // A union takes one resolver: the one that names the member type of a value.
        for (const [name, r] of Object.entries(fields as Record<string, unknown>)) {
          if (name !== '__resolveType') throw new Error(`resolver for ${typeName}.${name}: a union takes only __resolveType`);
          type.resolveType = r as never;
        }
        continue;
      }
      if (!isObjectType(type) && !isInterfaceType(type)) throw new Error(`cannot attach resolvers to ${typeName}`);
      const defs = type.getFields();
      for (const [fieldName, r] of Object.entries(fields as Record<string, unknown>)) {
        if (fieldName === '__resolveType' && isInterfaceType(type)) {
          type.resolveType = r as never;
          continue;
        }
        const field = defs[fieldName];
        if (!field) throw new Error(`resolver for ${typeName}.${fieldName}, which the schema does not declare`);
        if (typeof r === 'function') field.resolve = r as AnyFn;
        else {
          const sub = r as { subscribe: AnyFn; resolve?: AnyFn };
          field.subscribe = sub.subscribe;
          field.resolve = sub.resolve ?? ((payload) => payload);
        }
      }
    }
  }
  return schema;
}
