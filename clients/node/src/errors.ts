// The error classes of the library.  Every answer of bankfeed with a status
// of 400 or more becomes a BankfeedError: the class of its catalog entry
// (errors.generated.ts, one per entry) when the code is known, else the
// class of its group, else BankfeedError itself.  Network failures are
// BankfeedConnectionError, which is not a catalog error.

/** The `error` object of an answer (docs/openapi.yaml, ErrorObject). */
export interface ErrorObject {
  code: number;
  name: string;
  group: string;
  description: string;
  data: Record<string, unknown>;
  message: string | null;
  request_id?: string;
}

/** Options every BankfeedError is made with. */
export interface BankfeedErrorInit {
  error: ErrorObject;
  status: number;
  requestId?: string | null;
  retryAfter?: number | null;
}

export class BankfeedError extends Error {
  /** The catalog's values for this class (overridden by each entry's class). */
  static readonly CODE: number = 0;
  static readonly NAME: string = '';
  static readonly HTTP_STATUS: number = 0;
  static readonly RETRYABLE: boolean = false;
  static readonly ALIASES: readonly string[] = [];

  /** Numeric catalog code, e.g. 1002. */
  readonly code: number;
  /** Catalog name, e.g. ENTITY_NOT_FOUND. */
  readonly errorName: string;
  /** client, user, bank, general, connectivity or categorization. */
  readonly group: string;
  /** The catalog's description. */
  readonly description: string;
  /** The bank's own message when a bank caused the error, else null. */
  readonly bankMessage: string | null;
  /** Field -> messages for validation errors; other details otherwise. */
  readonly data: Record<string, unknown>;
  /** The request's X-Request-Id: quote it when reporting a problem. */
  readonly requestId: string | null;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** Seconds from the Retry-After header, when the answer had one. */
  readonly retryAfter: number | null;
  /** The whole error object as the server sent it. */
  readonly raw: ErrorObject;

  constructor(init: BankfeedErrorInit) {
    const e = init.error;
    super(`${e.name} (${e.code}): ${e.description}${e.message ? ` Bank: ${e.message}` : ''}`);
    this.name = new.target.name;
    this.code = e.code;
    this.errorName = e.name;
    this.group = e.group;
    this.description = e.description;
    this.bankMessage = e.message ?? null;
    this.data = e.data ?? {};
    this.requestId = e.request_id ?? init.requestId ?? null;
    this.status = init.status;
    this.retryAfter = init.retryAfter ?? null;
    this.raw = e;
  }
}

export type BankfeedErrorClass = (new (init: BankfeedErrorInit) => BankfeedError) & {
  readonly CODE: number;
  readonly NAME: string;
  readonly HTTP_STATUS: number;
  readonly RETRYABLE: boolean;
  readonly ALIASES: readonly string[];
};

/** 1000-1999: the request was wrong. */
export class ClientError extends BankfeedError {}
/** 10000-19999: the end user must act. */
export class UserError extends BankfeedError {}
/** 20000-29999: the bank failed. */
export class BankError extends BankfeedError {}
/** 30000-39999: bankfeed failed. */
export class GeneralError extends BankfeedError {}
/** 40000-49999: the institution cannot be reached the way it is set up. */
export class ConnectivityError extends BankfeedError {}
/** 50000-59999. */
export class CategorizationError extends BankfeedError {}

export const GROUP_CLASSES: Readonly<Record<string, BankfeedErrorClass>> = {
  client: ClientError,
  user: UserError,
  bank: BankError,
  general: GeneralError,
  connectivity: ConnectivityError,
  categorization: CategorizationError,
};

/** The server could not be reached, or its answer was not HTTP or not JSON. */
export class BankfeedConnectionError extends Error {
  override readonly cause: unknown;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.name = 'BankfeedConnectionError';
    this.cause = cause;
  }
}
