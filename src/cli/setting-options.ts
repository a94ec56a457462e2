import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { JOB_SETTINGS, type JobSettings, type SettingName, type SettingSpec } from '../protocol/job-settings.ts';
import { formatSizeFlag } from '../protocol/units.ts';
import { parseCount, parsePositiveInt, parseSize } from './parse.ts';

/**
 * Adds the flags of job settings to a command, from the one table (src/protocol/job-settings.ts),
 * and returns how to read them back from the parsed flags. `engine`: `torpedo run`, whose flags
 * default as the engine does; `api`: `torpedo submit`, whose unset flags the manager decides.
 */
export function addSettingOptions(command: Command, names: readonly SettingName[], defaults: 'engine' | 'api'): (flags: Record<string, unknown>) => Partial<JobSettings> {
  const attributes = new Map<string, SettingName>();
  for (const name of names) {
    const spec: SettingSpec = JOB_SETTINGS[name];
    const help = defaults === 'api' ? `${spec.help}${managerDefault(spec)}` : spec.help;
    const option = new Option(spec.flag, help);
    if (spec.kind === 'choice') option.choices(spec.choices ?? []);
    else if (spec.kind !== 'flag') option.argParser(spec.kind === 'bytes' ? parseSize : spec.min === 0 ? parseCount : parsePositiveInt);
    if (defaults === 'engine' && spec.showDefault === true && spec.default !== null) {
      const [value, shown] = helpDefault(spec.kind, spec.default);
      option.default(value, shown);
    }
    if (spec.conflicts !== undefined) option.conflicts(spec.conflicts);
    command.addOption(option);
    attributes.set(option.attributeName(), name);
  }
  // Only the flags given: a default shown in the help is the engine's, which resolveSettings
  // fills in the same, unless the job has its own (a built-in grep is map-only: EXAMPLE_REDUCERS).
  return (flags) => {
    const settings: Record<string, unknown> = {};
    for (const [attribute, name] of attributes) if (flags[attribute] !== undefined && command.getOptionValueSource(attribute) !== 'default') settings[name] = flags[attribute];
    return settings as Partial<JobSettings>;
  };
}

/**
 * A setting's default for commander, and how its help writes it, as a person would type it:
 * `256MiB` rather than 268435456, "one per core, 4 here" rather than a bare 4. Called once per flag
 * by `addSettingOptions`.
 */
function helpDefault(kind: SettingSpec['kind'], value: number | boolean | string): [number | boolean | string, string] {
  if (value === 'cores') {
    const cores = availableParallelism();
    return [cores, `one per core, ${cores} here`];
  }
  if (kind === 'bytes' && typeof value === 'number') return [value, formatSizeFlag(value)];
  return [value, String(value)];
}

/**
 * What `torpedo submit --help` says the manager fills in for an unset flag: its own default where
 * it has one (`workers`), else the engine's (`reducers`: 1). The flag itself stays unset.
 */
function managerDefault(spec: SettingSpec): string {
  if (spec.apiDefault !== undefined) return ` (manager default: ${spec.apiDefault})`;
  if (spec.showDefault === true && spec.kind === 'choice') return ` (default: ${String(spec.default)})`;
  if (spec.showDefault === true && typeof spec.default === 'number') return ` (default: ${spec.kind === 'bytes' ? formatSizeFlag(spec.default) : spec.default})`;
  return '';
}
