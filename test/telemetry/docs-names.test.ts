import fs from 'node:fs';
import path from 'node:path';
import { computeTotals, type VmResult } from '../../shared/report';
import {
  createMemoryTelemetry,
  reportToTelemetry,
  TELEMETRY_NAMES,
  withRunContext,
} from '../../shared/telemetry';

const DOCS = path.resolve(__dirname, '../../docs');
const docs = fs
  .readdirSync(DOCS)
  .filter((file) => /\.(md|json|kql)$/.test(file))
  .map((file) => ({ file, text: fs.readFileSync(path.join(DOCS, file), 'utf8') }))
  // The README's "what happened last night" query is held to the same names.
  .concat({ file: 'README.md', text: fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8') });
const allText = docs.map((d) => d.text).join('\n');

const matches = (pattern: RegExp): string[] => [...new Set([...allText.matchAll(pattern)].map((m) => m[1]))];

/** What the code really emits, from a report that fills every field, through the run context. */
function emittedNames() {
  const memory = createMemoryTelemetry();
  const log = [{ time: 't', status: 'Warning', message: 'm' }];
  const results: VmResult[] = [
    {
      vmId: 'a',
      appliance: 'weu',
      outcome: 'Warning',
      sessionId: 's',
      sessionStatus: 'Warning',
      attempts: 1,
      durationMs: 1,
      error: 'e',
      log,
      note: 'n',
      deletedSnapshots: 1,
      keptSnapshots: 1,
      lockedSnapshots: 1,
    },
    {
      vmId: 'b',
      appliance: 'weu',
      outcome: 'Skipped',
      attempts: 0,
      durationMs: 0,
      error: 'deadline',
      skipReason: 'deadline',
    },
    {
      vmId: 'c',
      appliance: 'weu',
      outcome: 'Excluded',
      attempts: 0,
      durationMs: 0,
      excludedBy: 'controller VM',
    },
  ];
  reportToTelemetry(
    {
      runId: 'r',
      trigger: 'timer',
      apiVersion: 'v8.1',
      dryRun: false,
      startedAt: 't0',
      finishedAt: 't1',
      durationMs: 1,
      duplicatesRemoved: 0,
      totals: computeTotals(results),
      results,
      appliances: [
        {
          name: 'weu',
          origin: 'https://veeam-weu.example.com',
          apiVersion: 'v8.1',
          totals: computeTotals(results),
          failure: { kind: 'auth', message: 'm' },
        },
      ],
      failure: { kind: 'auth', message: 'm' },
    },
    withRunContext(memory, { runId: 'r', trigger: 'timer', operationId: 'not-a-trace-id' }),
  );
  const items = [...memory.events, ...memory.metrics];
  return {
    names: new Set(items.map((i) => i.name)),
    properties: new Set(items.flatMap((i) => Object.keys(i.properties))),
    measurements: new Set(memory.events.flatMap((e) => Object.keys(e.measurements))),
  };
}

describe('docs/ queries use the names the code emits', () => {
  const emitted = emittedNames();
  const declaredEvents: string[] = Object.values(TELEMETRY_NAMES.events);
  const declaredMetrics: string[] = Object.values(TELEMETRY_NAMES.metrics);

  it('finds the query documents', () => {
    expect(docs.map((d) => d.file)).toEqual(
      expect.arrayContaining(['queries.md', 'alerts.md', 'workbook.json']),
    );
  });

  it('every SnapshotCleanup.* name in docs/ is declared and emitted', () => {
    // A word of its own: AzureWebJobs.nightlySnapshotCleanup.Disabled (an app setting) is not a telemetry name.
    const used = matches(/\b(SnapshotCleanup\.[A-Za-z]+)/g);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) {
      expect([...declaredEvents, ...declaredMetrics]).toContain(name);
      expect(emitted.names).toContain(name);
    }
  });

  it('every customDimensions / customMeasurements key in docs/ is declared and emitted', () => {
    const dimensions = matches(/customDimensions(?:\.|\[["'])([A-Za-z_]+)/g);
    const measurements = matches(/customMeasurements(?:\.|\[["'])([A-Za-z_]+)/g);
    expect(dimensions.length).toBeGreaterThan(0);
    expect(measurements.length).toBeGreaterThan(0);
    for (const key of dimensions) {
      expect(TELEMETRY_NAMES.properties).toContain(key);
      expect(emitted.properties).toContain(key);
    }
    for (const key of measurements) {
      expect(TELEMETRY_NAMES.measurements).toContain(key);
      expect(emitted.measurements).toContain(key);
    }
  });

  it('every outcome word compared in docs/ is a real outcome', () => {
    const lists = [...allText.matchAll(/outcome\s*(?:!?in\s*\(|[!=]=\s*)([^)\n|]*)/g)].map((m) => m[1]);
    const words = lists.flatMap((list) => [...list.matchAll(/\\?"([A-Za-z]+)\\?"/g)].map((m) => m[1]));
    expect(words.length).toBeGreaterThan(0);
    for (const word of words) expect(TELEMETRY_NAMES.outcomes).toContain(word);
  });

  it('every declared event and metric is queried somewhere', () => {
    for (const name of [...declaredEvents, ...declaredMetrics]) expect(allText).toContain(`"${name}`);
  });

  it('ships a valid Azure Monitor workbook whose items are App Insights KQL queries', () => {
    const workbook = JSON.parse(fs.readFileSync(path.join(DOCS, 'workbook.json'), 'utf8'));
    expect(workbook.version).toBe('Notebook/1.0');
    const queries = workbook.items.filter((item: { type: number }) => item.type === 3);
    expect(queries.length).toBeGreaterThanOrEqual(4);
    for (const item of queries) {
      expect(item.content).toMatchObject({
        version: 'KqlItem/1.0',
        queryType: 0,
        resourceType: 'microsoft.insights/components',
      });
      expect(item.content.query).toMatch(/\b(customEvents|customMetrics|requests)\b/);
    }
    const names = queries.map((item: { content: { query: string } }) => item.content.query).join('\n');
    for (const name of [...declaredEvents, ...declaredMetrics]) expect(names).toContain(name);
  });

  it('ships both alert rules with a query, threshold and frequency', () => {
    const template = JSON.parse(fs.readFileSync(path.join(DOCS, 'alert-rules.json'), 'utf8'));
    const rules = template.resources.filter(
      (r: { type: string }) => r.type === 'Microsoft.Insights/scheduledQueryRules',
    );
    expect(rules.map((r: { name: string }) => r.name).sort()).toEqual([
      'snapshot-cleanup-no-run-26h',
      'snapshot-cleanup-vm-failed',
    ]);
    for (const rule of rules) {
      expect(rule.properties.evaluationFrequency).toBe('PT1H');
      expect(rule.properties.criteria.allOf[0]).toMatchObject({ operator: 'GreaterThan', threshold: 0 });
      expect(rule.properties.criteria.allOf[0].query).toContain('SnapshotCleanup.');
    }
  });
});
