// The objects of the API (docs/openapi.yaml, components.schemas), as types,
// and MODEL_FIELDS: the same fields at run time, which the spec test compares
// with the document.  fields<T>()([...]) does not compile unless the list
// names exactly the keys of T, so the types and the table cannot drift apart.
import type { ErrorObject } from './errors.js';

export type { ErrorObject };

type Exactly<T, K extends readonly string[]> =
  [Exclude<keyof T, K[number]>] extends [never]
    ? [Exclude<K[number], keyof T>] extends [never] ? K : never
    : never;
function fields<T>() {
  return <const K extends readonly string[]>(k: K & Exactly<T, K>): readonly string[] => k;
}

export type Timestamp = string;
export type DateString = string;

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
export interface Health { status: string; version: string }
export interface TokenRequest { grant_type: 'client_credentials'; client_id?: string; client_secret?: string }
export interface TokenResponse { access_token: string; token_type: string; expires_in: number }
export interface ErrorCatalogEntry {
  code: number; name: string; aliases: string[]; group: string; http_status: number;
  description: string; retryable: boolean; reproduce: string;
}
export interface Institution {
  id: string; name: string; country: string; bic: string | null;
  protocol: 'sandbox' | 'file' | 'xs2a' | string; status: 'up' | 'maintenance' | string;
  requires_psu_ip: boolean; sca_approaches: string[];
}
export interface UserCreate { external_ref?: string }
export interface User { id: string; external_ref: string | null; created_at: Timestamp }
export interface Credentials { username: string; password: string }
export interface ConnectionCreate {
  user_id: string; institution_id: string; credentials: Credentials; store_credentials?: boolean;
}
export interface Connection {
  id: string; user_id: string; institution_id: string;
  status: 'pending' | 'authorized' | 'failed' | 'expired' | string;
  store_credentials: boolean; consent_expires_at: Timestamp | null; last_synced_at: Timestamp | null;
  created_at: Timestamp; error: ErrorObject | null;
}
export interface SessionCreate { credentials?: Credentials }
export interface Challenge {
  key: string; kind: 'question' | 'tan' | 'choice' | 'redirect' | 'decoupled' | string;
  prompt: string; options?: string[]; url?: string;
}
export interface Session {
  id: string; connection_id: string;
  status: 'challenge_required' | 'authorized' | 'failed' | 'expired' | string;
  challenges: Challenge[]; expires_at: Timestamp; error: ErrorObject | null;
}
export interface ConnectionCreated { connection: Connection; session: Session }
export interface SessionAnswers { answers: Record<string, string> }
export interface SyncRequest { wait_seconds?: number; from?: DateString }
export interface TaskWarning { name: string; account_id: string | null; transaction_id: string | null; detail: string }
export interface TaskResult { accounts: number; transactions_added: number; transactions_updated: number }
export interface Task {
  id: string; kind: 'sync' | 'import' | string; connection_id: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'expired' | string;
  dispatched: boolean; error: ErrorObject | null; warnings: TaskWarning[]; result: TaskResult | null;
  created_at: Timestamp; started_at: Timestamp | null; finished_at: Timestamp | null;
}
export interface AccountHolder { name: string | null; address: string | null; email: string | null }
export interface Balance { type: string; amount: string; currency: string; reference_date: DateString | null }
export interface Account {
  id: string; connection_id: string; name: string | null;
  type: 'checking' | 'savings' | 'credit_card' | 'loan' | 'investment' | 'other' | string;
  iban: string | null; masked_number: string | null; currency: string;
  status: 'active' | 'closed' | 'error' | string; error: ErrorObject | null;
  holder: AccountHolder; balances: Balance[];
}
export interface Counterparty { name: string | null; iban: string | null }
export interface Transaction {
  id: string; account_id: string; status: 'booked' | 'pending' | string;
  booking_date: DateString | null; value_date: DateString | null; amount: string; currency: string;
  counterparty: Counterparty; description: string | null; bank_transaction_code: string | null;
  bank_reference: string | null;
  /** camt: the transaction details' own bank transaction code, when it differs from the entry's. */
  details_bank_transaction_code: string | null;
}
export interface RemovedTransaction { id: string; account_id: string }
export interface TransactionsSyncPage {
  added: Transaction[]; modified: Transaction[]; removed: RemovedTransaction[];
  next_cursor: string; has_more: boolean;
}
export interface WebhookPut { url: string; secret: string }
export interface Webhook { url: string; created_at: Timestamp }
export interface WebhookEvent<T = Record<string, unknown>> {
  id: string;
  type: 'session.challenge_required' | 'connection.authorized' | 'task.completed' | 'task.failed' | string;
  created_at: Timestamp; data: T;
}
/** POST /v1/connect_tokens (being added to the server; not in docs/openapi.yaml yet). */
export interface ConnectTokenCreate {
  user_id: string; redirect_uri?: string; institutions?: string[]; language?: string;
}
/**
 * The answer of POST /v1/connect_tokens (201): a single-use token that opens
 * the Connect page for the user, and that page's path (`url`, relative to the
 * server). Shown once; the server keeps only a hash of it.
 */
export interface ConnectToken { connect_token: string; url: string; user_id: string; expires_at: Timestamp }
/** Form fields of POST /v1/users/{id}/statements sent as multipart/form-data. */
export interface StatementUpload { file: Uint8Array | string }

/** Every model's fields, by its schema name in docs/openapi.yaml. */
export const MODEL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  ErrorObject: fields<ErrorObject>()(['code', 'name', 'group', 'description', 'data', 'message', 'request_id']),
  Error: ['error'],
  ErrorCatalogEntry: fields<ErrorCatalogEntry>()(['code', 'name', 'aliases', 'group', 'http_status', 'description', 'retryable', 'reproduce']),
  ErrorCatalogList: fields<Page<ErrorCatalogEntry>>()(['data', 'next_cursor']),
  Health: fields<Health>()(['status', 'version']),
  TokenRequest: fields<TokenRequest>()(['grant_type', 'client_id', 'client_secret']),
  TokenResponse: fields<TokenResponse>()(['access_token', 'token_type', 'expires_in']),
  Institution: fields<Institution>()(['id', 'name', 'country', 'bic', 'protocol', 'status', 'requires_psu_ip', 'sca_approaches']),
  InstitutionList: fields<Page<Institution>>()(['data', 'next_cursor']),
  UserCreate: fields<UserCreate>()(['external_ref']),
  User: fields<User>()(['id', 'external_ref', 'created_at']),
  UserList: fields<Page<User>>()(['data', 'next_cursor']),
  Credentials: fields<Credentials>()(['username', 'password']),
  ConnectionCreate: fields<ConnectionCreate>()(['user_id', 'institution_id', 'credentials', 'store_credentials']),
  Connection: fields<Connection>()(['id', 'user_id', 'institution_id', 'status', 'store_credentials', 'consent_expires_at', 'last_synced_at', 'created_at', 'error']),
  ConnectionList: fields<Page<Connection>>()(['data', 'next_cursor']),
  ConnectionCreated: fields<ConnectionCreated>()(['connection', 'session']),
  SessionCreate: fields<SessionCreate>()(['credentials']),
  Challenge: fields<Challenge>()(['key', 'kind', 'prompt', 'options', 'url']),
  Session: fields<Session>()(['id', 'connection_id', 'status', 'challenges', 'expires_at', 'error']),
  SessionAnswers: fields<SessionAnswers>()(['answers']),
  SyncRequest: fields<SyncRequest>()(['wait_seconds', 'from']),
  TaskWarning: fields<TaskWarning>()(['name', 'account_id', 'transaction_id', 'detail']),
  TaskResult: fields<TaskResult>()(['accounts', 'transactions_added', 'transactions_updated']),
  Task: fields<Task>()(['id', 'kind', 'connection_id', 'status', 'dispatched', 'error', 'warnings', 'result', 'created_at', 'started_at', 'finished_at']),
  AccountHolder: fields<AccountHolder>()(['name', 'address', 'email']),
  Balance: fields<Balance>()(['type', 'amount', 'currency', 'reference_date']),
  Account: fields<Account>()(['id', 'connection_id', 'name', 'type', 'iban', 'masked_number', 'currency', 'status', 'error', 'holder', 'balances']),
  AccountList: fields<Page<Account>>()(['data', 'next_cursor']),
  Counterparty: fields<Counterparty>()(['name', 'iban']),
  Transaction: fields<Transaction>()(['id', 'account_id', 'status', 'booking_date', 'value_date', 'amount', 'currency', 'counterparty', 'description', 'bank_transaction_code', 'bank_reference', 'details_bank_transaction_code']),
  TransactionList: fields<Page<Transaction>>()(['data', 'next_cursor']),
  RemovedTransaction: fields<RemovedTransaction>()(['id', 'account_id']),
  TransactionsSyncPage: fields<TransactionsSyncPage>()(['added', 'modified', 'removed', 'next_cursor', 'has_more']),
  WebhookPut: fields<WebhookPut>()(['url', 'secret']),
  Webhook: fields<Webhook>()(['url', 'created_at']),
  WebhookEvent: fields<WebhookEvent>()(['id', 'type', 'created_at', 'data']),
  ConnectTokenCreate: fields<ConnectTokenCreate>()(['user_id', 'redirect_uri', 'institutions', 'language']),
  ConnectToken: fields<ConnectToken>()(['connect_token', 'url', 'user_id', 'expires_at']),
  StatementUpload: fields<StatementUpload>()(['file']),
};
