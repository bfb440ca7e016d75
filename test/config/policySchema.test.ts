import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { cleanupPolicyJsonSchema } from '../../shared/config';
import { POLICY_SCHEMA_FILE, policySchemaText } from '../../dev/write-policy-schema';
import { examplePolicy } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(cleanupPolicyJsonSchema());

const copy = (): any => examplePolicy();

describe('docs/cleanup-policy.schema.json', () => {
  it('is what `npm run policy-schema` generates from the zod schema (regenerate it when this fails)', () => {
    expect(readFileSync(path.join(ROOT, POLICY_SCHEMA_FILE), 'utf8')).toBe(policySchemaText());
  });

  it('accepts the example policy', () => {
    expect(validate(examplePolicy())).toBe(true);
    expect(validate.errors ?? null).toBeNull();
  });

  it('rejects a password in the policy', () => {
    const policy = copy();
    policy.appliances[1].password = 'pw-schema-canary';
    expect(validate(policy)).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({
        instancePath: '/appliances/1',
        keyword: 'additionalProperties',
        params: { additionalProperty: 'password' },
      }),
    );
  });

  it.each<[string, (p: any) => void]>([
    ['both vmIds and discover', (p) => (p.appliances[1].targets.discover = {})],
    ['neither vmIds nor discover', (p) => (p.appliances[1].targets = {})],
    ['an appliance name with a slash', (p) => (p.appliances[0].name = 'weu/1')],
    ['a secret reference with an underscore', (p) => (p.appliances[0].passwordSecret = 'veeam_pw')],
    ['a subscription id that is no GUID', (p) => (p.appliances[0].targets.discover.subscriptionIds = ['x'])],
    ['a concurrency of 0', (p) => (p.defaults.concurrency = 0)],
    ['no appliances', (p) => (p.appliances = [])],
  ])('rejects %s, like loadConfig', (_label, change) => {
    const policy = copy();
    change(policy);
    expect(validate(policy)).toBe(false);
  });

  it('gives editors a description of the fields', () => {
    const schema = cleanupPolicyJsonSchema() as any;
    const appliance = schema.properties.appliances.items;
    expect(schema.title).toBe('Veeam snapshot cleanup policy');
    for (const field of [
      'name',
      'url',
      'usernameSecret',
      'passwordSecret',
      'targets',
      'exclude',
      'retention',
    ]) {
      expect(appliance.properties[field].description).toEqual(expect.any(String));
    }
  });
});
