// Parses each file given with Mermaid's parser; exits 1 if any does not parse.
import { JSDOM } from 'jsdom';
import fs from 'fs';
const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window; globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
let bad = 0;
for (const f of process.argv.slice(2)) {
  const text = fs.readFileSync(f, 'utf8');
  try { await mermaid.parse(text); console.log('ok', f); } catch (e) { bad++; console.log('ERR', f, e.message); }
}
process.exit(bad ? 1 : 0);
