/** LoginView's GraphQL document. */

export const LOGIN = `mutation Login($name: String!, $password: String!) { login(name: $name, password: $password) { id name role } }`;
