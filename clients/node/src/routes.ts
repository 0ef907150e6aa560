// Every route of the API, as one table.  The client sends each call through
// its entry (method, path, authentication, the query parameters and headers it
// may carry), and the spec test checks the table against docs/openapi.yaml:
// a route, parameter or field of the document without its counterpart here
// fails the test.

export type Auth = 'bearer' | 'none' | 'basic' | 'metrics';

export interface Route {
  /** The operationId in docs/openapi.yaml; the client's method of that name. */
  readonly op: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly auth: Auth;
  /** Query parameters the method takes. */
  readonly query: readonly string[];
  /** Request headers the method can send (X-Request-Id goes on every call). */
  readonly headers: readonly string[];
  /** MODEL_FIELDS name of the request body, or null. */
  readonly request: string | null;
  /** MODEL_FIELDS name of the answer's body, or null (204, text). */
  readonly response: string | null;
  /** Not in docs/openapi.yaml yet: another branch is adding it to the server. */
  readonly pending?: boolean;
}

const IK = 'Idempotency-Key';
const PAGE = ['limit', 'cursor'] as const;

export const ROUTES: readonly Route[] = [
  { op: 'getHealth', method: 'GET', path: '/health', auth: 'none', query: [], headers: [], request: null, response: 'Health' },
  { op: 'getMetrics', method: 'GET', path: '/metrics', auth: 'metrics', query: [], headers: [], request: null, response: null },
  { op: 'createToken', method: 'POST', path: '/oauth/token', auth: 'basic', query: [], headers: [IK], request: 'TokenRequest', response: 'TokenResponse' },
  { op: 'listErrors', method: 'GET', path: '/v1/errors', auth: 'none', query: [], headers: [], request: null, response: 'ErrorCatalogList' },
  { op: 'listInstitutions', method: 'GET', path: '/v1/institutions', auth: 'bearer', query: ['country', 'q'], headers: [], request: null, response: 'InstitutionList' },
  { op: 'getInstitution', method: 'GET', path: '/v1/institutions/{id}', auth: 'bearer', query: [], headers: [], request: null, response: 'Institution' },
  { op: 'createUser', method: 'POST', path: '/v1/users', auth: 'bearer', query: [], headers: [IK], request: 'UserCreate', response: 'User' },
  { op: 'listUsers', method: 'GET', path: '/v1/users', auth: 'bearer', query: ['external_ref', ...PAGE], headers: [], request: null, response: 'UserList' },
  { op: 'getUser', method: 'GET', path: '/v1/users/{id}', auth: 'bearer', query: [], headers: [], request: null, response: 'User' },
  { op: 'deleteUser', method: 'DELETE', path: '/v1/users/{id}', auth: 'bearer', query: [], headers: [], request: null, response: null },
  { op: 'importStatement', method: 'POST', path: '/v1/users/{id}/statements', auth: 'bearer', query: ['format', 'wait_seconds', 'strict'], headers: [IK, 'X-Filename'], request: 'StatementUpload', response: 'Task' },
  { op: 'createConnection', method: 'POST', path: '/v1/connections', auth: 'bearer', query: [], headers: [IK], request: 'ConnectionCreate', response: 'ConnectionCreated' },
  { op: 'listConnections', method: 'GET', path: '/v1/connections', auth: 'bearer', query: ['user_id', ...PAGE], headers: [], request: null, response: 'ConnectionList' },
  { op: 'getConnection', method: 'GET', path: '/v1/connections/{id}', auth: 'bearer', query: [], headers: [], request: null, response: 'Connection' },
  { op: 'deleteConnection', method: 'DELETE', path: '/v1/connections/{id}', auth: 'bearer', query: [], headers: [], request: null, response: null },
  { op: 'createSession', method: 'POST', path: '/v1/connections/{id}/sessions', auth: 'bearer', query: [], headers: [IK], request: 'SessionCreate', response: 'Session' },
  { op: 'getSession', method: 'GET', path: '/v1/sessions/{id}', auth: 'bearer', query: [], headers: [], request: null, response: 'Session' },
  { op: 'answerSession', method: 'POST', path: '/v1/sessions/{id}/answers', auth: 'bearer', query: [], headers: [IK], request: 'SessionAnswers', response: 'Session' },
  { op: 'xs2aCallback', method: 'GET', path: '/v1/callback/xs2a', auth: 'none', query: ['state', 'nok'], headers: [], request: null, response: null },
  { op: 'syncConnection', method: 'POST', path: '/v1/connections/{id}/sync', auth: 'bearer', query: [], headers: [IK, 'PSU-IP-Address'], request: 'SyncRequest', response: 'Task' },
  { op: 'getTask', method: 'GET', path: '/v1/tasks/{id}', auth: 'bearer', query: [], headers: [], request: null, response: 'Task' },
  { op: 'listAccounts', method: 'GET', path: '/v1/accounts', auth: 'bearer', query: ['user_id', 'connection_id', ...PAGE], headers: [], request: null, response: 'AccountList' },
  { op: 'getAccount', method: 'GET', path: '/v1/accounts/{id}', auth: 'bearer', query: [], headers: [], request: null, response: 'Account' },
  { op: 'listTransactions', method: 'GET', path: '/v1/accounts/{id}/transactions', auth: 'bearer', query: ['from', 'to', 'status', ...PAGE], headers: [], request: null, response: 'TransactionList' },
  { op: 'syncTransactions', method: 'GET', path: '/v1/transactions/sync', auth: 'bearer', query: ['connection_id', ...PAGE], headers: [], request: null, response: 'TransactionsSyncPage' },
  { op: 'putWebhook', method: 'PUT', path: '/v1/webhook', auth: 'bearer', query: [], headers: [], request: 'WebhookPut', response: 'Webhook' },
  { op: 'getWebhook', method: 'GET', path: '/v1/webhook', auth: 'bearer', query: [], headers: [], request: null, response: 'Webhook' },
  { op: 'deleteWebhook', method: 'DELETE', path: '/v1/webhook', auth: 'bearer', query: [], headers: [], request: null, response: null },
  { op: 'createConnectToken', method: 'POST', path: '/v1/connect_tokens', auth: 'bearer', query: [], headers: [IK], request: 'ConnectTokenCreate', response: 'ConnectToken', pending: true },
];

export const ROUTE_BY_OP: ReadonlyMap<string, Route> = new Map(ROUTES.map((r) => [r.op, r]));
