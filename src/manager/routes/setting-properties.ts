import { API_SETTINGS, JOB_SETTINGS, type ApiSettingName, type SettingSpec } from '../../protocol/job-settings.ts';

/**
 * The JSON Schema properties of POST /jobs for the settings users may give, from the one table
 * (src/protocol/job-settings.ts): their meaning, bounds and the manager's default.
 */
export function settingProperties(): Record<ApiSettingName, Record<string, unknown>> {
  const properties: Partial<Record<ApiSettingName, Record<string, unknown>>> = {};
  for (const name of API_SETTINGS) {
    const spec: SettingSpec = JOB_SETTINGS[name];
    const fallback = spec.apiDefault ?? (typeof spec.default === 'number' || spec.kind === 'choice' ? spec.default : undefined);
    properties[name] = {
      ...(spec.kind === 'choice' ? { type: 'string', enum: spec.choices } : { type: spec.kind === 'flag' ? 'boolean' : 'integer' }),
      ...(spec.min !== undefined ? { minimum: spec.min } : {}),
      ...(spec.max !== undefined ? { maximum: spec.max } : {}),
      description: fallback !== undefined ? `${spec.help}; default ${fallback}` : spec.help,
    };
  }
  return properties as Record<ApiSettingName, Record<string, unknown>>;
}
