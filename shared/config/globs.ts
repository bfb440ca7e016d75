/**
 * Name globs of policy exclusions: `*` matches any run of characters, `?` exactly one, everything else
 * itself, without regard to letter case. The policy check and the matcher share this one reading.
 */

/** Why a glob cannot be used, or undefined when it can; never quotes the glob. */
export function globProblem(glob: string): string | undefined {
  if (glob.trim() === '') return 'is empty';
  // Only stars (and whitespace around them) would exclude every VM: almost surely a mistake.
  if (/^\s*\*+\s*$/.test(glob)) return 'matches every name (use a narrower glob)';
  return undefined;
}

/** The glob as an anchored, case-insensitive regular expression. */
export function compileGlob(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'is');
}
