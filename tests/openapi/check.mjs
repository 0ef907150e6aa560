#!/usr/bin/env node
/*
 * check.mjs: validates recorded HTTP exchanges of the bankfeed server against
 * docs/openapi.yaml (OpenAPI 3.1).
 *
 *   node check.mjs SPEC.yaml EXCHANGES.jsonl   check every exchange
 *   node check.mjs --selftest [SPEC.yaml]      check the checker itself
 *
 * Each line of EXCHANGES.jsonl is one exchange:
 *   {"method":"GET","path":"/v1/users/usr_x?limit=2","status":200,
 *    "headers":{"content-type":"application/json",...},"body":"<raw text>"}
 *
 * For each exchange it finds the operation (path template and method), the
 * response for the status (exact, else 4XX/5XX, else default), and checks the
 * body against the response's schema, the headers the response documents as
 * required, and the rules every answer obeys (X-Request-Id; an Error body on
 * every status >= 400 whose request_id is the X-Request-Id).  Paths or methods
 * the spec lacks are allowed only for 404 and 405 answers.
 *
 * Prints one FAIL line per failed exchange, the operations no exchange
 * exercised, and last the summary "openapi: N passed, M failed".
 * Exit status: 0 all passed, 1 some failed, 2 usage or load error.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

const HERE = path.dirname(fileURLToPath(import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ROOT_ID = 'https://bankfeed.invalid/openapi-components.json';
const STATUS_KEY = /^([1-5][0-9]{2}|[1-5]XX|default)$/i;

export class LoadError extends Error {}

/* ---------------------------------------------------------------- spec -- */

/* Parses YAML text; throws LoadError on a syntax error or duplicate key. */
export function parseSpec(text, name = 'spec') {
	const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
	if (doc.errors.length > 0)
		throw new LoadError(`${name}: ${doc.errors.map((e) => e.message).join('; ')}`);
	const spec = doc.toJS({ maxAliasCount: 1000 });
	if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
		throw new LoadError(`${name}: not a YAML mapping`);
	return spec;
}

function escapePointer(s) {
	return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

/* The value at a local reference "#/a/b", or undefined. */
function resolvePointer(spec, ref) {
	if (typeof ref !== 'string' || !ref.startsWith('#'))
		return undefined;
	const frag = ref.slice(1);
	if (frag === '')
		return spec;
	if (!frag.startsWith('/'))
		return undefined;
	let node = spec;
	for (const raw of frag.slice(1).split('/')) {
		const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
		if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key))
			return undefined;
		node = node[key];
	}
	return node;
}

/* Follows $ref chains of OpenAPI objects (responses, parameters, headers...). */
function deref(spec, obj) {
	const seen = new Set();
	while (obj && typeof obj === 'object' && typeof obj.$ref === 'string') {
		if (seen.has(obj.$ref))
			throw new LoadError(`$ref cycle at ${obj.$ref}`);
		seen.add(obj.$ref);
		const next = resolvePointer(spec, obj.$ref);
		if (next === undefined)
			throw new LoadError(`unresolved $ref ${obj.$ref}`);
		obj = next;
	}
	return obj;
}

/* Calls fn(node, pointer) for every object and array in the tree. */
function walk(node, ptr, fn) {
	if (node === null || typeof node !== 'object')
		return;
	fn(node, ptr);
	if (Array.isArray(node))
		node.forEach((v, i) => walk(v, `${ptr}/${i}`, fn));
	else
		for (const [k, v] of Object.entries(node))
			walk(v, `${ptr}/${escapePointer(k)}`, fn);
}

/* Every operation of paths (and webhooks): {where, template, method, op, item}. */
function operations(spec, section = 'paths') {
	const out = [];
	const paths = spec[section];
	if (!paths || typeof paths !== 'object')
		return out;
	for (const [template, rawItem] of Object.entries(paths)) {
		let item;
		try {
			item = deref(spec, rawItem);
		} catch {
			continue;	/* reported by the $ref check */
		}
		if (!item || typeof item !== 'object')
			continue;
		for (const method of METHODS)
			if (item[method] !== undefined)
				out.push({ where: `${section}.${template}.${method}`, template, method, op: item[method], item });
	}
	return out;
}

/* Builds the ajv instance holding components.schemas as one root schema. */
function makeAjv(spec, problems) {
	const ajv = new Ajv2020({
		strict: true, strictTypes: false, strictTuples: false, strictRequired: false,
		allowUnionTypes: true, allErrors: true, validateFormats: true,
	});
	addFormats(ajv);
	/* OpenAPI's own formats and schema keywords. */
	ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
	ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
	for (const f of ['float', 'double'])
		ajv.addFormat(f, { type: 'number', validate: () => true });
	for (const f of ['byte', 'binary', 'password'])
		ajv.addFormat(f, () => true);
	ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
	/* Specification extensions (x-...) used inside schemas. */
	const xs = new Set();
	walk(spec, '#', (node) => {
		if (!Array.isArray(node))
			for (const k of Object.keys(node))
				if (k.startsWith('x-'))
					xs.add(k);
	});
	for (const k of xs)
		ajv.addKeyword(k);

	const schemas = spec.components?.schemas ?? {};
	const root = { $id: ROOT_ID, $defs: rewriteRefs(schemas, '#/components/schemas', problems) };
	try {
		ajv.addSchema(root);
		ajv.getSchema(ROOT_ID);
		for (const name of Object.keys(schemas))
			ajv.getSchema(`${ROOT_ID}#/$defs/${escapePointer(name)}`);
	} catch (e) {
		problems.push(`components.schemas: ${e.message}`);
	}
	return ajv;
}

/* A copy of a schema whose $refs into components.schemas point at the ajv root. */
function rewriteRefs(schema, where, problems) {
	if (schema === null || typeof schema !== 'object')
		return schema;
	if (Array.isArray(schema))
		return schema.map((s, i) => rewriteRefs(s, `${where}/${i}`, problems));
	const out = {};
	for (const [k, v] of Object.entries(schema)) {
		if (k === '$ref' && typeof v === 'string') {
			if (v.startsWith('#/components/schemas/'))
				out[k] = `${ROOT_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
			else {
				problems?.push(`${where}: schema $ref ${v} must point into #/components/schemas`);
				out[k] = v;
			}
		} else if (k === 'example' || k === 'examples' || k === 'default' || k === 'const' || k === 'enum') {
			out[k] = v;	/* data, not schemas */
		} else
			out[k] = rewriteRefs(v, `${where}/${escapePointer(k)}`, problems);
	}
	return out;
}

function formatAjvErrors(errors, max = 6) {
	if (!errors)
		return '';
	/* Drop the noise of anyOf/if branches when a more precise error exists. */
	let list = errors.filter((e) => !['anyOf', 'oneOf', 'if', 'allOf'].includes(e.keyword));
	if (list.length === 0)
		list = errors;
	const seen = new Set();
	const msgs = [];
	for (const e of list) {
		let m = `${e.instancePath || '/'} ${e.message}`;
		if (e.keyword === 'enum')
			m += ` (${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
		if (e.keyword === 'additionalProperties')
			m += ` (${e.params.additionalProperty})`;
		if (!seen.has(m)) {
			seen.add(m);
			msgs.push(m);
		}
	}
	const more = msgs.length > max ? ` (+${msgs.length - max} more)` : '';
	return msgs.slice(0, max).join('; ') + more;
}

/*
 * Loads and checks a spec's structure.  Returns a Spec object; throws
 * LoadError listing every structural problem.
 */
export function loadSpec(spec) {
	const problems = [];

	if (typeof spec.openapi !== 'string' || !/^3\.1\.\d+$/.test(spec.openapi))
		problems.push(`openapi: version must be 3.1.x, found ${JSON.stringify(spec.openapi)}`);
	if (!spec.info || typeof spec.info.title !== 'string' || typeof spec.info.version !== 'string')
		problems.push('info: needs a title and a version (strings)');
	if ((!spec.paths || typeof spec.paths !== 'object') && !spec.webhooks && !spec.components)
		problems.push('paths: missing');

	/* Every $ref resolves (local refs only). */
	walk(spec, '#', (node, ptr) => {
		if (Array.isArray(node) || typeof node.$ref !== 'string')
			return;
		if (!node.$ref.startsWith('#'))
			problems.push(`${ptr}: external $ref ${node.$ref} is not supported`);
		else if (resolvePointer(spec, node.$ref) === undefined)
			problems.push(`${ptr}: $ref ${node.$ref} does not resolve`);
	});
	if (problems.length > 0)
		throw new LoadError(problems.join('\n'));

	const ajv = makeAjv(spec, problems);
	const compiled = new WeakMap();
	const compile = (schema, where) => {
		if (compiled.has(schema))
			return compiled.get(schema);
		let fn;
		try {
			fn = ajv.compile(rewriteRefs(schema, where, problems));
		} catch (e) {
			problems.push(`${where}: schema does not compile: ${e.message}`);
			fn = null;
		}
		compiled.set(schema, fn);
		return fn;
	};

	/* Component schemas: their own examples validate. */
	for (const [name, schema] of Object.entries(spec.components?.schemas ?? {})) {
		if (!schema || typeof schema !== 'object' || !Array.isArray(schema.examples))
			continue;
		const fn = compile(schema, `#/components/schemas/${name}`);
		schema.examples.forEach((ex, i) => {
			if (fn && !fn(ex))
				problems.push(`components.schemas.${name}.examples[${i}]: ${formatAjvErrors(fn.errors)}`);
		});
	}

	const checkMedia = (content, where) => {
		if (content === undefined)
			return;
		if (!content || typeof content !== 'object') {
			problems.push(`${where}: content must be a map of media types`);
			return;
		}
		for (const [mt, media] of Object.entries(content)) {
			if (!media || typeof media !== 'object' || media.schema === undefined)
				continue;
			const fn = compile(media.schema, `${where}.${mt}.schema`);
			if (!fn)
				continue;
			const exs = [];
			if (media.example !== undefined)
				exs.push(['example', media.example]);
			for (const [k, ex] of Object.entries(media.examples ?? {})) {
				const e = deref(spec, ex);
				if (e && e.value !== undefined)
					exs.push([`examples.${k}`, e.value]);
			}
			for (const [label, value] of exs)
				if (isJsonMedia(mt) && !fn(value))
					problems.push(`${where}.${mt}.${label}: does not match its schema: ${formatAjvErrors(fn.errors)}`);
		}
	};

	const ops = [...operations(spec, 'paths'), ...operations(spec, 'webhooks')];
	const opIds = new Map();
	for (const { where, template, op, item } of ops) {
		if (!op || typeof op !== 'object') {
			problems.push(`${where}: not an operation object`);
			continue;
		}
		if (op.operationId !== undefined) {
			if (opIds.has(op.operationId))
				problems.push(`${where}: operationId ${op.operationId} also used by ${opIds.get(op.operationId)}`);
			opIds.set(op.operationId, where);
		}
		const responses = op.responses;
		if (!responses || typeof responses !== 'object' || Object.keys(responses).length === 0) {
			problems.push(`${where}: has no responses`);
			continue;
		}
		for (const [status, rawResp] of Object.entries(responses)) {
			if (!STATUS_KEY.test(status))
				problems.push(`${where}.responses: ${status} is not a status code, 1XX-5XX or default`);
			const resp = deref(spec, rawResp);
			if (!resp || typeof resp !== 'object' || typeof resp.description !== 'string')
				problems.push(`${where}.responses.${status}: needs a description`);
			else
				checkMedia(resp.content, `${where}.responses.${status}.content`);
			for (const [h, rawHeader] of Object.entries(resp?.headers ?? {})) {
				const header = deref(spec, rawHeader);
				if (header?.schema !== undefined)
					compile(header.schema, `${where}.responses.${status}.headers.${h}`);
			}
		}
		if (op.requestBody !== undefined) {
			const rb = deref(spec, op.requestBody);
			if (!rb?.content || Object.keys(rb.content).length === 0)
				problems.push(`${where}.requestBody: needs content`);
			else
				checkMedia(rb.content, `${where}.requestBody.content`);
		}
		/* Path templates: each {name} has a required path parameter. */
		if (where.startsWith('paths.')) {
			const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(spec, p));
			for (const m of template.matchAll(/\{([^}]+)\}/g)) {
				const p = params.find((x) => x?.in === 'path' && x?.name === m[1]);
				if (!p)
					problems.push(`${where}: path parameter {${m[1]}} is not declared`);
				else if (p.required !== true)
					problems.push(`${where}: path parameter {${m[1]}} must be required: true`);
			}
		}
	}
	if (spec.paths && typeof spec.paths === 'object' && ops.filter((o) => o.where.startsWith('paths.')).length === 0)
		problems.push('paths: no operations');

	/* The Error schema the rules for status >= 400 need. */
	let errorValidator = null;
	if (!spec.components?.schemas?.Error)
		problems.push('components.schemas.Error: missing (every status >= 400 is checked against it)');
	else
		errorValidator = compile({ $ref: '#/components/schemas/Error' }, 'components.schemas.Error');

	if (problems.length > 0)
		throw new LoadError(problems.join('\n'));
	return new Spec(spec, compile, errorValidator);
}

function isJsonMedia(mt) {
	const m = mt.toLowerCase();
	return m === 'application/json' || m.endsWith('+json');
}

function mediaEssence(ct) {
	return String(ct ?? '').split(';')[0].trim().toLowerCase();
}

/* ---------------------------------------------------------------- check -- */

class Spec {
	constructor(doc, compile, errorValidator) {
		this.doc = doc;
		this.compile = compile;
		this.errorValidator = errorValidator;
		this.templates = Object.entries(doc.paths ?? {}).map(([template, item]) => ({
			template,
			item: deref(doc, item),
			parts: template.split('/').map(segmentMatcher),
		}));
		this.operations = operations(doc, 'paths').map((o) => `${o.method.toUpperCase()} ${o.template}`);
		this.exercised = new Set();
	}

	/* The best template for a concrete path: literal segments beat templates, leftmost first. */
	matchPath(concrete) {
		const segs = concrete.split('/');
		let best = null;
		for (const t of this.templates) {
			if (t.parts.length !== segs.length)
				continue;
			const params = {};
			let ok = true;
			const rank = [];
			for (let i = 0; i < segs.length && ok; i++) {
				const p = t.parts[i];
				if (p.literal !== undefined) {
					ok = p.literal === segs[i];
					rank.push(0);
				} else {
					const m = p.re.exec(segs[i]);
					ok = m !== null;
					if (ok)
						p.names.forEach((n, j) => { params[n] = m[j + 1]; });
					rank.push(1);
				}
			}
			if (ok && (best === null || compareRank(rank, best.rank) < 0))
				best = { ...t, rank, params };
		}
		return best;
	}

	/* Checks one exchange; returns the list of problems (empty: passed). */
	check(ex) {
		const problems = [];
		const method = String(ex.method).toLowerCase();
		const status = ex.status;
		const headers = ex.headers;
		const body = ex.body;
		const concrete = String(ex.path).split('?')[0].split('#')[0];

		const rid = headers['x-request-id'];
		if (rid === undefined || rid === '')
			problems.push(`header X-Request-Id missing${rid === '' ? ' (empty)' : ''}`);

		if (status >= 400)
			this.checkErrorBody(headers, body, problems);

		const match = this.matchPath(concrete);
		const op = match?.item?.[method];
		if (!match || !op) {
			const what = !match ? `path ${concrete} is not in the spec` : `${method.toUpperCase()} is not an operation of ${match.template}`;
			if (status === 404) {
				this.checkResponse(this.componentResponse('NotFound'), 'components.responses.NotFound', ex, problems, true);
			} else if (status === 405) {
				this.checkResponse(this.componentResponse('MethodNotAllowed'), 'components.responses.MethodNotAllowed', ex, problems, true);
				this.checkAllow(match, method, headers, problems);
			} else
				problems.push(`${what} (only 404 or 405 may answer it)`);
			return problems;
		}

		const opName = `${method.toUpperCase()} ${match.template}`;
		this.exercised.add(opName);
		const responses = op.responses ?? {};
		const key = [String(status), `${String(status)[0]}XX`, `${String(status)[0]}xx`, 'default']
			.find((k) => Object.hasOwn(responses, k));
		if (key === undefined) {
			problems.push(`status ${status} is not documented for ${opName} (documented: ${Object.keys(responses).join(', ')})`);
			return problems;
		}
		this.checkResponse(deref(this.doc, responses[key]), `${opName} ${key}`, ex, problems, status >= 400);
		if (status === 405)
			this.checkAllow(match, method, headers, problems);
		return problems;
	}

	componentResponse(name) {
		const r = this.doc.components?.responses?.[name];
		return r === undefined ? null : deref(this.doc, r);
	}

	/* Every status >= 400: an Error body whose request_id is the X-Request-Id. */
	checkErrorBody(headers, body, problems) {
		let json;
		try {
			json = JSON.parse(body);
		} catch (e) {
			problems.push(`error body is not JSON (${body === '' ? 'empty' : e.message})`);
			return;
		}
		if (!this.errorValidator(json)) {
			problems.push(`error body does not match the Error schema: ${formatAjvErrors(this.errorValidator.errors)}`);
			return;
		}
		const rid = headers['x-request-id'];
		if (rid !== undefined && json.error.request_id !== rid)
			problems.push(`error.request_id ${JSON.stringify(json.error.request_id)} is not the X-Request-Id ${JSON.stringify(rid)}`);
		const ct = mediaEssence(headers['content-type']);
		if (!isJsonMedia(ct))
			problems.push(`error body has Content-Type ${JSON.stringify(headers['content-type'] ?? null)}, not JSON`);
	}

	/* 405: Allow is there and lists every method the spec documents for the path. */
	checkAllow(match, method, headers, problems) {
		const allow = headers.allow;
		if (allow === undefined) {
			if (!reported(problems, 'header Allow missing'))
				problems.push('header Allow missing (405 needs it)');
			return;
		}
		const listed = allow.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
		if (listed.includes(method))
			problems.push(`405 but Allow (${allow}) lists ${method.toUpperCase()}`);
		if (match)
			for (const m of METHODS)
				if (match.item?.[m] && !listed.includes(m))
					problems.push(`Allow (${allow}) lacks ${m.toUpperCase()}, which the spec documents for ${match.template}`);
	}

	/* Headers and body against one response object. */
	checkResponse(resp, where, ex, problems, isError) {
		if (!resp)
			return;
		const { headers, body } = ex;
		for (const [name, raw] of Object.entries(resp.headers ?? {})) {
			const h = deref(this.doc, raw);
			const lname = name.toLowerCase();
			if (lname === 'content-type')
				continue;	/* ignored by OpenAPI */
			const value = headers[lname];
			if (value === undefined) {
				if (h?.required === true && !reported(problems, `header ${name} missing`))
					problems.push(`header ${name} missing (required by ${where})`);
				continue;
			}
			if (h?.schema !== undefined) {
				const fn = this.compile(h.schema, `${where} header ${name}`);
				if (fn && !headerValueCandidates(value).some((v) => fn(v)))
					problems.push(`header ${name}: ${JSON.stringify(value)} does not match its schema: ${formatAjvErrors(fn.errors)}`);
			}
		}

		if (String(ex.method).toUpperCase() === 'HEAD')
			return;
		const content = resp.content;
		if (!content || Object.keys(content).length === 0) {
			if (body.length > 0)
				problems.push(`${where} documents no body, got ${body.length} bytes`);
			return;
		}
		if (body.length === 0) {
			problems.push(`empty body; ${where} documents ${Object.keys(content).join(', ')}`);
			return;
		}
		const ct = mediaEssence(headers['content-type']);
		if (ct === '') {
			problems.push('no Content-Type on a response with a body');
			return;
		}
		const mt = Object.keys(content).find((k) => k.toLowerCase() === ct)
			?? Object.keys(content).find((k) => k.endsWith('/*') && ct.startsWith(k.slice(0, -1).toLowerCase()))
			?? Object.keys(content).find((k) => k === '*/*');
		if (mt === undefined) {
			problems.push(`Content-Type ${ct} is not documented by ${where} (documented: ${Object.keys(content).join(', ')})`);
			return;
		}
		const media = content[mt];
		if (!isJsonMedia(mt) && !isJsonMedia(ct))
			return;
		let json;
		try {
			json = JSON.parse(body);
		} catch (e) {
			if (!isError)	/* already said by checkErrorBody */
				problems.push(`body is not JSON: ${e.message}`);
			return;
		}
		if (media?.schema === undefined)
			return;
		if (isError && media.schema.$ref === '#/components/schemas/Error')
			return;	/* already checked by checkErrorBody */
		const fn = this.compile(media.schema, `${where} ${mt}`);
		if (fn && !fn(json))
			problems.push(`body does not match ${describeSchema(media.schema)}: ${formatAjvErrors(fn.errors)}`);
	}
}

/* Whether a problem starting with prefix (case-insensitive) is already listed. */
function reported(problems, prefix) {
	const p = prefix.toLowerCase();
	return problems.some((x) => x.toLowerCase().startsWith(p));
}

function describeSchema(schema) {
	if (typeof schema?.$ref === 'string')
		return schema.$ref.replace('#/components/schemas/', '');
	return 'the schema';
}

/* A header's value as string, and as number or boolean when it looks like one. */
function headerValueCandidates(v) {
	const out = [v];
	if (/^-?[0-9]+(\.[0-9]+)?$/.test(v.trim()))
		out.push(Number(v.trim()));
	if (v === 'true' || v === 'false')
		out.push(v === 'true');
	return out;
}

function segmentMatcher(seg) {
	if (!seg.includes('{'))
		return { literal: seg };
	const names = [];
	const pieces = seg.split(/\{([^}]+)\}/);
	let re = '^';
	pieces.forEach((p, i) => {
		if (i % 2 === 1) {
			names.push(p);
			re += '([^/]+)';
		} else
			re += p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	});
	return { re: new RegExp(`${re}$`), names };
}

function compareRank(a, b) {
	for (let i = 0; i < Math.min(a.length, b.length); i++)
		if (a[i] !== b[i])
			return a[i] - b[i];
	return a.length - b.length;
}

/* Normalizes one parsed JSONL record; returns [exchange, problem]. */
function normalizeExchange(rec) {
	if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
		return [null, 'not a JSON object'];
	if (typeof rec.method !== 'string' || rec.method === '')
		return [null, 'no "method"'];
	if (typeof rec.path !== 'string' || !rec.path.startsWith('/'))
		return [null, 'no "path" starting with /'];
	if (!Number.isInteger(rec.status) || rec.status < 100 || rec.status > 599)
		return [null, 'no integer "status"'];
	const headers = {};
	if (rec.headers !== undefined && (rec.headers === null || typeof rec.headers !== 'object'))
		return [null, '"headers" is not an object'];
	for (const [k, v] of Object.entries(rec.headers ?? {}))
		headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
	if (rec.body !== undefined && rec.body !== null && typeof rec.body !== 'string')
		return [null, '"body" is not a string'];
	return [{ method: rec.method.toUpperCase(), path: rec.path, status: rec.status, headers, body: rec.body ?? '' }, null];
}

/* Reads a JSONL file: [{line, exchange | null, problem | null, raw}]. */
async function readExchanges(file) {
	const out = [];
	const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
	let n = 0;
	for await (const line of rl) {
		n++;
		if (line.trim() === '')
			continue;
		let rec;
		try {
			rec = JSON.parse(line);
		} catch (e) {
			out.push({ line: n, exchange: null, problem: `not JSON: ${e.message}`, raw: null });
			continue;
		}
		const [exchange, problem] = normalizeExchange(rec);
		out.push({ line: n, exchange, problem, raw: rec });
	}
	return out;
}

function describe(item) {
	const ex = item.exchange;
	if (!ex)
		return `line ${item.line}`;
	return `${ex.method} ${ex.path} ${ex.status}`;
}

/* Runs every exchange; returns {passed, failed, lines, results}. */
function runAll(spec, items) {
	let passed = 0, failed = 0;
	const lines = [];
	const results = [];
	for (const item of items) {
		const problems = item.exchange ? spec.check(item.exchange) : [item.problem];
		results.push({ item, problems });
		if (problems.length === 0)
			passed++;
		else {
			failed++;
			lines.push(item.exchange
			    ? `FAIL ${describe(item)} (line ${item.line}): ${problems.join(' | ')}`
			    : `FAIL line ${item.line}: ${problems.join(' | ')}`);
		}
	}
	return { passed, failed, lines, results };
}

async function loadSpecFile(file) {
	let text;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (e) {
		throw new LoadError(`cannot read ${file}: ${e.message}`);
	}
	return loadSpec(parseSpec(text, file));
}

/* ------------------------------------------------------------- selftest -- */

const MINI = `
openapi: 3.1.0
info: {title: mini, version: '1'}
paths:
  /v1/transactions/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      responses:
        '200':
          description: one
          content:
            application/json:
              schema: {type: object, required: [kind], properties: {kind: {const: one}}}
  /v1/transactions/sync:
    get:
      responses:
        '200':
          description: feed
          content:
            application/json:
              schema: {type: object, required: [kind], properties: {kind: {const: feed}}}
components:
  schemas:
    Error:
      type: object
      required: [error]
`;

async function selftest(specFile) {
	let ok = 0, bad = 0;
	const expect = (cond, what) => {
		if (cond)
			ok++;
		else {
			bad++;
			console.log(`SELFTEST FAIL: ${what}`);
		}
	};
	const loadFails = (text, needle, what) => {
		try {
			loadSpec(parseSpec(text));
			expect(false, `${what}: the spec was accepted`);
		} catch (e) {
			expect(e instanceof LoadError && e.message.includes(needle), `${what}: expected a load error with "${needle}", got: ${e.message}`);
		}
	};

	/* Structural checks of the spec. */
	loadFails(MINI.replace('openapi: 3.1.0', 'openapi: 3.0.3'), 'version must be 3.1.x', 'wrong openapi version');
	loadFails(MINI.replace('schema: {type: object, required: [kind], properties: {kind: {const: one}}}',
	    "schema: {$ref: '#/components/schemas/Nope'}"), 'does not resolve', 'dangling $ref');
	loadFails(MINI.replace(/ {6}responses:\n {8}'200':\n {10}description: feed\n[^]*?const: feed}}}\n/, '      responses: {}\n'),
	    'has no responses', 'operation without responses');
	loadFails(MINI.replace("      - {name: id, in: path, required: true, schema: {type: string}}\n", "      - {name: x, in: query, schema: {type: string}}\n"),
	    'path parameter {id} is not declared', 'undeclared path parameter');
	loadFails(MINI.replace("schema: {type: object, required: [kind], properties: {kind: {const: one}}}",
	    "schema: {type: object, required: [kind], properties: {kind: {const: one}}}\n              example: {kind: two}"),
	    'does not match its schema', 'example that breaks its schema');
	loadFails(MINI.replace('type: object\n      required: [error]', 'type: object\n      requird: [error]'),
	    'unknown keyword', 'misspelled schema keyword');
	loadFails('openapi: 3.1.0\nopenapi: 3.1.0\n', 'Map keys must be unique', 'duplicate YAML key');

	/* Literal segments beat templates. */
	const mini = loadSpec(parseSpec(MINI));
	const h = { 'x-request-id': 'r1', 'content-type': 'application/json' };
	expect(mini.check({ method: 'GET', path: '/v1/transactions/sync?cursor=x', status: 200, headers: h, body: '{"kind":"feed"}' }).length === 0,
	    '/v1/transactions/sync must match the literal template');
	expect(mini.check({ method: 'GET', path: '/v1/transactions/txn_a', status: 200, headers: h, body: '{"kind":"one"}' }).length === 0,
	    '/v1/transactions/txn_a must match the {id} template');
	expect(mini.check({ method: 'GET', path: '/v1/transactions/sync', status: 200, headers: h, body: '{"kind":"one"}' }).length > 0,
	    'the {id} schema must not be used for /v1/transactions/sync');

	/* The real spec against hand-written exchanges. */
	const spec = await loadSpecFile(specFile);
	const file = path.join(HERE, 'selftest.jsonl');
	const items = await readExchanges(file);
	const { results } = runAll(spec, items);
	for (const { item, problems } of results) {
		const want = item.raw?.expect;
		const note = item.raw?.note ?? describe(item);
		if (want === 'pass')
			expect(problems.length === 0, `line ${item.line} (${note}) should pass: ${problems.join(' | ')}`);
		else if (want === 'fail') {
			const needle = item.raw?.expect_problem;
			expect(problems.length > 0 && (!needle || problems.some((p) => p.includes(needle))),
			    `line ${item.line} (${note}) should fail${needle ? ` with "${needle}"` : ''}: got ${problems.length === 0 ? 'a pass' : problems.join(' | ')}`);
		} else
			expect(false, `line ${item.line}: no "expect" (pass or fail)`);
	}
	expect(results.filter((r) => r.item.raw?.expect === 'fail').length >= 10, 'selftest.jsonl has at least 10 bad exchanges');

	console.log(`selftest: ${ok} passed, ${bad} failed`);
	return bad === 0 ? 0 : 1;
}

/* ----------------------------------------------------------------- main -- */

const USAGE = `usage: node check.mjs SPEC.yaml EXCHANGES.jsonl
       node check.mjs --selftest [SPEC.yaml]`;

async function main(argv) {
	if (argv[0] === '--help' || argv[0] === '-h') {
		console.log(USAGE);
		return 0;
	}
	if (argv[0] === '--selftest') {
		if (argv.length > 2) {
			console.error(USAGE);
			return 2;
		}
		return selftest(argv[1] ?? path.join(HERE, '..', '..', 'docs', 'openapi.yaml'));
	}
	if (argv.length !== 2) {
		console.error(USAGE);
		return 2;
	}
	const [specFile, exFile] = argv;
	const spec = await loadSpecFile(specFile);
	if (!fs.existsSync(exFile))
		throw new LoadError(`cannot read ${exFile}: no such file`);
	const items = await readExchanges(exFile);
	if (items.length === 0)
		throw new LoadError(`${exFile}: no exchanges (did the API tests record any?)`);

	const { passed, failed, lines } = runAll(spec, items);
	for (const l of lines)
		console.log(l);
	const missing = spec.operations.filter((o) => !spec.exercised.has(o));
	console.log(`openapi: ${spec.operations.length - missing.length} of ${spec.operations.length} operations exercised` +
	    (missing.length > 0 ? '; not exercised:' : ''));
	for (const m of missing)
		console.log(`  ${m}`);
	console.log(`openapi: ${passed} passed, ${failed} failed`);
	return failed === 0 ? 0 : 1;
}

/* Run only when executed, so that other scripts can import loadSpec and parseSpec. */
const invoked = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
if (invoked)
	main(process.argv.slice(2)).then((code) => {
		process.exitCode = code;
	}, (e) => {
		if (e instanceof LoadError)
			console.error(`openapi: ${e.message.split('\n').join('\nopenapi: ')}`);
		else
			console.error(`openapi: ${e.stack ?? e}`);
		process.exitCode = 2;
	});
