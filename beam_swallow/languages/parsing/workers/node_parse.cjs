// The Node parse worker of beam-swallow (beam_swallow.languages.parsing.workers).
// Usage: node node_parse.cjs NODE_MODULES
// Reads one JSON request a line on stdin, {"language": "JavaScript"|"TypeScript"|"TSX",
// "sources": [text, ...]}, and writes one JSON line for each on stdout:
// {"checker": "esbuild 0.28.2", "verdicts": [[ok, line, column, message], ...]}.
// JavaScript is parsed by esbuild (JSX allowed: linguist's JavaScript holds .jsx files),
// TypeScript and TSX by the TypeScript compiler's own parser (its parse diagnostics only:
// no types are checked, so a file needs none of its project). Lines and columns count from 1.
'use strict';
const path = require('path');
const readline = require('readline');

const modules = process.argv[2];
const ts = require(path.join(modules, 'typescript'));
const esbuild = require(path.join(modules, 'esbuild'));

function esbuildVerdict(text) {
  try {
    esbuild.transformSync(text, { loader: 'jsx', logLevel: 'silent' });
    return [true, null, null, ''];
  } catch (error) {
    if (!error.errors || error.errors.length === 0) throw error;
    const first = error.errors[0];
    const at = first.location;
    return [false, at ? at.line : null, at ? at.column + 1 : null, first.text];
  }
}

function typescriptVerdict(text, kind, name) {
  const file = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, false, kind);
  const found = file.parseDiagnostics;
  if (found.length === 0) return [true, null, null, ''];
  const first = found.reduce((a, b) => (b.start < a.start ? b : a));
  const at = file.getLineAndCharacterOfPosition(first.start);
  return [false, at.line + 1, at.character + 1, ts.flattenDiagnosticMessageText(first.messageText, '\n')];
}

const PARSERS = {
  JavaScript: [`esbuild ${esbuild.version}`, esbuildVerdict],
  TypeScript: [`typescript ${ts.version}`, (t) => typescriptVerdict(t, ts.ScriptKind.TS, 'file.ts')],
  TSX: [`typescript ${ts.version}`, (t) => typescriptVerdict(t, ts.ScriptKind.TSX, 'file.tsx')],
};

readline.createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  const request = JSON.parse(line);
  const [checker, parse] = PARSERS[request.language];
  const verdicts = request.sources.map(parse);
  process.stdout.write(JSON.stringify({ checker, verdicts }) + '\n');
});
