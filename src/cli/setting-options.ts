import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { JOB_SETTINGS, type JobSettings, type SettingName, type SettingSpec } from '../protocol/job-settings.ts';
import { parsePositiveInt, parseSize } from './parse.ts';

/**
 * Adds the flags of job settings to a command, from the one table (src/protocol/job-settings.ts),
 * and returns how to read them back from the parsed flags. `engine`: `torpedo run`, whose flags
 * default as the engine does; `api`: `torpedo submit`, whose unset flags the manager decides.
 */
export function addSettingOptions(command: Command, names: readonly SettingName[], defaults: 'engine' | 'api'): (flags: Record<string, unknown>) => Partial<JobSettings> {
  const attributes = new Map<string, SettingName>();
  for (const name of names) {
    const spec: SettingSpec = JOB_SETTINGS[name];
    const help = defaults === 'api' && spec.apiDefault !== undefined ? `${spec.help} (manager default: ${spec.apiDefault})` : spec.help;
    const option = new Option(spec.flag, help);
    if (spec.kind !== 'flag') option.argParser(spec.kind === 'bytes' ? parseSize : parsePositiveInt);
    if (defaults === 'engine' && spec.showDefault === true && spec.default !== null) option.default(spec.default === 'cores' ? availableParallelism() : spec.default);
    if (spec.conflicts !== undefined) option.conflicts(spec.conflicts);
    command.addOption(option);
    attributes.set(option.attributeName(), name);
  }
  return (flags) => {
    const settings: Record<string, unknown> = {};
    for (const [attribute, name] of attributes) if (flags[attribute] !== undefined) settings[name] = flags[attribute];
    return settings as Partial<JobSettings>;
  };
}
