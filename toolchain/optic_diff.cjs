'use strict';
// Compare two OpenAPI documents with Optic's own differ and breaking-change rules, offline, and
// print one JSON object: {changelog, results, checks}.
//
//   node optic_diff.cjs NPM_DIR BASE_SPEC HEAD_SPEC
//
// `changelog` is what `optic diff --json` prints (every change, grouped by operation);
// `results` are the outcomes of Optic's `breaking-changes` ruleset, each with the JSON pointer
// of the change it judged, which `optic diff --json` leaves out. Specs are validated loosely:
// Optic's strict schema rejects link `requestBody` objects that OpenAPI 3.1 allows; the lint
// session validates the spec strictly.
const path = require('path');

const [npmDir, basePath, headPath] = process.argv.slice(2);
if (!npmDir || !basePath || !headPath) {
  console.error('usage: node optic_diff.cjs NPM_DIR BASE_SPEC HEAD_SPEC');
  process.exit(2);
}
const opticRoot = path.dirname(
  require.resolve('@useoptic/optic/package.json', { paths: [path.resolve(npmDir)] })
);
const build = (rel) => require(path.join(opticRoot, 'build', rel));
const { loadSpec } = build('utils/spec-loaders');
const { compute } = build('commands/diff/compute');
const { jsonChangelog } = build('commands/diff/changelog-renderers/json-changelog');

(async () => {
  // No optic.dev.yml and no cloud client: Optic falls back to its `breaking-changes` standard.
  const config = { client: undefined, ruleset: undefined };
  const load = (file) => loadSpec(path.resolve(file), config, { strict: false, denormalize: true });
  const [base, head] = [await load(basePath), await load(headPath)];
  const diff = await compute([base, head], config, { check: true, path: path.resolve(headPath) });
  const results = diff.specResults.results.map((r) => ({
    name: r.name,
    passed: r.passed,
    exempted: Boolean(r.exempted),
    severity: r.severity,
    error: r.error || null,
    where: r.where,
    jsonPath: r.location.jsonPath,
    spec: r.location.spec,
  }));
  const changelog = jsonChangelog({ from: base.jsonLike, to: head.jsonLike }, diff.changelogData);
  process.stdout.write(JSON.stringify({ changelog, results, checks: diff.checks }));
})().catch((error) => {
  console.error(`optic diff failed: ${error && error.message ? error.message : error}`);
  process.exit(2);
});
