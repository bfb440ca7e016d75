/**
 * Summarises a V8 .cpuprofile (from `node dist/bench/run.js --cpu-prof DIR`): self time by function and by
 * package, so the notes can say where the engine's CPU goes.
 *   node dist/bench/profileSummary.js DIR/CPU.….cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  ms: number;
  share: number;
}

export function summarizeProfile(profile: CpuProfile, keyOf: (node: ProfileNode) => string): ProfileLine[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const key = keyOf(node);
    totals.set(key, (totals.get(key) ?? 0) + us);
    all += us;
  });
  return [...totals.entries()]
    .map(([name, us]) => ({ name, ms: us / 1000, share: all ? us / all : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

export function byFunction(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/|dist\/)/, '$1');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

export function byPackage(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url.split('/')[0];
  const own = /dist\/([^/]+\/[^/]+)/.exec(url);
  return own ? own[1] : url;
}

if (require.main === module) {
  const [file, top = '25'] = process.argv.slice(2);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const print = (title: string, lines: ProfileLine[]) => {
    process.stdout.write(`${title}\n`);
    for (const l of lines.slice(0, Number(top))) {
      process.stdout.write(
        `  ${l.ms.toFixed(0).padStart(7)} ms ${(l.share * 100).toFixed(1).padStart(5)} %  ${l.name}\n`,
      );
    }
  };
  print('self time by package', summarizeProfile(profile, byPackage));
  print('self time by function', summarizeProfile(profile, byFunction));
}
