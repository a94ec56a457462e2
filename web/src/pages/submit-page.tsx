import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, DEFAULT_SPLIT_SIZE, EXAMPLES, JOB_SETTINGS, type Dataset, type SubmitRequest } from '../api.ts';
import { useApp } from '../app-context.ts';
import { EXAMPLE_PARAMS, EXAMPLE_REDUCERS } from '../api-types.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { bytes } from '../format.ts';
import { usePageTitle } from '../hooks.ts';
import { JOB_TEMPLATE } from '../job-template.ts';
import { navigate } from '../router.ts';

const EXAMPLE_HELP: Record<(typeof EXAMPLES)[number], string> = {
  wordcount: 'Counts each word: lines of “word<TAB>count”.',
  grep: 'Lines matching a pattern (a JavaScript regular expression), given below.',
  'inverted-index': 'For each word, the files and offsets of the lines it occurs in.',
  sort: 'Sorts the lines of the input.',
};

type Split = 'auto' | 'size' | 'maps';

/** The settings' bounds and the manager's defaults: the server's table (src/protocol/job-settings.ts). */
const { reducers: REDUCERS, workers: WORKERS, maps: MAPS, inputFormat: INPUT_FORMAT, inputCompression: INPUT_COMPRESSION, csvDelimiter: CSV_DELIMITER, outputFormat: OUTPUT_FORMAT, outputCompression: OUTPUT_COMPRESSION } = JOB_SETTINGS;

/** How the choices of the input settings read in the form. */
const CHOICE_LABELS: Readonly<Record<string, string>> = {
  auto: 'By file name',
  text: 'Text: a record per line',
  jsonl: 'JSON lines: a parsed value per line',
  csv: 'CSV: a row per record',
  none: 'None',
  gzip: 'gzip',
  bzip2: 'bzip2',
  zstd: 'zstd',
  comma: 'Comma',
  tab: 'Tab',
  semicolon: 'Semicolon',
  pipe: 'Pipe',
};

interface Param {
  readonly id: number;
  readonly key: string;
  readonly value: string;
}

let nextParamId = 1;

/** The values a choice setting takes (src/protocol/job-settings.ts). */
type JobSettingsChoice<K extends 'inputFormat' | 'inputCompression' | 'csvDelimiter'> = (typeof JOB_SETTINGS)[K]['choices'][number];

/** Submit a built-in example or an uploaded job module on the user's datasets. */
export function SubmitPage() {
  usePageTitle('Submit a job');
  const { me } = useApp();
  const [datasets, setDatasets] = useState<Dataset[]>();
  const [source, setSource] = useState<'example' | 'module' | 'streaming'>('example');
  const [name, setName] = useState('');
  const [example, setExample] = useState<(typeof EXAMPLES)[number]>('wordcount');
  const [code, setCode] = useState(JOB_TEMPLATE);
  const [fileName, setFileName] = useState<string>();
  const [language, setLanguage] = useState<'ts' | 'js'>('ts');
  const [files, setFiles] = useState<Readonly<Record<string, string>>>({});
  const [mapper, setMapper] = useState('');
  const [reducer, setReducer] = useState('');
  const [combiner, setCombiner] = useState('');
  const [inputs, setInputs] = useState<readonly string[]>([]);
  const [reducers, setReducers] = useState(String(REDUCERS.default));
  const [workers, setWorkers] = useState(String(WORKERS.apiDefault));
  const [split, setSplit] = useState<Split>('auto');
  const [splitMiB, setSplitMiB] = useState(String(DEFAULT_SPLIT_SIZE / 2 ** 20));
  const [maps, setMaps] = useState('4');
  const [params, setParams] = useState<readonly Param[]>([]);
  const [inputFormat, setInputFormat] = useState<JobSettingsChoice<'inputFormat'>>(INPUT_FORMAT.default);
  const [inputCompression, setInputCompression] = useState<JobSettingsChoice<'inputCompression'>>(INPUT_COMPRESSION.default);
  const [csvDelimiter, setCsvDelimiter] = useState<JobSettingsChoice<'csvDelimiter'>>(CSV_DELIMITER.default);
  const [csvHeader, setCsvHeader] = useState(true);
  const [csvMultiline, setCsvMultiline] = useState(false);
  const [outputFormat, setOutputFormat] = useState<(typeof OUTPUT_FORMAT.choices)[number]>(OUTPUT_FORMAT.default);
  const [outputCompression, setOutputCompression] = useState<(typeof OUTPUT_COMPRESSION.choices)[number]>(OUTPUT_COMPRESSION.default);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.datasets().then((all) => setDatasets(all.filter((d) => d.owner === me?.username)), setError);
  }, [me?.username]);

  // A row for each parameter the chosen example declares (EXAMPLE_PARAMS, the list the manager
  // checks against); empty rows another example declared go.
  const declared: Readonly<Record<string, { readonly required?: boolean; readonly help?: string }>> = source === 'example' ? EXAMPLE_PARAMS[example] : {};
  useEffect(() => {
    if (source !== 'example') return;
    const own = EXAMPLE_PARAMS[example];
    setParams((ps) => {
      const kept = ps.filter((p) => p.value !== '' || p.key in own || !Object.values(EXAMPLE_PARAMS).some((d) => p.key in d));
      const missing = Object.keys(own).filter((key) => !kept.some((p) => p.key === key));
      return [...kept, ...missing.map((key) => ({ id: nextParamId++, key, value: '' }))];
    });
  }, [source, example]);

  const pickFile = async (f: File | undefined): Promise<void> => {
    if (f === undefined) return;
    setFileName(f.name);
    setLanguage(/\.(m?js|cjs)$/i.test(f.name) ? 'js' : 'ts');
    setCode(await f.text());
  };

  // Program files for a streaming job; a mapper or reducer script also fills in its command.
  const pickStreamingFiles = async (list: FileList | null | undefined): Promise<void> => {
    if (list === null || list === undefined) return;
    const added: Record<string, string> = {};
    for (const f of Array.from(list)) added[f.name] = await f.text();
    setFiles((old) => ({ ...old, ...added }));
    for (const name of Object.keys(added)) {
      const command = commandFor(name);
      if (command === undefined) continue;
      if (/map/i.test(name)) setMapper((m) => m || command);
      else if (/reduc/i.test(name)) setReducer((r) => r || command);
    }
  };

  // Side files of a JavaScript job or an example: read as text, keyed by name (ctx.files).
  const pickSideFiles = async (list: FileList | null | undefined): Promise<void> => {
    if (list === null || list === undefined) return;
    const added: Record<string, string> = {};
    for (const f of Array.from(list)) added[f.name] = await f.text();
    setFiles((old) => ({ ...old, ...added }));
  };

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    if (inputs.length === 0) {
      setError(new Error('Choose at least one input dataset.'));
      return;
    }
    if (source === 'module' && code.trim() === '') {
      setError(new Error('Choose a job module file, or write the code.'));
      return;
    }
    const job: Partial<SubmitRequest> =
      source === 'example'
        ? { example }
        : source === 'module'
          ? { code, language }
          : { mapper, reducer, ...(combiner.trim() !== '' ? { combiner } : {}), ...(Object.keys(files).length > 0 ? { files } : {}) };
    const body: SubmitRequest = {
      ...(name.trim() !== '' ? { name: name.trim() } : {}),
      ...job,
      inputs,
      reducers: Number(reducers),
      workers: Number(workers),
      ...(split === 'size' ? { splitSize: Math.round(Number(splitMiB) * 2 ** 20) } : {}),
      ...(split === 'maps' ? { maps: Number(maps) } : {}),
      ...(inputFormat !== INPUT_FORMAT.default ? { inputFormat } : {}),
      ...(inputCompression !== INPUT_COMPRESSION.default ? { inputCompression } : {}),
      ...(inputFormat !== 'text' ? { csvDelimiter, csvHeader, csvMultiline } : {}),
      // Side files of a JavaScript job or an example (ctx.files); a streaming job's are its program files.
      ...(source !== 'streaming' && Object.keys(files).length > 0 ? { files } : {}),
      outputFormat,
      outputCompression,
      // Streaming commands do not see parameters.
      ...(source !== 'streaming' ? { params: Object.fromEntries(params.filter((p) => p.key.trim() !== '').map((p) => [p.key.trim(), p.value])) } : {}),
    };
    setBusy(true);
    try {
      const { id } = await api.submit(body);
      navigate(`/jobs/${encodeURIComponent(id)}`);
    } catch (err) {
      setError(err);
      document.getElementById('submit-error')?.scrollIntoView({ block: 'nearest' });
    } finally {
      setBusy(false);
    }
  };

  const setParam = (id: number, change: Partial<Param>): void => setParams((ps) => ps.map((p) => (p.id === id ? { ...p, ...change } : p)));

  return (
    <main>
      <h1>Submit a job</h1>
      <form class="stack" onSubmit={(e) => void submit(e)}>
        <fieldset class="card stack">
          <legend>Job</legend>
          <div class="field">
            <label for="job-name">Name (optional)</label>
            <input id="job-name" type="text" maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="e.g. nightly word count" />
            <small class="hint">To find the job again in the list of jobs.</small>
          </div>
          <div class="choices">
            <div class="field check">
              <input type="radio" id="source-example" name="source" checked={source === 'example'} onChange={() => setSource('example')} />
              <label for="source-example">A built-in example</label>
            </div>
            <div class="field check">
              <input type="radio" id="source-module" name="source" checked={source === 'module'} onChange={() => setSource('module')} />
              <label for="source-module">Your job module (.ts or .js)</label>
            </div>
            <div class="field check">
              <input type="radio" id="source-streaming" name="source" checked={source === 'streaming'} onChange={() => setSource('streaming')} />
              <label for="source-streaming">A mapper and a reducer in any language</label>
            </div>
          </div>
          {source === 'streaming' && (
            <>
              <div class="field">
                <label for="streaming-files">Program files</label>
                <input id="streaming-files" type="file" multiple onChange={(e) => void pickStreamingFiles(e.currentTarget.files)} />
                <small class="hint">
                  Scripts and anything they read (e.g. <code>mapper.py</code> and <code>reducer.py</code>), put in each task's working directory. The commands speak Hadoop Streaming's protocol: lines of
                  key<code>TAB</code>value on stdout.
                </small>
              </div>
              <FileList label="Program files" files={files} onChange={setFiles} />
              <div class="field">
                <label for="mapper">Mapper command</label>
                <input id="mapper" class="mono" required placeholder="python3 mapper.py" value={mapper} onInput={(e) => setMapper(e.currentTarget.value)} />
              </div>
              <div class="field">
                <label for="reducer">Reducer command</label>
                <input id="reducer" class="mono" required placeholder="python3 reducer.py" value={reducer} onInput={(e) => setReducer(e.currentTarget.value)} />
              </div>
              <div class="field">
                <label for="combiner">Combiner command (optional)</label>
                <input id="combiner" class="mono" placeholder="e.g. the reducer, when it sums" value={combiner} onInput={(e) => setCombiner(e.currentTarget.value)} />
              </div>
            </>
          )}
          {source === 'example' ? (
            <div class="field">
              <label for="example">Example</label>
              <select
                id="example"
                value={example}
                onChange={(e) => {
                  const chosen = e.currentTarget.value as typeof example;
                  setExample(chosen);
                  // A built-in job's own default for R (grep is map-only: 0), as the CLI and the API have it.
                  setReducers(String(EXAMPLE_REDUCERS[chosen] ?? REDUCERS.default));
                }}
              >
                {EXAMPLES.map((x) => (
                  <option value={x} key={x}>
                    {x}
                  </option>
                ))}
              </select>
              <small class="hint">{EXAMPLE_HELP[example]}</small>
            </div>
          ) : source === 'module' ? (
            <>
              <div class="field">
                <label for="module-file">Job module file</label>
                <input id="module-file" type="file" accept=".ts,.js,.mjs,.mts,text/javascript,text/typescript" onChange={(e) => void pickFile(e.currentTarget.files?.[0])} />
                <small class="hint">
                  A module whose default export is <code>defineJob({'{'} map, reduce {'}'})</code> from <code>'torpedo'</code>. {fileName !== undefined && `Loaded ${fileName}; edit it below if you like.`}
                </small>
              </div>
              <div class="field">
                <label for="code">Code</label>
                <textarea id="code" rows={10} spellcheck={false} value={code} onInput={(e) => setCode(e.currentTarget.value)} />
              </div>
              <div class="field short">
                <label for="language">Language</label>
                <select id="language" value={language} onChange={(e) => setLanguage(e.currentTarget.value as 'ts' | 'js')}>
                  <option value="ts">TypeScript</option>
                  <option value="js">JavaScript</option>
                </select>
              </div>
            </>
          ) : null}
          {source !== 'streaming' && (
            <div class="field">
              <label for="side-files">Side files (optional)</label>
              <input id="side-files" type="file" multiple onChange={(e) => void pickSideFiles(e.currentTarget.files)} />
              <small class="hint">
                Files the job reads besides its input, such as a stop-word list: the job finds each at <code>ctx.files['name']</code>.
              </small>
              <FileList label="Side files" files={files} onChange={setFiles} />
            </div>
          )}
        </fieldset>

        <fieldset class="card stack">
          <legend>Input datasets</legend>
          {datasets === undefined && <p class="muted">Loading…</p>}
          {datasets?.length === 0 && (
            <p class="muted">
              You have no datasets yet: <a href="#/datasets">upload one</a>.
            </p>
          )}
          <div class="checklist">
            {datasets?.map((d) => (
              <div class="field check" key={d.name}>
                <input
                  type="checkbox"
                  id={`input-${d.name}`}
                  checked={inputs.includes(d.name)}
                  onChange={(e) => setInputs(e.currentTarget.checked ? [...inputs, d.name] : inputs.filter((n) => n !== d.name))}
                />
                <label for={`input-${d.name}`}>
                  {d.name} <span class="muted">({bytes(d.size)})</span>
                </label>
              </div>
            ))}
          </div>
          <div class="row">
            <ChoiceField id="input-format" label="Record format" choices={INPUT_FORMAT.choices} value={inputFormat} onChange={setInputFormat} />
            <ChoiceField id="input-compression" label="Input compression" choices={INPUT_COMPRESSION.choices} value={inputCompression} onChange={setInputCompression} />
          </div>
          <small class="hint">
            By file name: <code>.gz</code>, <code>.bz2</code> and <code>.zst</code> datasets are decompressed; <code>.jsonl</code> and <code>.ndjson</code> give the job parsed JSON values, <code>.csv</code>{' '}
            and <code>.tsv</code> rows.
          </small>
          {(inputFormat === 'csv' || inputFormat === 'auto') && (
            <div class="row">
              <ChoiceField id="csv-delimiter" label="CSV delimiter" choices={CSV_DELIMITER.choices} value={csvDelimiter} onChange={setCsvDelimiter} labels={{ auto: 'Tab in .tsv, else comma' }} />
              <div class="field check">
                <input type="checkbox" id="csv-header" checked={csvHeader} onChange={(e) => setCsvHeader(e.currentTarget.checked)} />
                <label for="csv-header">First row names the columns</label>
              </div>
              <div class="field check">
                <input type="checkbox" id="csv-multiline" checked={csvMultiline} onChange={(e) => setCsvMultiline(e.currentTarget.checked)} />
                <label for="csv-multiline">Line breaks inside quoted fields (one task per file)</label>
              </div>
            </div>
          )}
        </fieldset>

        <fieldset class="card stack">
          <legend>Workers and tasks</legend>
          <div class="row">
            <div class="field short">
              <label for="reducers">Reducers</label>
              <input id="reducers" type="number" min={REDUCERS.min} max={REDUCERS.max} required value={reducers} onInput={(e) => setReducers(e.currentTarget.value)} />
            </div>
            <div class="field short">
              <label for="workers">Workers</label>
              <input id="workers" type="number" min={WORKERS.min} max={WORKERS.max} required value={workers} onInput={(e) => setWorkers(e.currentTarget.value)} />
            </div>
          </div>
          <div class="choices" role="radiogroup" aria-label="How to split the input">
            <div class="field check">
              <input type="radio" id="split-auto" name="split" checked={split === 'auto'} onChange={() => setSplit('auto')} />
              <label for="split-auto">Split automatically</label>
            </div>
            <div class="field check">
              <input type="radio" id="split-size" name="split" checked={split === 'size'} onChange={() => setSplit('size')} />
              <label for="split-size">By split size</label>
            </div>
            <div class="field check">
              <input type="radio" id="split-maps" name="split" checked={split === 'maps'} onChange={() => setSplit('maps')} />
              <label for="split-maps">By number of map tasks</label>
            </div>
          </div>
          {split === 'size' && (
            <div class="field short">
              <label for="split-mib">Split size (MiB)</label>
              <input id="split-mib" type="number" min={0.001} step="any" required value={splitMiB} onInput={(e) => setSplitMiB(e.currentTarget.value)} />
            </div>
          )}
          {split === 'maps' && (
            <div class="field short">
              <label for="maps">Map tasks</label>
              <input id="maps" type="number" min={MAPS.min} max={MAPS.max} required value={maps} onInput={(e) => setMaps(e.currentTarget.value)} />
            </div>
          )}
        </fieldset>

        <fieldset class="card stack">
          <legend>Output</legend>
          <div class="row">
            <div class="field short">
              <label for="output-format">Format</label>
              <select id="output-format" value={outputFormat} title={OUTPUT_FORMAT.help} onChange={(e) => setOutputFormat(e.currentTarget.value as typeof outputFormat)}>
                {OUTPUT_FORMAT.choices.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </div>
            <div class="field short">
              <label for="output-compression">Compression</label>
              <select id="output-compression" value={outputCompression} title={OUTPUT_COMPRESSION.help} onChange={(e) => setOutputCompression(e.currentTarget.value as typeof outputCompression)}>
                {OUTPUT_COMPRESSION.choices.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </div>
          </div>
        </fieldset>

        {source !== 'streaming' && (
          <fieldset class="card stack">
            <legend>Parameters</legend>
            <small class="hint">Text values the job reads as ctx.params.</small>
            {params.map((p, i) => (
              <div class="row param" key={p.id}>
                <div class="field">
                  <label for={`param-key-${p.id}`}>Name {i + 1}</label>
                  <input id={`param-key-${p.id}`} value={p.key} onInput={(e) => setParam(p.id, { key: e.currentTarget.value })} />
                </div>
                <div class="field grow">
                  <label for={`param-value-${p.id}`}>
                    Value {i + 1}
                    {declared[p.key]?.required === true && ' (required)'}
                  </label>
                  <input id={`param-value-${p.id}`} required={declared[p.key]?.required === true} value={p.value} onInput={(e) => setParam(p.id, { value: e.currentTarget.value })} />
                  {declared[p.key]?.help !== undefined && <small class="hint">{declared[p.key]?.help}</small>}
                </div>
                <button type="button" class="remove" onClick={() => setParams(params.filter((x) => x.id !== p.id))} aria-label={`Remove parameter ${i + 1}`}>
                  Remove
                </button>
              </div>
            ))}
            <div>
              <button type="button" onClick={() => setParams([...params, { id: nextParamId++, key: '', value: '' }])}>
                Add a parameter
              </button>
            </div>
          </fieldset>
        )}

        <div id="submit-error">
          <ErrorMessage error={error} title="The job was not submitted:" pre={error instanceof ApiError} />
          {error instanceof ApiError && source === 'module' && fileName !== undefined && /\bjob\.(ts|js|mjs):\d+/.test(error.message) && (
            <p class="hint">
              <code>job.{language === 'js' ? 'mjs' : 'ts'}</code> is the code above, from {fileName}.
            </p>
          )}
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Submitting…' : 'Submit job'}
          </button>
        </div>
      </form>
    </main>
  );
}

const INTERPRETERS: Readonly<Record<string, string>> = { py: 'python3', sh: 'sh', pl: 'perl', rb: 'ruby', js: 'node', mjs: 'node' };

/** `python3 mapper.py` for a script whose interpreter the extension tells; undefined otherwise. */
function commandFor(file: string): string | undefined {
  const interpreter = INTERPRETERS[file.split('.').pop()?.toLowerCase() ?? ''];
  return interpreter !== undefined && /^[\w.-]+$/.test(file) ? `${interpreter} ${file}` : undefined;
}

/** Files picked to send along (name → text), each with a button that removes it. */
function FileList({ label, files, onChange }: { label: string; files: Readonly<Record<string, string>>; onChange: (files: Readonly<Record<string, string>>) => void }) {
  if (Object.keys(files).length === 0) return null;
  return (
    <ul class="file-list" aria-label={label}>
      {Object.entries(files).map(([name, text]) => (
        <li key={name}>
          <span class="mono">{name}</span> <span class="muted">({bytes(text.length)})</span>{' '}
          <button
            type="button"
            onClick={() => {
              const { [name]: _gone, ...rest } = files;
              onChange(rest);
            }}
            aria-label={`Remove ${name}`}
          >
            Remove
          </button>
        </li>
      ))}
    </ul>
  );
}

/** A select of a choice setting's values (src/protocol/job-settings.ts), labelled as people read them. */
function ChoiceField<C extends string>({ id, label, choices, value, onChange, labels = {} }: { id: string; label: string; choices: readonly C[]; value: C; onChange: (v: C) => void; labels?: Readonly<Record<string, string>> }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value as C)}>
        {choices.map((c) => (
          <option value={c} key={c}>
            {labels[c] ?? CHOICE_LABELS[c] ?? c}
          </option>
        ))}
      </select>
    </div>
  );
}
