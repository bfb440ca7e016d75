import { collectTargets, ConfigError, parseTargets, splitTargetEntries } from '../../shared/config';
import { DISPLAY_ID_MAX } from '../../shared/displayId';

// 52 lowercase z-base-32 characters, the shape of the seed's (v1) VM ids.
const ZBASE32_ID = 'ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1u';
const UUID_ID = '3f2b8c1e-9d4a-4e7b-8c21-5a6f0e9d1b2c';

describe('parseTargets', () => {
  it('accepts a 52-character z-base-32 id and a UUID', () => {
    expect(ZBASE32_ID).toHaveLength(52);
    expect(parseTargets(`${ZBASE32_ID},${UUID_ID}`)).toEqual({
      ids: [ZBASE32_ID, UUID_ID],
      invalid: [],
      duplicatesRemoved: 0,
    });
  });

  it('reads a JSON array, trimming entries', () => {
    expect(parseTargets(' ["vm-a", " vm-b ", "vm-c"] ').ids).toEqual(['vm-a', 'vm-b', 'vm-c']);
  });

  it.each([
    ['commas', 'vm-a,vm-b,vm-c'],
    ['commas with spaces and a trailing comma', 'vm-a, vm-b ,vm-c,'],
    ['whitespace', 'vm-a vm-b\tvm-c'],
    ['newlines', 'vm-a\nvm-b\r\nvm-c\n'],
    ['a mix', 'vm-a,\n  vm-b \n\n vm-c'],
  ])('splits ids separated by %s', (_label, raw) => {
    expect(parseTargets(raw)).toEqual({ ids: ['vm-a', 'vm-b', 'vm-c'], invalid: [], duplicatesRemoved: 0 });
  });

  it('removes duplicates in first-seen order and counts them', () => {
    expect(parseTargets('vm-b, vm-a, vm-b\nvm-c vm-a vm-b')).toEqual({
      ids: ['vm-b', 'vm-a', 'vm-c'],
      invalid: [],
      duplicatesRemoved: 3,
    });
    expect(parseTargets('["vm-a", " vm-a", "vm-a "]')).toMatchObject({ ids: ['vm-a'], duplicatesRemoved: 2 });
  });

  it('rejects empty ids, ids over 128 characters and ids with characters outside [A-Za-z0-9-]', () => {
    const long = 'a'.repeat(129);
    const targets = parseTargets(JSON.stringify(['vm-a', '  ', long, 'vm_b', 'vm/../c', 'a'.repeat(128)]));
    expect(targets.ids).toEqual(['vm-a', 'a'.repeat(128)]);
    expect(targets.invalid).toEqual([
      { id: '', reason: 'is empty' },
      { id: long, reason: 'is longer than 128 characters' },
      { id: 'vm_b', reason: 'contains characters outside [A-Za-z0-9-]' },
      { id: 'vm/../c', reason: 'contains characters outside [A-Za-z0-9-]' },
    ]);
  });

  it('counts a repeated invalid id as a duplicate and reports it once', () => {
    expect(parseTargets('vm.a vm.a vm-b')).toEqual({
      ids: ['vm-b'],
      invalid: [{ id: 'vm.a', reason: 'contains characters outside [A-Za-z0-9-]' }],
      duplicatesRemoved: 1,
    });
  });

  it.each([
    ['non-string entries', '["vm-a", 42]', 'JSON array entry 1 is not a string'],
    ['nested arrays', '[["vm-a"]]', 'JSON array entry 0 is not a string'],
    ['malformed JSON', '["vm-a", ', 'is not a valid JSON array'],
  ])('throws a ConfigError naming VEEAM_VM_IDS for a JSON array with %s', (_label, raw, problem) => {
    let caught: unknown;
    try {
      parseTargets(raw);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).setting).toBe('VEEAM_VM_IDS');
    expect((caught as ConfigError).problem).toContain(problem);
  });

  it('merges ids that differ only in letter case, keeping the first spelling, and counts them', () => {
    expect(parseTargets(`VM-A, vm-b, vm-a\nVm-B ${UUID_ID.toUpperCase()} ${UUID_ID}`)).toEqual({
      ids: ['VM-A', 'vm-b', UUID_ID.toUpperCase()],
      invalid: [],
      duplicatesRemoved: 3,
    });
  });

  it('keeps invalid ids only in their escaped, cut display form', () => {
    const escape = 'vm-\x1b]0;owned\x07\x1b[2J';
    const huge = `x${'\u00e9'.repeat(3_000_000)}`;
    const targets = parseTargets(JSON.stringify([escape, huge, `${huge}z`, 'vm-ok']));
    expect(targets.ids).toEqual(['vm-ok']);
    expect(targets.invalid).toEqual([
      { id: 'vm-\\x1b]0;owned\\x07\\x1b[2J', reason: 'contains characters outside [A-Za-z0-9-]' },
      { id: expect.stringMatching(/^x(\\xe9)+…$/), reason: 'is longer than 128 characters' },
    ]);
    expect(targets.invalid[1].id.length).toBeLessThanOrEqual(DISPLAY_ID_MAX + 1);
    expect(JSON.stringify(targets)).not.toContain('\u001b');
    // Two huge ids that only differ past the cut would show the same: they are reported once.
    expect(targets.duplicatesRemoved).toBe(1);
  });

  it('splits each source on its own and merges them as one list', () => {
    const merged = collectTargets([
      ...splitTargetEntries('["vm-a", "vm-b"]', '--vm-file a.json'),
      ...splitTargetEntries('vm-B vm-c', '--vm'),
    ]);
    expect(merged).toEqual({ ids: ['vm-a', 'vm-b', 'vm-c'], invalid: [], duplicatesRemoved: 1 });
    expect(() => splitTargetEntries('[1]', '--vm-file a.json')).toThrow(
      expect.objectContaining({ setting: '--vm-file a.json' }),
    );
  });
});
