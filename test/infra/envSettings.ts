/**
 * Which settings the app reads, found in its source with the TypeScript parser: `env.X`, `env['X']`,
 * `process.env.X`, `env[CONST]`, a call that passes an env object with a setting name (`readSetting(env, 'X')`),
 * consts named *_SETTING, and the setting names the config layer declares in tables (string literals in
 * shared/config/ that look like setting names).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const SETTING_NAME =
  /^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|AzureWebJobs[A-Za-z]*(?:__[A-Za-z]+)*|AzureFunctionsJobHost(?:__[A-Za-z]+)+)$/;

export interface SettingRead {
  name: string;
  /** repo-relative file:line */
  where: string;
}

const isEnvExpression = (node: ts.Expression): boolean => /(^|\.)env$/i.test(node.getText());

function sourceFiles(root: string, dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    fs
      .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
      .map((name) => path.join(root, dir, name)),
  );
}

/** Scans `sources` (file -> text); `configDir` marks the files whose declared literals count as settings. */
export function scanSettings(
  sources: Map<string, string>,
  options: { root: string; configDir: string },
): SettingRead[] {
  const parsed = [...sources].map(([file, text]) => ({
    file,
    sf: ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true),
  }));
  // String constants of every file, so env[CONST] and readSetting(env, CONST) resolve across imports.
  const constants = new Map<string, string>();
  for (const { sf } of parsed) {
    const visit = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
        const init = node.initializer;
        if (ts.isStringLiteralLike(init)) constants.set(node.name.text, init.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  const resolve = (node: ts.Expression | undefined): string | undefined => {
    if (!node) return undefined;
    if (ts.isStringLiteralLike(node)) return node.text;
    if (ts.isIdentifier(node)) return constants.get(node.text);
    if (ts.isPropertyAccessExpression(node)) return constants.get(node.name.text);
    return undefined;
  };

  const reads: SettingRead[] = [];
  for (const { file, sf } of parsed) {
    const inConfig = path.relative(options.configDir, file).split(path.sep)[0] !== '..';
    const add = (name: string | undefined, node: ts.Node) => {
      if (name === undefined || !SETTING_NAME.test(name)) return;
      const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      reads.push({ name, where: `${path.relative(options.root, file)}:${line}` });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && isEnvExpression(node.expression)) add(node.name.text, node);
      if (ts.isElementAccessExpression(node) && isEnvExpression(node.expression)) {
        add(resolve(node.argumentExpression), node);
      }
      if (ts.isCallExpression(node) && node.arguments.some(isEnvExpression)) {
        for (const arg of node.arguments) add(resolve(arg), node);
      }
      // The config layer's setting reader: read('AZURE_CLIENT_ID').
      if (
        inConfig &&
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'read'
      ) {
        for (const arg of node.arguments) add(resolve(arg), node);
      }
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && /_SETTING$/.test(node.name.text)) {
        add(resolve(node.initializer), node);
      }
      if (inConfig && ts.isStringLiteralLike(node)) {
        const parent = node.parent;
        const declared =
          (ts.isPropertyAssignment(parent) && parent.initializer === node) ||
          (ts.isVariableDeclaration(parent) && parent.initializer === node) ||
          ts.isArrayLiteralExpression(parent);
        if (declared) add(node.text, node);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return reads;
}

export function scanRepoSettings(root: string): SettingRead[] {
  const files = sourceFiles(root, ['shared', 'functions']);
  const sources = new Map(files.map((file) => [file, fs.readFileSync(file, 'utf8')]));
  return scanSettings(sources, { root, configDir: path.join(root, 'shared/config') });
}

/**
 * Setting names documented in the README's tables: tables whose first column names settings, read from the
 * first column and from columns headed "setting" or "environment". `X*` documents a prefix.
 */
export function readmeSettings(markdown: string): string[] {
  const names = new Set<string>();
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\|/.test(lines[i]) || !/^\|[\s:|-]+\|$/.test(lines[i + 1]?.trim() ?? '')) continue;
    const header = cells(lines[i]);
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && /^\|/.test(lines[j]); j++) rows.push(cells(lines[j]));
    i = j - 1;
    if (!rows.some((row) => codeSpans(row[0] ?? '').some(isSettingLike))) continue;
    const columns = header.map((h, index) => index === 0 || /setting|environment/i.test(h));
    for (const row of rows) {
      row.forEach((cell, index) => {
        if (columns[index]) for (const span of codeSpans(cell)) if (isSettingLike(span)) names.add(span);
      });
    }
  }
  return [...names].sort();
}

const cells = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());

const codeSpans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1].split('=')[0]);

const isSettingLike = (span: string): boolean => SETTING_NAME.test(span.replace(/\*$/, 'X'));

/** Whether `name` is in `documented`, directly or under a documented `PREFIX*`. */
export function isDocumented(name: string, documented: Iterable<string>): boolean {
  for (const entry of documented) {
    if (entry === name || (entry.endsWith('*') && name.startsWith(entry.slice(0, -1)))) return true;
  }
  return false;
}
