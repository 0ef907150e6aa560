#!/usr/bin/env node
// Reads docs/openapi.yaml and prints a JSON summary of what a client library
// must cover: every route (method, path, operationId, query and header
// parameters, request and 2xx response schemas) and the fields of every
// object schema.  The node and python spec tests both read this summary, so
// that python needs no YAML parser.  Operations marked x-browser-page (HTML
// pages for browsers) are left out.
//
//   node scripts/spec-summary.mjs [path/to/openapi.yaml] > summary.json
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));

export function specSummary(file = resolve(here, '../../../docs/openapi.yaml')) {
  const spec = parse(readFileSync(file, 'utf8'));
  const refName = (r) => r.split('/').pop();
  const param = (p) => (p.$ref ? spec.components.parameters[refName(p.$ref)] : p);
  const schemaName = (s) => (s && s.$ref ? refName(s.$ref) : null);
  const routes = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
      // Pages for browsers (the Connect page, the dashboard) are no API a
      // library calls: the spec marks them x-browser-page.
      if (op['x-browser-page']) continue;
      const params = [...(item.parameters || []), ...(op.parameters || [])].map(param);
      const request = { schema: null, fields: [], content_types: [] };
      if (op.requestBody) {
        for (const [ct, c] of Object.entries(op.requestBody.content)) {
          request.content_types.push(ct);
          const n = schemaName(c.schema);
          if (n) request.schema = n;
          else if (c.schema && c.schema.properties) request.fields.push(...Object.keys(c.schema.properties));
        }
      }
      const responses = [];
      for (const [code, r0] of Object.entries(op.responses)) {
        if (!/^2/.test(code)) continue;
        const r = r0.$ref ? spec.components.responses[refName(r0.$ref)] : r0;
        const content = Object.values(r.content || {})[0];
        responses.push({ status: Number(code), schema: content ? schemaName(content.schema) : null });
      }
      routes.push({
        method: method.toUpperCase(),
        path,
        operation_id: op.operationId,
        auth: op.security && op.security.length === 0 ? 'none' : 'bearer',
        query: params.filter((p) => p.in === 'query').map((p) => p.name),
        headers: params.filter((p) => p.in === 'header').map((p) => p.name),
        request,
        responses,
      });
    }
  }
  const schemas = {};
  for (const [name, s] of Object.entries(spec.components.schemas)) {
    if (s.properties) schemas[name] = { fields: Object.keys(s.properties), required: s.required || [] };
  }
  return { routes, schemas, webhooks: Object.keys(spec.webhooks || {}) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(specSummary(process.argv[2]), null, 1) + '\n');
}
