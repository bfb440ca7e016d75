/**
 * Offline Bicep reading for the infra tests: tree-sitter-bicep's shipped .wasm through web-tree-sitter (no
 * native build, no Bicep CLI), and a few helpers that turn the syntax tree into plain values.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

export const REPO = path.resolve(__dirname, '../..');
export const INFRA = path.join(REPO, 'infra');

export type { Node };

export interface BicepFile {
  file: string;
  source: string;
  root: Node;
}

/** An expression the tests cannot evaluate offline, kept as its source text. */
export interface Expr {
  expr: string;
}

export type Value = string | number | boolean | null | Expr | Value[] | { [key: string]: Value };

export interface Resource {
  file: string;
  symbol: string;
  type: string;
  apiVersion: string;
  /** The resource body (inside `if (...)` and `[for ...]`). */
  body: Node;
  condition?: string;
  loop: boolean;
}

let parser: Promise<Parser> | undefined;

function getParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    // Bytes, not a path: with a path the loader does a dynamic import, which Jest's CommonJS runtime refuses.
    const wasm = fs.readFileSync(require.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm'));
    const language = await Language.load(wasm);
    return new Parser().setLanguage(language);
  })();
  return parser;
}

export async function parseBicep(source: string, file = '<inline>'): Promise<BicepFile> {
  const tree = (await getParser()).parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${file}`);
  return { file, source, root: tree.rootNode };
}

export function bicepFiles(dir = INFRA): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.bicep'))
    .map((name) => path.join(dir, name))
    .sort();
}

export async function parseInfra(): Promise<BicepFile[]> {
  return Promise.all(bicepFiles().map(async (file) => parseBicep(fs.readFileSync(file, 'utf8'), file)));
}

/** ERROR and MISSING nodes with their line, for a failure message that points at the spot. */
export function syntaxProblems(file: BicepFile): string[] {
  const problems: string[] = [];
  const visit = (node: Node): void => {
    if (node.type === 'ERROR' || node.isMissing) {
      const kind = node.isMissing ? `MISSING ${node.type}` : 'ERROR';
      problems.push(
        `${path.relative(REPO, file.file)}:${node.startPosition.row + 1}: ${kind} near "${node.text.slice(0, 40)}"`,
      );
    }
    for (const child of node.children) if (child) visit(child);
  };
  visit(file.root);
  return problems;
}

export function named(node: Node, type: string): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null && child.type === type);
}

export function resources(files: BicepFile[]): Resource[] {
  return files.flatMap((file) =>
    named(file.root, 'resource_declaration').map((decl) => {
      const [symbol, typeNode] = decl.namedChildren as Node[];
      const [type, apiVersion] = stringValue(typeNode).split('@');
      let body = decl.namedChildren[2] as Node;
      let loop = false;
      let condition: string | undefined;
      if (body.type === 'for_statement') {
        loop = true;
        body = body.childForFieldName('body') as Node;
      }
      if (body.type === 'if_statement') {
        condition = (body.namedChildren[0] as Node).text;
        body = body.namedChildren[1] as Node;
      }
      return { file: file.file, symbol: symbol.text, type, apiVersion, body, condition, loop };
    }),
  );
}

/** The text of a string literal; interpolations are written back as ${...}. */
export function stringValue(node: Node): string {
  return node.text.replace(/^'|'$/g, '');
}

function isPlainString(node: Node): boolean {
  return node.type === 'string' && node.namedChildren.every((child) => child?.type !== 'interpolation');
}

/** The literal value of an expression; anything computed is an Expr holding its source text. */
export function toValue(node: Node): Value {
  switch (node.type) {
    case 'object': {
      const out: Record<string, Value> = {};
      for (const prop of named(node, 'object_property')) {
        const [key, value] = prop.namedChildren as Node[];
        out[propertyKey(key)] = toValue(value);
      }
      return out;
    }
    case 'array':
      return (node.namedChildren as Node[]).map(toValue);
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'string':
      return isPlainString(node) ? stringValue(node).replace(/\\'/g, "'") : { expr: node.text };
    default:
      return { expr: node.text };
  }
}

export function propertyKey(key: Node): string {
  return key.type === 'string' ? stringValue(key) : key.text;
}

/** The body of a resource as a value. */
export function bodyOf(resource: Resource): Record<string, Value> {
  return toValue(resource.body) as Record<string, Value>;
}

export function isExpr(value: Value | undefined): value is Expr {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'expr' in value;
}

export function exprText(value: Value | undefined): string {
  if (isExpr(value)) return value.expr;
  return JSON.stringify(value);
}

/** Every declaration of `kind` (parameter, variable, output) by name, with its decorators' text. */
export function declarations(
  files: BicepFile[],
  kind: 'parameter_declaration' | 'variable_declaration' | 'output_declaration',
): Map<string, { node: Node; decorators: string; file: string }> {
  const out = new Map<string, { node: Node; decorators: string; file: string }>();
  for (const file of files) {
    const children = file.root.namedChildren as Node[];
    children.forEach((child, index) => {
      if (child.type !== kind) return;
      const previous = children[index - 1];
      const decorators = previous?.type === 'decorators' ? previous.text : '';
      out.set((child.namedChildren[0] as Node).text, { node: child, decorators, file: file.file });
    });
  }
  return out;
}

/** All nodes of a type under `node`. */
export function descendants(node: Node, type: string): Node[] {
  return node.descendantsOfType(type).filter((n): n is Node => n !== null);
}
