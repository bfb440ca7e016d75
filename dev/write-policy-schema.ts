/**
 * `npm run policy-schema`: writes docs/cleanup-policy.schema.json from the zod schema of the cleanup policy,
 * so the published schema cannot drift from what loadConfig accepts (test/config/policySchema.test.ts
 * fails when the committed file is stale).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupPolicyJsonSchema } from '../shared/config';

/** docs/cleanup-policy.schema.json, from the repository root (this file runs from dist/dev too). */
export const POLICY_SCHEMA_FILE = path.join('docs', 'cleanup-policy.schema.json');

/** The file's exact content. */
export function policySchemaText(): string {
  return `${JSON.stringify(cleanupPolicyJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(POLICY_SCHEMA_FILE, policySchemaText());
  process.stdout.write(`wrote ${POLICY_SCHEMA_FILE}\n`);
}
