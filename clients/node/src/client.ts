// The client: one method per route of docs/openapi.yaml (named after its
// operationId), and async iterators over the pages of the lists and over the
// incremental feed GET /v1/transactions/sync.
import { Transport, type BankfeedOptions, type CallOptions } from './transport.js';
import type {
  Account, Connection, ConnectionCreate, ConnectionCreated, ConnectToken, ConnectTokenCreate,
  ErrorCatalogEntry, Health, Institution, Page, Session, SessionCreate, SyncRequest, Task,
  TokenResponse, Transaction, TransactionsSyncPage, User, UserCreate, Webhook, WebhookPut,
} from './models.js';

export interface PageParams { limit?: number; cursor?: string | null }
export interface ListUsersParams extends PageParams { external_ref?: string }
export interface ListConnectionsParams extends PageParams { user_id?: string }
export interface ListAccountsParams extends PageParams { user_id?: string; connection_id?: string }
export interface ListTransactionsParams extends PageParams {
  from?: string; to?: string; status?: 'booked' | 'pending';
}
export interface SyncTransactionsParams { connection_id: string; cursor?: string | null; limit?: number }
export interface ImportStatementOptions extends CallOptions {
  /** Sent as X-Filename. */
  filename?: string;
  /** The file's Content-Type (default application/octet-stream). */
  contentType?: string;
  format?: 'camt053' | 'camt054' | 'mt940' | 'mt942' | 'ofx' | 'coda' | 'bai2' | 'zip';
  wait_seconds?: number;
  /** true rejects what a lenient import stores with a warning (an impossible MT940 date, a missing :62F:). */
  strict?: boolean;
}
export interface SyncOptions extends CallOptions {
  /** The end user's IP address, when they are present (PSD2: the sync is then attended). */
  psuIpAddress?: string;
}

export class Bankfeed {
  readonly transport: Transport;

  constructor(options: BankfeedOptions) {
    this.transport = new Transport(options);
  }

  /** Uses this token until expiresIn seconds from now. */
  setAccessToken(token: string, expiresIn: number): void {
    this.transport.setAccessToken(token, expiresIn);
  }

  // ---- meta and authentication ------------------------------------------
  getHealth(opts?: CallOptions): Promise<Health> {
    return this.transport.call('getHealth', { opts });
  }
  /** Prometheus text; needs the metricsToken option. */
  getMetrics(opts?: CallOptions): Promise<string> {
    return this.transport.call('getMetrics', { opts });
  }
  /** A new access token (the client does this itself; for your own use). */
  createToken(opts?: CallOptions): Promise<TokenResponse> {
    return this.transport.fetchToken(opts?.signal);
  }
  listErrors(opts?: CallOptions): Promise<Page<ErrorCatalogEntry>> {
    return this.transport.call('listErrors', { opts });
  }

  // ---- institutions ------------------------------------------------------
  listInstitutions(params: { country?: string; q?: string } = {}, opts?: CallOptions): Promise<Page<Institution>> {
    return this.transport.call('listInstitutions', { query: { ...params }, opts });
  }
  getInstitution(id: string, opts?: CallOptions): Promise<Institution> {
    return this.transport.call('getInstitution', { path: { id }, opts });
  }

  // ---- users -------------------------------------------------------------
  createUser(body: UserCreate = {}, opts?: CallOptions): Promise<User> {
    return this.transport.call('createUser', { json: body, opts });
  }
  listUsers(params: ListUsersParams = {}, opts?: CallOptions): Promise<Page<User>> {
    return this.transport.call('listUsers', { query: { ...params }, opts });
  }
  iterateUsers(params: ListUsersParams = {}, opts?: CallOptions): AsyncGenerator<User> {
    return this.items((p) => this.listUsers(p, opts), params);
  }
  getUser(id: string, opts?: CallOptions): Promise<User> {
    return this.transport.call('getUser', { path: { id }, opts });
  }
  deleteUser(id: string, opts?: CallOptions): Promise<void> {
    return this.transport.call('deleteUser', { path: { id }, opts });
  }

  // ---- statements --------------------------------------------------------
  /** Uploads a statement file (camt.053/.052/.054, MT940/MT942, OFX, CODA, BAI2, or a ZIP archive of them) as the raw body; answers its import task. */
  importStatement(userId: string, file: Uint8Array | string, opts: ImportStatementOptions = {}): Promise<Task> {
    return this.transport.call('importStatement', {
      path: { id: userId },
      query: { format: opts.format, wait_seconds: opts.wait_seconds,
        strict: opts.strict === undefined ? undefined : String(opts.strict) },
      body: file,
      contentType: opts.contentType ?? 'application/octet-stream',
      headers: { 'X-Filename': opts.filename },
      opts,
    });
  }

  // ---- connections and sessions -----------------------------------------
  createConnection(body: ConnectionCreate, opts?: CallOptions): Promise<ConnectionCreated> {
    return this.transport.call('createConnection', { json: body, opts });
  }
  listConnections(params: ListConnectionsParams = {}, opts?: CallOptions): Promise<Page<Connection>> {
    return this.transport.call('listConnections', { query: { ...params }, opts });
  }
  iterateConnections(params: ListConnectionsParams = {}, opts?: CallOptions): AsyncGenerator<Connection> {
    return this.items((p) => this.listConnections(p, opts), params);
  }
  getConnection(id: string, opts?: CallOptions): Promise<Connection> {
    return this.transport.call('getConnection', { path: { id }, opts });
  }
  deleteConnection(id: string, opts?: CallOptions): Promise<void> {
    return this.transport.call('deleteConnection', { path: { id }, opts });
  }
  createSession(connectionId: string, body: SessionCreate = {}, opts?: CallOptions): Promise<Session> {
    return this.transport.call('createSession', { path: { id: connectionId }, json: body, opts });
  }
  getSession(id: string, opts?: CallOptions): Promise<Session> {
    return this.transport.call('getSession', { path: { id }, opts });
  }
  answerSession(id: string, answers: Record<string, string>, opts?: CallOptions): Promise<Session> {
    return this.transport.call('answerSession', { path: { id }, json: { answers }, opts });
  }
  /** The browser's return from a bank's redirect SCA: the HTML page bankfeed shows. */
  xs2aCallback(params: { state: string; nok?: string }, opts?: CallOptions): Promise<string> {
    return this.transport.call('xs2aCallback', { query: { ...params }, opts });
  }
  /** POST /v1/connect_tokens: a token for the Connect page of one user. */
  createConnectToken(body: ConnectTokenCreate, opts?: CallOptions): Promise<ConnectToken> {
    return this.transport.call('createConnectToken', { json: body, opts });
  }

  // ---- sync and tasks ----------------------------------------------------
  syncConnection(id: string, body: SyncRequest = {}, opts: SyncOptions = {}): Promise<Task> {
    return this.transport.call('syncConnection', {
      path: { id }, json: body, headers: { 'PSU-IP-Address': opts.psuIpAddress }, opts,
    });
  }
  getTask(id: string, opts?: CallOptions): Promise<Task> {
    return this.transport.call('getTask', { path: { id }, opts });
  }
  /**
   * Follows a task (a dispatched sync or import, 202) with GET /v1/tasks/{id}
   * every intervalMs (default 1000) until it is no longer queued or running;
   * answers it then.  Throws a TimeoutError after timeoutMs (default 35 min:
   * the server expires a task after 30).
   */
  async waitForTask(id: string, o: { intervalMs?: number; timeoutMs?: number } & CallOptions = {}): Promise<Task> {
    const end = Date.now() + (o.timeoutMs ?? 35 * 60 * 1000);
    for (;;) {
      const task = await this.getTask(id, o);
      if (task.status !== 'queued' && task.status !== 'running') return task;
      if (Date.now() >= end) throw new DOMException(`task ${id} still ${task.status}`, 'TimeoutError');
      await new Promise((ok) => setTimeout(ok, Math.min(o.intervalMs ?? 1000, Math.max(0, end - Date.now()))));
    }
  }

  // ---- accounts and transactions ----------------------------------------
  listAccounts(params: ListAccountsParams = {}, opts?: CallOptions): Promise<Page<Account>> {
    return this.transport.call('listAccounts', { query: { ...params }, opts });
  }
  iterateAccounts(params: ListAccountsParams = {}, opts?: CallOptions): AsyncGenerator<Account> {
    return this.items((p) => this.listAccounts(p, opts), params);
  }
  getAccount(id: string, opts?: CallOptions): Promise<Account> {
    return this.transport.call('getAccount', { path: { id }, opts });
  }
  listTransactions(accountId: string, params: ListTransactionsParams = {}, opts?: CallOptions): Promise<Page<Transaction>> {
    return this.transport.call('listTransactions', { path: { id: accountId }, query: { ...params }, opts });
  }
  iterateTransactions(accountId: string, params: ListTransactionsParams = {}, opts?: CallOptions): AsyncGenerator<Transaction> {
    return this.items((p) => this.listTransactions(accountId, p, opts), params);
  }
  syncTransactions(params: SyncTransactionsParams, opts?: CallOptions): Promise<TransactionsSyncPage> {
    return this.transport.call('syncTransactions', { query: { ...params }, opts });
  }
  /**
   * The pages of GET /v1/transactions/sync from params.cursor (none: from the
   * start) while has_more is true; the last page yielded has has_more false,
   * and its next_cursor is the one to store for next time.
   */
  async *iterateTransactionsSync(params: SyncTransactionsParams, opts?: CallOptions): AsyncGenerator<TransactionsSyncPage> {
    let cursor = params.cursor ?? null;
    for (;;) {
      const page = await this.syncTransactions({ ...params, cursor }, opts);
      yield page;
      if (!page.has_more) return;
      cursor = page.next_cursor;
    }
  }

  // ---- webhooks ----------------------------------------------------------
  putWebhook(body: WebhookPut, opts?: CallOptions): Promise<Webhook> {
    return this.transport.call('putWebhook', { json: body, opts });
  }
  getWebhook(opts?: CallOptions): Promise<Webhook> {
    return this.transport.call('getWebhook', { opts });
  }
  deleteWebhook(opts?: CallOptions): Promise<void> {
    return this.transport.call('deleteWebhook', { opts });
  }

  /** Every item of a cursor-paged list, page after page. */
  private async *items<T, P extends PageParams>(list: (p: P) => Promise<Page<T>>, params: P): AsyncGenerator<T> {
    let cursor = params.cursor ?? null;
    do {
      const page = await list({ ...params, cursor });
      yield* page.data;
      cursor = page.next_cursor;
    } while (cursor != null);
  }
}
