/**
 * Literal property names of the main resources, checked against the models of the pinned @azure/arm-* SDKs:
 * every leaf of the Bicep body gets a unique marker, the body goes through the SDK's wire-format deserializer,
 * and a marker that does not come out belongs to a property name the model does not know (a typo such as
 * allowSharedKeyAcess, or instanceMemoryMb for instanceMemoryMB).
 *
 * Caveat: the deserializers are internal (dist/commonjs/models/*.js, not exported), so the versions are pinned
 * exactly in package.json and the canary test below proves the check still bites. Only names are checked, not
 * values or expressions; `bicep build` and what-if remain the real check.
 */
import path from 'node:path';
import { bodyOf, parseInfra, resources, type Resource, type Value } from './bicep';

type Deserialize = (wire: Record<string, unknown>) => unknown;

function internal(pkg: string, file: string): Record<string, unknown> {
  return require(path.join(path.dirname(require.resolve(pkg)), file)) as Record<string, unknown>;
}

function deserializers(): Record<string, Deserialize> {
  const web = internal('@azure/arm-appservice', 'models/models.js');
  const storage = internal('@azure/arm-storage', 'models/models.js');
  const keyVault = internal('@azure/arm-keyvault', 'models/models.js');
  const insightsDir = path.dirname(require.resolve('@azure/arm-appinsights'));
  const mappers = require(path.join(insightsDir, 'models/mappers.js')) as Record<string, unknown>;
  const coreClient = require(require.resolve('@azure/core-client', { paths: [insightsDir] })) as {
    createSerializer(mappers: Record<string, unknown>): {
      deserialize(mapper: unknown, body: unknown, name: string): unknown;
    };
  };
  const serializer = coreClient.createSerializer(mappers);
  return {
    'Microsoft.Web/sites': web.siteDeserializer as Deserialize,
    'Microsoft.Web/serverfarms': web.appServicePlanDeserializer as Deserialize,
    'Microsoft.Storage/storageAccounts': storage.storageAccountDeserializer as Deserialize,
    'Microsoft.KeyVault/vaults': keyVault.vaultDeserializer as Deserialize,
    'Microsoft.Insights/components': (wire) =>
      serializer.deserialize(mappers.ApplicationInsightsComponent, wire, 'component'),
  };
}

/** Keys not checked: Bicep-only ones, and tags (a free-form map, often a variable, with no names to check). */
const UNCHECKED = new Set(['parent', 'scope', 'dependsOn', 'tags']);

/** Replaces every leaf with a marker string; returns the wire body and marker -> property path. */
function mark(value: Value, at: string, markers: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item, i) => mark(item, `${at}[${i}]`, markers));
  if (value !== null && typeof value === 'object' && !('expr' in value)) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (at === '' && UNCHECKED.has(key)) continue;
      out[key] = mark(inner, at ? `${at}.${key}` : key, markers);
    }
    return out;
  }
  const marker = `marker-${markers.size}`;
  markers.set(marker, at);
  return marker;
}

function collectStrings(value: unknown, into: Set<string>): Set<string> {
  if (typeof value === 'string') into.add(value);
  else if (value && typeof value === 'object')
    for (const inner of Object.values(value)) collectStrings(inner, into);
  return into;
}

/** Property paths of `body` that the model's deserializer dropped. */
function unknownProperties(body: Record<string, Value>, deserialize: Deserialize): string[] {
  const markers = new Map<string, string>();
  const wire = mark(body, '', markers) as Record<string, unknown>;
  const seen = collectStrings(deserialize(wire), new Set());
  return [...markers].filter(([marker]) => !seen.has(marker)).map(([, at]) => at);
}

let all: Resource[];
let models: Record<string, Deserialize>;

beforeAll(async () => {
  all = resources(await parseInfra());
  models = deserializers();
});

const bodyOfType = (type: string) => bodyOf(all.find((r) => r.type === type)!);

describe('property names of the main resources match the @azure/arm-* models', () => {
  it.each([
    'Microsoft.Web/sites',
    'Microsoft.Web/serverfarms',
    'Microsoft.Storage/storageAccounts',
    'Microsoft.KeyVault/vaults',
    'Microsoft.Insights/components',
  ])('%s has no property the model does not know', (type) => {
    expect(unknownProperties(bodyOfType(type), models[type])).toEqual([]);
  });

  it('catches a misspelt property (canary for the pinned internal deserializers)', () => {
    const site = bodyOfType('Microsoft.Web/sites') as any;
    const storage = bodyOfType('Microsoft.Storage/storageAccounts') as any;
    const insights = bodyOfType('Microsoft.Insights/components') as any;
    const vault = bodyOfType('Microsoft.KeyVault/vaults') as any;
    const plan = bodyOfType('Microsoft.Web/serverfarms') as any;
    const scale = site.properties.functionAppConfig.scaleAndConcurrency;
    site.properties.functionAppConfig.scaleAndConcurrency = { ...scale, instanceMemoryMb: 2048 };
    storage.properties.allowSharedKeyAcess = false;
    insights.properties.DisableLocalAuht = true;
    vault.properties.enablePurgeProtecton = true;
    plan.properties.reservd = true;
    expect(unknownProperties(site, models['Microsoft.Web/sites'])).toEqual([
      'properties.functionAppConfig.scaleAndConcurrency.instanceMemoryMb',
    ]);
    expect(unknownProperties(storage, models['Microsoft.Storage/storageAccounts'])).toEqual([
      'properties.allowSharedKeyAcess',
    ]);
    expect(unknownProperties(insights, models['Microsoft.Insights/components'])).toEqual([
      'properties.DisableLocalAuht',
    ]);
    expect(unknownProperties(vault, models['Microsoft.KeyVault/vaults'])).toEqual([
      'properties.enablePurgeProtecton',
    ]);
    expect(unknownProperties(plan, models['Microsoft.Web/serverfarms'])).toEqual(['properties.reservd']);
  });
});
