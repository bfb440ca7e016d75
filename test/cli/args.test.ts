import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCli, UsageError } from '../../shared/cli/args';

function file(content: string): string {
  const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-args-')), 'vms.txt');
  fs.writeFileSync(target, content);
  return target;
}

describe('parseCli targets', () => {
  it('drops # comments but keeps a # inside an id, so "vm#1" is reported invalid rather than sent as "vm"', () => {
    const list = file('\uFEFF# header\nvm-a # trailing\nvm#1,#after a comma\n');
    const { commandLine } = parseCli(['run', '--vm-file', list]);
    expect(commandLine.targets).toEqual({
      entries: ['vm-a', 'vm#1'],
      origin: { name: `--vm-file ${list}`, source: 'command line' },
    });
  });

  it('keeps command-line order across --vm and --vm-file and names each source once', () => {
    const list = file('["vm-b"]');
    const { commandLine } = parseCli([
      'run',
      '--vm',
      'vm-a',
      '--vm-file',
      list,
      '--vm',
      'vm-c',
      '--vm-file',
      list,
    ]);
    expect(commandLine.targets).toEqual({
      entries: ['vm-a', 'vm-b', 'vm-c', 'vm-b'],
      origin: { name: `--vm, --vm-file ${list}`, source: 'command line' },
    });
  });

  it('names the file for a malformed JSON array and never echoes the command text raw', () => {
    const list = file('["vm-a", ');
    expect(() => parseCli(['run', '--vm-file', list])).toThrow(
      new UsageError('starts with "[" but is not a valid JSON array', `--vm-file ${list}`),
    );
    expect(() => parseCli(['\u001b[2Jrun'])).toThrow('unknown command: \\x1b[2Jrun');
  });

  it('accepts a --deadline of 3 s and refuses 2 s', () => {
    expect(parseCli(['run', '--deadline', '3'], 1_000).deadline).toBe(4_000);
    expect(() => parseCli(['run', '--deadline', '2'], 1_000)).toThrow(/^--deadline: leaves 2 s/);
  });
});
