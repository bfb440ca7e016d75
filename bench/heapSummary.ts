/**
 * Summarises a V8 .heapsnapshot (from `node dist/bench/run.js --heap-snapshot DIR`): count, self size and
 * retained size by constructor, so the notes can say what holds the engine's memory.
 *   node dist/bench/heapSummary.js DIR/engine-….heapsnapshot [top]
 * Retained sizes come from the dominator tree (Cooper, Harvey and Kennedy's iterative algorithm over the
 * snapshot's strong edges); a group's retained size counts each object once, not again under a member of
 * the same group, as DevTools does.
 */
import { readFileSync } from 'node:fs';

interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapLine {
  name: string;
  count: number;
  selfBytes: number;
  retainedBytes: number;
}

export function summarizeHeap(snap: HeapSnapshot): { totalBytes: number; lines: HeapLine[] } {
  const { meta } = snap.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [typeAt, nameAt, selfAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    meta.node_fields.indexOf(f),
  );
  const [edgeTypeAt, toAt] = ['type', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const nodeTypes = meta.node_types[0];
  const weak = meta.edge_types[0].indexOf('weak');
  const n = snap.nodes.length / nf;

  // Strong edges as adjacency (CSR) and their reverse.
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += snap.nodes[i * nf + edgeCountAt] * ef;
    firstEdge[i + 1] = e;
  }
  const targets = (i: number, visit: (to: number) => void) => {
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += ef) {
      if (snap.edges[e + edgeTypeAt] !== weak) visit(snap.edges[e + toAt] / nf);
    }
  };

  // Reverse postorder from the root (node 0), iteratively.
  const order = new Int32Array(n).fill(-1);
  const post: number[] = [];
  const stack: number[] = [0];
  const cursor = new Uint32Array(n);
  order[0] = 0;
  for (let i = 0; i < n; i++) cursor[i] = firstEdge[i];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    let pushed = false;
    while (cursor[top] < firstEdge[top + 1]) {
      const e = cursor[top];
      cursor[top] += ef;
      if (snap.edges[e + edgeTypeAt] === weak) continue;
      const to = snap.edges[e + toAt] / nf;
      if (order[to] !== -1) continue;
      order[to] = 0;
      stack.push(to);
      pushed = true;
      break;
    }
    if (!pushed) post.push(stack.pop()!);
  }
  const rpo = post.reverse();
  rpo.forEach((node, i) => (order[node] = i));

  const preds: number[][] = Array.from({ length: n }, () => []);
  for (const node of rpo) targets(node, (to) => preds[to].push(node));

  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a] > order[b]) a = idom[a];
      while (order[b] > order[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = 1; k < rpo.length; k++) {
      const node = rpo[k];
      let dom = -1;
      for (const p of preds[node]) {
        if (idom[p] === -1) continue;
        dom = dom === -1 ? p : intersect(p, dom);
      }
      if (dom !== -1 && idom[node] !== dom) {
        idom[node] = dom;
        changed = true;
      }
    }
  }

  const nameOf = (i: number) => {
    const type = nodeTypes[snap.nodes[i * nf + typeAt]];
    return type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i * nf + nameAt]] : `(${type})`;
  };
  // Retained sizes: children before parents in reverse postorder's reverse.
  const retained = new Float64Array(n);
  for (let k = rpo.length - 1; k >= 0; k--) {
    const node = rpo[k];
    retained[node] += snap.nodes[node * nf + selfAt];
    if (node !== 0) retained[idom[node]] += retained[node];
  }
  // A group's retained size: its members with no member of the same group above them in the dominator tree,
  // found by one walk of that tree that counts, per group, the members on the current path.
  const groupOf = new Int32Array(n);
  const groups: HeapLine[] = [];
  const byName = new Map<string, number>();
  for (const node of rpo) {
    if (node === 0) continue;
    const name = nameOf(node);
    let g = byName.get(name);
    if (g === undefined) {
      g = groups.push({ name, count: 0, selfBytes: 0, retainedBytes: 0 }) - 1;
      byName.set(name, g);
    }
    groupOf[node] = g;
    groups[g].count += 1;
    groups[g].selfBytes += snap.nodes[node * nf + selfAt];
  }
  const childStart = new Uint32Array(n + 1);
  for (const node of rpo) if (node !== 0) childStart[idom[node] + 1] += 1;
  for (let i = 0; i < n; i++) childStart[i + 1] += childStart[i];
  const children = new Uint32Array(rpo.length);
  const fill = childStart.slice(0, n);
  for (const node of rpo) if (node !== 0) children[fill[idom[node]]++] = node;
  const onPath = new Uint32Array(groups.length);
  const walk: number[] = [0];
  const next = childStart.slice(0, n);
  while (walk.length > 0) {
    const node = walk[walk.length - 1];
    if (next[node] === childStart[node] && node !== 0) {
      const g = groupOf[node];
      if (onPath[g] === 0) groups[g].retainedBytes += retained[node];
      onPath[g] += 1;
    }
    if (next[node] < childStart[node + 1]) {
      const child = children[next[node]];
      next[node] += 1;
      walk.push(child);
      continue;
    }
    walk.pop();
    if (node !== 0) onPath[groupOf[node]] -= 1;
  }
  return {
    totalBytes: retained[0],
    lines: groups.sort((a, b) => b.retainedBytes - a.retainedBytes),
  };
}

if (require.main === module) {
  const [file, top = '30'] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/heapSummary.js FILE.heapsnapshot [top]\n');
    process.exit(2);
  }
  const { totalBytes, lines } = summarizeHeap(JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot);
  const mb = (b: number) => (b / 1_048_576).toFixed(1).padStart(8);
  process.stdout.write(
    `reachable: ${mb(totalBytes)} MB\n   retained MB     self MB     count  constructor\n`,
  );
  for (const l of lines.slice(0, Number(top))) {
    process.stdout.write(
      `${mb(l.retainedBytes)}    ${mb(l.selfBytes)}  ${String(l.count).padStart(8)}  ${l.name}\n`,
    );
  }
}
