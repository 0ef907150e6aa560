/*
 * sandbox-bank: its section of docs/sandbox.md, written after the
 * built-in bank's (sandbox_markdown() calls it), from the same tables the
 * server runs on: the PSUs' approaches and xs2a_codes.def.
 */
#include "banks/xs2a_bank.h"

#include "banks/sandbox.h"
#include "banks/sandbox_int.h"
#include "banks/xs2a_bank_int.h"
#include "banks/xs2a_codes.h"
#include "core/errors.h"
#include "core/errors_doc.h"

static void
approaches(FILE *f)
{
	size_t	i;

	fputs("The approach is decided when the consent is created, and "
	    "named in the answer's `ASPSP-SCA-Approach`:\n\n"
	    "1. `TPP-Redirect-Preferred: true`: REDIRECT.\n"
	    "2. Else `TPP-Decoupled-Preferred: true`: DECOUPLED.\n"
	    "3. Else the PSU's own (by `PSU-ID`):", f);
	for (i = 0; i < xb_nuser_approaches; i++)
		fprintf(f, "%s `%s` %s", i > 0 ? "," : "",
		    xb_user_approaches[i].user,
		    xb_approach_name(xb_user_approaches[i].approach));
	fputs(", every other user EMBEDDED. A preference header `false` "
	    "for the PSU's own approach makes it EMBEDDED.\n\n"
	    "REDIRECT needs `TPP-Redirect-URI` (else 400 FORMAT_ERROR). "
	    "Every sandbox username works with every approach; the "
	    "catalog's users reproduce their entry exactly with EMBEDDED "
	    "(their default).\n\n", f);
}

static void
embedded(FILE *f)
{
	fprintf(f, "**EMBEDDED.** The consent's `_links` has "
	    "`startAuthorisationWithPsuAuthentication`: `POST "
	    "/v1/consents/{id}/authorisations` with "
	    "`{\"psuData\":{\"password\":\"%s\"}}` (the PSU-ID from the consent "
	    "or this request's header; or `{}` first, then the password by "
	    "`PUT .../authorisations/{authorisationId}`). Then, by what the "
	    "bank asks (`PUT .../authorisations/{authorisationId}` answers "
	    "it):\n\n"
	    "| the bank asks | the answer shows | the TPP sends |\n"
	    "|---|---|---|\n"
	    "| nothing more | `scaStatus` `finalised`; the consent is `valid` | "
	    "- |\n"
	    "| a TAN method (`user_mfa_choice`) | `psuAuthenticated`, "
	    "`scaMethods`: `sms` SMS_OTP, `push` PUSH_OTP, `chiptan` CHIP_OTP; "
	    "link `selectAuthenticationMethod` | `{\"authenticationMethodId\":"
	    "\"push\"}` (another id: 400 SCA_METHOD_UNKNOWN, nothing changes) |\n"
	    "| a TAN | `scaMethodSelected`, `chosenScaMethod`, `challengeData` "
	    "(`otpMaxLength` 6, `otpFormat` integer, `additionalInformation` "
	    "the bank's prompt); link `authoriseTransaction` | "
	    "`{\"scaAuthenticationData\":\"%s\"}` |\n"
	    "| a question (`user_mfa_question`), or three "
	    "(`user_mfa_questions`: one at a time) | `scaMethodSelected`, "
	    "`chosenScaMethod` with `authenticationType` SECURITY_QUESTION and "
	    "`authenticationMethodId` the question's key (`sq_car_colour`...), "
	    "`challengeData.additionalInformation` the question | "
	    "`{\"scaAuthenticationData\":\"%s\"}` |\n\n"
	    "A wrong answer fails the authorisation (`scaStatus` `failed`, the "
	    "consent `rejected`) with its entry's answer (below); data sent to "
	    "a finished authorisation: 409 STATUS_INVALID.\n\n",
	    SANDBOX_PASSWORD, SANDBOX_TAN, SANDBOX_ANSWER);
}

static void
decoupled_redirect(FILE *f)
{
	fprintf(f, "**DECOUPLED.** The consent's `_links` has "
	    "`startAuthorisation` (`startAuthorisationWithPsuIdentification` "
	    "when it has no PSU-ID): `POST .../authorisations` with `{}` and "
	    "the PSU-ID answers 201, `scaStatus` `started` and a `psuMessage`. "
	    "The PSU confirms in the bank's app: the `scaStatus` link shows "
	    "`started` to its first %d requests, then (or %d seconds after "
	    "the start) `finalised`, or `failed` with the bank's words in "
	    "`psuMessage` for a user who fails at the challenge. A user who "
	    "fails at login fails the `POST` with its entry's answer.\n\n",
	    XB_DECOUPLED_POLLS - 1, XB_DECOUPLED_SECONDS);
	fputs("**REDIRECT.** The consent's `_links` has `scaRedirect` (the "
	    "bank's own page, `http://HOST:PORT/sandbox/authorise?id=...`) and "
	    "`scaStatus`; with `TPP-Explicit-Authorisation-Preferred: true` "
	    "it has `startAuthorisation` instead, and `POST .../authorisations` "
	    "with `{}` gives them. The page is a form a browser submits "
	    "(`POST /sandbox/authorise`, x-www-form-urlencoded): user ID and "
	    "PIN, then every challenge at once under the built-in bank's keys "
	    "(`tan_method`, `tan`, `sq_...`). At the end it answers 302 to "
	    "`TPP-Redirect-URI` as the TPP gave it (its own state stays in it); "
	    "after a failure or Cancel to `TPP-Nok-Redirect-URI`, else "
	    "`TPP-Redirect-URI`. The TPP reads the outcome from `scaStatus` "
	    "and the consent's status (`psuMessage`: the bank's words).\n\n",
	    f);
}

static void
data(FILE *f)
{
	fputs("### Accounts, balances, transactions\n\n"
	    "Reads name the consent in `Consent-ID`. An unknown one: 403 "
	    "CONSENT_UNKNOWN; one not (or no longer) valid: 401 "
	    "CONSENT_INVALID; past `validUntil`: 401 CONSENT_EXPIRED. A read "
	    "without `PSU-IP-Address` is one without the PSU: each of the "
	    "account list, an account's details, its balances and its "
	    "transactions (their first page) is served `frequencyPerDay` "
	    "times a day (UTC, bank clock), then 429 ACCESS_EXCEEDED with "
	    "`Retry-After` (the seconds to midnight).\n\n"
	    "- `GET /v1/accounts[?withBalance=true]`, `GET "
	    "/v1/accounts/{id}[?withBalance=true]`: `resourceId` is the "
	    "built-in bank's account id (`sbx-...`); `iban` and `bic`, or for "
	    "the card (and an account without IBAN) `maskedPan`; `currency`, "
	    "`name`, `cashAccountType` (CACC, CARD, SVGS...), `status`, "
	    "`usage`, `ownerName`, the card's `creditLimit` (as in "
	    "cardAccountDetails), `_links` to what the consent grants. An "
	    "account the bank lists but does not let read (the `account` "
	    "stage) is listed by `resourceId` and `currency` alone.\n"
	    "- `GET /v1/accounts/{id}/balances`: `closingBooked` (booked) and "
	    "`interimAvailable` (available; `creditLimitIncluded` on the "
	    "card), as of today.\n"
	    "- `GET /v1/accounts/{id}/transactions?bookingStatus=booked|"
	    "pending|both|all&dateFrom=&dateTo=`: `dateFrom` absent, the whole "
	    "history; `dateTo` absent, today; `dateFrom` after `dateTo`: 400 "
	    "PERIOD_INVALID; `information`, `entryReferenceFrom`, `deltaList`: "
	    "400 PARAMETER_NOT_SUPPORTED. `withBalance=true` adds the period's "
	    "`openingBooked`, `closingBooked` and `interimAvailable`. Pages: "
	    "`itemsPerPage` (1-5000, default 100) and `pageIndex` (from 0); "
	    "`_links` `first`, `previous` and `next` (none on the last page) "
	    "name the period's `dateTo`, so every page reads the same days.\n"
	    "- A transaction: `transactionId` the built-in bank's id "
	    "(`TX-...`, `PD-...` while pending, `LG-...`), `entryReference`, "
	    "`endToEndId`, `bookingDate`, `valueDate`, `transactionAmount` "
	    "(the amount a decimal string), `creditorName`/`creditorAccount` "
	    "of a debit or `debtorName`/`debtorAccount` of a credit, "
	    "`remittanceInformationUnstructured` (longer than 140 characters: "
	    "`remittanceInformationUnstructuredArray`), `bankTransactionCode` "
	    "(ISO 20022 domain-family-subfamily) and, on a booked one that was "
	    "pending, `pendingTransactionId` (its `PD-` id: no member of the "
	    "spec says it).\n"
	    "- An account list starts a sync of the consent: "
	    "`user_account_disappears` lists the card the first time only; "
	    "reads after a list see its accounts. `user_slow`'s list answers "
	    "after `--sandbox-slow-ms`; `--latency-ms` holds every answer "
	    "(for benchmarks).\n"
	    "- Not served: the holder's address and email (XS2A has no member "
	    "for them), `mfa_after_authorization` (no XS2A signal), "
	    "`/v1/card-accounts`, camt.05x and MT940 bodies (JSON only), "
	    "payments.\n\n"
	    "### Through sandbox_xs2a\n\n"
	    "bankfeed started with `--sandbox-xs2a-url http://HOST:PORT` "
	    "links the built-in institution `sandbox_xs2a` through "
	    "sandbox-bank (`tests/test_sandbox_xs2a.c` compares the two field "
	    "by field). `user_good` gives the same accounts (matched by type; "
	    "name, IBAN, masked number, currency, holder name), the same "
	    "transactions with the same fields (a pending card payment books "
	    "under the bankfeed id it had, by `pendingTransactionId`), and the "
	    "same balance amounts and dates, with these differences, all from "
	    "XS2A itself:\n\n"
	    "- `available` arrives as `interim_available`: the spec has no "
	    "closing available balance type, so sandbox-bank sends "
	    "`interimAvailable`.\n"
	    "- No `opening_booked`: XS2A gives `openingBooked` only with the "
	    "transactions (`withBalance=true`), which the connector does not "
	    "ask for.\n"
	    "- The card's `credit_limit` comes from the account's "
	    "`creditLimit`.\n"
	    "- The holder's address and email are not served, so every sync "
	    "warns `NoAddress` and `KycIncomplete`.\n"
	    "- Errors: XS2A answers several catalog entries alike (the "
	    "`forward` rows below sharing a status and code), and the "
	    "connector reads such an answer as one entry of them, with the "
	    "bank's words as `message`; an account-stage error of the card "
	    "fails the whole sync instead of marking the card. The test "
	    "lists what each entry gives through sandbox_xs2a "
	    "(`THROUGH_XS2A`).\n"
	    "- A redirect SCA at sandbox-bank comes back to the server "
	    "itself: sandbox_xs2a's TPP-Redirect-URI is the server's own "
	    "`http://HOST:PORT/v1/callback/xs2a` (a wildcard listen address "
	    "as 127.0.0.1).\n\n", f);
}

static void
codes(FILE *f)
{
	size_t	i;

	fputs("### Errors\n\n"
	    "Every error answers `{\"tppMessages\":[{\"category\":\"ERROR\","
	    "\"code\":...,\"text\":...}]}`, `text` in the bank's own words "
	    "(the messages above), with a `path` where the row has one; a 503 "
	    "also sends `Retry-After`. A user of "
	    "the catalog fails, with EMBEDDED, where its stage says: `login` "
	    "answers the PSU authentication, `challenge` the `PUT` of the "
	    "TAN (or answer), `sync` every read of the consent, `account` the "
	    "card's reads (details, balances, transactions).\n\n"
	    "`src/banks/xs2a_codes.def` is the one table of XS2A answers both "
	    "ways: its forward rows are how this bank fails with an entry "
	    "(below), its back rows what bankfeed's XS2A connector makes of "
	    "a bank's answer ([errors.md](errors.md#xs2a-banks-tppmessages-"
	    "to-the-catalog)). The last column is the connector's reading of "
	    "each answer (with this bank's words) where the entry's stage "
	    "fails: by code and status, by the `path`, or by the bank's words "
	    "where a code serves several entries.\n\n"
	    "| entry | code | stage | HTTP | XS2A code | path | default text | "
	    "bankfeed reads it as |\n"
	    "|---|---|---|---|---|---|---|---|\n", f);
	for (i = 0; i < xs2a_ncodes; i++) {
		const struct xs2a_code	*c = &xs2a_codes[i];
		const struct err_info	*ei = err_info(c->err);
		enum xs2a_stage		 st = xs2a_stage_of(ei->stage);
		enum err		 back;
		int			 pa;

		back = c->code[0] == '\0' ? ERR_BANK_RESPONSE_INVALID :
		    xs2a_code_read(c->http, c->code, c->path, sb_message(c->err),
		    st, &pa);
		fprintf(f, "| %s | %d | %s | %d | %s | %s | ", ei->name,
		    ei->code, err_stage_name(ei->stage), c->http,
		    c->code[0] ? c->code : "an HTML page", c->path);
		md_cell(f, c->text);
		fprintf(f, " | %s (%s) |\n", back == c->err ? "the same" :
		    err_name(back), xs2a_stage_name(st));
	}
}

int
xs2a_bank_markdown(FILE *f)
{
	fputs("\n## sandbox-bank: the Sandbox Bank over XS2A\n\n"
	    "`bankfeed sandbox-bank --listen HOST:PORT [--latency-ms MS]` "
	    "serves this bank, the same usernames, data and errors, as a "
	    "Berlin Group NextGenPSD2 bank (XS2A 1.3.x, account information), "
	    "on a port of its own, so that an XS2A connector links to it "
	    "through a real socket. It takes the server's options "
	    "(`--clock-offset`, `--sandbox-slow-ms`, `--consent-days`, "
	    "`--log-level`...), prints `bankfeed sandbox-bank: listening on "
	    "http://HOST:PORT` once it serves, and keeps consents in memory "
	    "(at most 4096; the one used longest ago makes room). "
	    "`tests/test_sandbox_bank.c` drives it directly and through "
	    "Prism on the official OpenAPI file.\n\n"
	    "### Consents\n\n"
	    "Every `/v1` request carries `X-Request-ID`, a UUID, which the "
	    "answer echoes (else 400 FORMAT_ERROR). `PSU-ID` is the sandbox "
	    "username; `PSU-IP-Address` says the PSU is present.\n\n"
	    "- `POST /v1/consents`: `access` is `allPsd2`, `availableAccounts` "
	    "or `availableAccountsWithBalance` (`allAccounts`, "
	    "`allAccountsWithOwnerName`), or lists `accounts`, `balances`, "
	    "`transactions` of references `{\"iban\"}` or `{\"maskedPan\"}` "
	    "(8 each at most); all empty is a bank-offered consent, for which "
	    "the PSU grants every account. `validUntil` in the past: 400 "
	    "TIMESTAMP_INVALID; later than `--consent-days` from today (or "
	    "9999-12-31): that day. `frequencyPerDay` 1 to 1000 (1 when "
	    "`recurringIndicator` is false); `combinedServiceIndicator` true: "
	    "400 SESSIONS_NOT_SUPPORTED. 201 with `consentStatus` `received`.\n"
	    "- `GET /v1/consents/{id}`, `GET /v1/consents/{id}/status` "
	    "(`received`, `valid`, `rejected`, `expired`, `terminatedByTpp`), "
	    "`DELETE /v1/consents/{id}` (204), `GET "
	    "/v1/consents/{id}/authorisations`, `GET "
	    "/v1/consents/{id}/authorisations/{authorisationId}` "
	    "(`scaStatus`).\n\n"
	    "### SCA\n\n", f);
	approaches(f);
	embedded(f);
	decoupled_redirect(f);
	data(f);
	codes(f);
	return ferror(f) ? -1 : 0;
}
