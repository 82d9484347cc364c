/** ApiTokens' GraphQL documents. */

export const API_TOKENS = `query ApiTokens { apiTokens { id name prefix createdAt lastUsedAt revoked } }`;
export const CREATE_TOKEN = `mutation CreateApiToken($name: String!) { createApiToken(name: $name) { token apiToken { id } } }`;
export const REVOKE_TOKEN = `mutation RevokeApiToken($id: ID!) { revokeApiToken(id: $id) { id revoked } }`;
