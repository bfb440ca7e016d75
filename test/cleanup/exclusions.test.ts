import { compileExclusions, needsVmDetails } from '../../shared/cleanup/exclusions';

const vm = (id: string, name?: string, resourceGroupName?: string) => ({ id, name, resourceGroupName });

describe('compileExclusions', () => {
  it('always excludes the controller VM first, even with no rules or a rule that also matches', () => {
    expect(compileExclusions(undefined)({ id: 'ctl', name: 'vbazure-appliance', isController: true })).toBe(
      'controller VM',
    );
    const matcher = compileExclusions({ vmIds: ['ctl'], names: ['vbazure-*'] });
    expect(matcher({ id: 'ctl', name: 'vbazure-appliance', isController: true })).toBe('controller VM');
    expect(matcher({ id: 'other', name: 'app-01', isController: false })).toBeUndefined();
  });

  it('matches vmIds case-insensitively and names the rule with the configured spelling', () => {
    const matcher = compileExclusions({ vmIds: ['B45yr8NR5zj684'] });
    expect(matcher(vm('b45yr8nr5zj684'))).toBe('exclude.vmIds "B45yr8NR5zj684"');
    expect(matcher(vm('b45yr8nr5zj68'))).toBeUndefined();
    expect(matcher(vm('b45yr8nr5zj6845'))).toBeUndefined();
  });

  it('name globs: * any run (also empty), ? exactly one character, whole name, any case', () => {
    const matcher = compileExclusions({ names: ['sql-*', 'dc??'] });
    expect(matcher(vm('1', 'sql-01'))).toBe('exclude.names "sql-*"');
    expect(matcher(vm('2', 'SQL-'))).toBe('exclude.names "sql-*"');
    expect(matcher(vm('3', 'mssql-01'))).toBeUndefined();
    expect(matcher(vm('4', 'DC01'))).toBe('exclude.names "dc??"');
    expect(matcher(vm('5', 'dc1'))).toBeUndefined();
    expect(matcher(vm('6', 'dc001'))).toBeUndefined();
    expect(matcher(vm('7'))).toBeUndefined();
  });

  it('treats regular-expression metacharacters in a name glob literally', () => {
    const matcher = compileExclusions({ names: ['app.(1)', 'a+b[0]|x', 'c$^{2}\\d'] });
    expect(matcher(vm('1', 'app.(1)'))).toBe('exclude.names "app.(1)"');
    expect(matcher(vm('2', 'appX(1)'))).toBeUndefined();
    expect(matcher(vm('3', 'app.1'))).toBeUndefined();
    expect(matcher(vm('4', 'a+b[0]|x'))).toBe('exclude.names "a+b[0]|x"');
    expect(matcher(vm('5', 'aab0'))).toBeUndefined();
    expect(matcher(vm('6', 'x'))).toBeUndefined();
    expect(matcher(vm('7', 'c$^{2}\\d'))).toBe('exclude.names "c$^{2}\\\\d"');
    expect(matcher(vm('8', 'c$^{2}5'))).toBeUndefined();
  });

  it('a glob cannot span lines or be defeated by a newline in the name', () => {
    const matcher = compileExclusions({ names: ['sql-*'] });
    expect(matcher(vm('1', 'sql-a\nb'))).toBe('exclude.names "sql-*"');
    expect(matcher(vm('2', 'web\nsql-01'))).toBeUndefined();
  });

  it('matches resource groups case-insensitively (v1 lower-cases them in the ARM id)', () => {
    const matcher = compileExclusions({ resourceGroups: ['RG-Legal-Hold'] });
    expect(matcher(vm('1', 'app-01', 'rg-legal-hold'))).toBe('exclude.resourceGroups "RG-Legal-Hold"');
    expect(matcher(vm('2', 'app-02', 'rg-legal-hold-2'))).toBeUndefined();
    expect(matcher(vm('3', 'app-03'))).toBeUndefined();
  });

  it('reports the first rule kind that matches: id, then name, then resource group', () => {
    const matcher = compileExclusions({ vmIds: ['x'], names: ['app-*'], resourceGroups: ['rg-a'] });
    expect(matcher(vm('x', 'app-01', 'rg-a'))).toBe('exclude.vmIds "x"');
    expect(matcher(vm('y', 'app-01', 'rg-a'))).toBe('exclude.names "app-*"');
    expect(matcher(vm('y', 'web-01', 'rg-a'))).toBe('exclude.resourceGroups "rg-a"');
    expect(matcher(vm('y', 'web-01', 'rg-b'))).toBeUndefined();
  });

  it('escapes control characters of a rule in the report text', () => {
    const matcher = compileExclusions({ vmIds: ['bad\u001b[31mid'] });
    expect(matcher(vm('bad\u001b[31mid'))).toBe('exclude.vmIds "bad\\x1b[31mid"');
  });

  it('empty rule lists exclude nothing', () => {
    const matcher = compileExclusions({ vmIds: [], names: [], resourceGroups: [] });
    expect(matcher(vm('a', 'b', 'c'))).toBeUndefined();
  });
});

describe('needsVmDetails', () => {
  it('is true only when a name or resource-group rule exists', () => {
    expect(needsVmDetails(undefined)).toBe(false);
    expect(needsVmDetails({})).toBe(false);
    expect(needsVmDetails({ vmIds: ['a'], names: [], resourceGroups: [] })).toBe(false);
    expect(needsVmDetails({ names: ['sql-*'] })).toBe(true);
    expect(needsVmDetails({ resourceGroups: ['rg-legal-hold'] })).toBe(true);
  });
});
