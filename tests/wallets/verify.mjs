// Runs the Digital Credentials Consortium's verifier-core (the engine of VerifierPlus and the Learner
// Credential Wallet) on credentials, offline. Used by tests/wallets/verifier_core.py.
//
// stdin:  {"credentials": [<credential>, ...],
//          "documents": {"<url>": {"status": 200, "contentType": "...", "body": "<text>"}, ...}}
// stdout: {"results": [<verifier-core's answer per credential, without the credential>, ...],
//          "requests": [{"url": ..., "accept": ...}, ...]}
//
// verifier-core builds its own document loader (its bundled contexts, did:key, did:web over HTTPS) and every
// HTTP request it makes goes through globalThis.fetch. Here fetch answers from "documents" (what the Python
// side fetched from our app and our bundled contexts and schemas) and with 404 for anything else, so nothing
// reaches the network and a URL we did not hand over shows up in "requests" and as an error in the result.
import { readFileSync } from 'node:fs';

const input = JSON.parse(readFileSync(0, 'utf8'));
const documents = input.documents || {};
const requests = [];

globalThis.fetch = async (resource, init = {}) => {
  const request = resource instanceof Request ? resource : new Request(String(resource), init);
  const url = request.url.split('#')[0];
  requests.push({ url, accept: request.headers.get('accept') });
  const served = Object.hasOwn(documents, url) ? documents[url] : null;
  if (!served) {
    return new Response('{"detail": "not served offline"}', {
      status: 404, statusText: 'Not Found', headers: { 'content-type': 'application/json' }
    });
  }
  return new Response(served.body, { status: served.status, headers: { 'content-type': served.contentType } });
};

const { verifyCredential } = await import('@digitalcredentials/verifier-core');

function plain(value) {
  // Errors carry stack traces and causes; keep what a person reads.
  return JSON.parse(JSON.stringify(value, (key, v) => {
    if (key === 'stackTrace' || key === 'stack') return undefined;
    if (v instanceof Error) return { name: v.name, message: v.message };
    return v;
  }));
}

const results = [];
for (const credential of input.credentials) {
  const result = await verifyCredential({ credential, knownDIDRegistries: [] });
  delete result.credential;
  results.push(plain(result));
}
process.stdout.write(JSON.stringify({ results, requests }));
