export { Bankfeed } from './client.js';
export type * from './client.js';
export { Transport, parseRetryAfter, errorClassFor, RETRY_STATUSES } from './transport.js';
export type { BankfeedOptions, CallOptions, RetryInfo, TokenInfo } from './transport.js';
export * from './errors.js';
export * from './errors.generated.js';
export * from './models.js';
export { ROUTES, ROUTE_BY_OP, type Route } from './routes.js';
export * from './webhooks.js';
