import { Fragment } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, download, readHead, uploadDataset, type Dataset, type Head, type UploadProgress } from '../api.ts';
import { can, useApp } from '../app-context.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { bytes, date, duration, rate } from '../format.ts';
import { useLoad, usePageTitle } from '../hooks.ts';

/** Upload, list, preview, download and delete datasets. */
export function DatasetsPage() {
  usePageTitle('Datasets');
  const { me } = useApp();
  const { data: datasets, error, reload } = useLoad<Dataset[]>(() => api.datasets());

  return (
    <main>
      <h1>Datasets</h1>
      {can(me, 'write_storage') && <UploadForm existing={datasets?.filter((d) => d.owner === me?.username) ?? []} onUploaded={reload} />}
      <section aria-labelledby="list-title">
        <h2 id="list-title">Your datasets{can(me, 'admin') ? ' (admins see everyone’s)' : ''}</h2>
        <ErrorMessage error={error} />
        {datasets === undefined && error === undefined && <p class="muted">Loading…</p>}
        {datasets !== undefined && datasets.length === 0 && <p class="muted">No datasets yet.{can(me, 'write_storage') ? ' Upload one above.' : ''}</p>}
        {datasets !== undefined && datasets.length > 0 && <DatasetTable datasets={datasets} meName={me?.username} onChanged={reload} />}
      </section>
    </main>
  );
}

/** A dataset name from a file name: the allowed characters only, starting with a letter or digit. */
function nameFromFile(file: string): string {
  return file
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
}

function UploadForm(props: { existing: readonly Dataset[]; onUploaded: () => void }) {
  const [file, setFile] = useState<File>();
  const [name, setName] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [progress, setProgress] = useState<UploadProgress>();
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const [dragging, setDragging] = useState(false);
  const abort = useRef<(() => void) | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);
  const uploading = progress !== undefined;
  const clash = props.existing.some((d) => d.name === name);
  const { settings } = useApp();
  const tooLarge = file !== undefined && settings !== undefined && settings.maxUploadBytes > 0 && file.size > settings.maxUploadBytes;

  const pick = (f: File | undefined): void => {
    setFile(f);
    setDone(undefined);
    setError(undefined);
    if (f !== undefined) setName(nameFromFile(f.name));
  };

  const start = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (file === undefined) return;
    setError(undefined);
    setDone(undefined);
    const started = performance.now();
    setProgress({ loaded: 0, total: file.size, rate: 0 });
    const up = uploadDataset(name, file, overwrite, setProgress);
    abort.current = up.abort;
    try {
      const d = await up.done;
      setDone(`Uploaded ${d.name} (${bytes(d.size)}) in ${duration(performance.now() - started)}.`);
      setFile(undefined);
      setName('');
      setOverwrite(false);
      if (input.current !== null) input.current.value = '';
      props.onUploaded();
    } catch (err) {
      setError(err);
    } finally {
      abort.current = undefined;
      setProgress(undefined);
    }
  };

  const left = progress !== undefined && progress.rate > 0 ? duration(((progress.total - progress.loaded) * 1000) / progress.rate) : undefined;
  return (
    <section aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      <form class="card stack" onSubmit={(e) => void start(e)}>
        <div
          class={`dropzone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            if (!uploading) pick(e.dataTransfer?.files[0]);
          }}
        >
          <label for="file">File</label>
          <input id="file" ref={input} type="file" disabled={uploading} onChange={(e) => pick(e.currentTarget.files?.[0])} />
          <small class="hint">{file !== undefined ? `${file.name}, ${bytes(file.size)}` : 'Choose a file, or drop one here.'}</small>
        </div>
        <div class="row">
          <div class="field grow">
            <label for="dataset-name">Dataset name</label>
            <input id="dataset-name" required maxLength={128} pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" value={name} disabled={uploading} onInput={(e) => setName(e.currentTarget.value)} />
            <small class="hint">Letters, digits, . _ - ; starting with a letter or digit.</small>
          </div>
          <div class="field check">
            <input id="overwrite" type="checkbox" checked={overwrite} disabled={uploading} onChange={(e) => setOverwrite(e.currentTarget.checked)} />
            <label for="overwrite">Replace a dataset of the same name</label>
          </div>
        </div>
        {tooLarge && <p class="warning">This file is larger than the manager accepts ({bytes(settings?.maxUploadBytes ?? 0)}); the upload would be refused.</p>}
        {clash && !overwrite && <p class="warning">You already have a dataset called {name}: tick “Replace” to overwrite it.</p>}
        {progress !== undefined && (
          <ProgressBar
            label="Upload progress"
            done={progress.loaded}
            total={progress.total}
            text={`${bytes(progress.loaded)} of ${bytes(progress.total)} · ${rate(progress.rate)}${left !== undefined ? ` · ${left} left` : ''}`}
          />
        )}
        <ErrorMessage error={error} title="Upload failed:" />
        {done !== undefined && (
          <p class="success" role="status">
            {done}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={file === undefined || uploading || tooLarge}>
            Upload
          </button>
          {uploading && (
            <button type="button" onClick={() => abort.current?.()}>
              Cancel upload
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

function DatasetTable(props: { datasets: readonly Dataset[]; meName: string | undefined; onChanged: () => void }) {
  const { me } = useApp();
  const showOwner = props.datasets.some((d) => d.owner !== props.meName);
  const [previews, setPreviews] = useState<Record<string, Head | Error | 'loading'>>({});
  const [deleting, setDeleting] = useState<Dataset>();
  const [error, setError] = useState<unknown>();
  const key = (d: Dataset): string => `${d.owner}/${d.name}`;
  const ownerArg = (d: Dataset): string | undefined => (d.owner !== props.meName ? d.owner : undefined);

  const togglePreview = async (d: Dataset): Promise<void> => {
    const k = key(d);
    if (previews[k] !== undefined) {
      const { [k]: _gone, ...rest } = previews;
      setPreviews(rest);
      return;
    }
    setPreviews((p) => ({ ...p, [k]: 'loading' }));
    const head = await readHead(api.datasetPath(d.name, ownerArg(d)), 10).catch((e: unknown) => e as Error);
    setPreviews((p) => ({ ...p, [k]: head }));
  };

  const remove = async (d: Dataset): Promise<void> => {
    setDeleting(undefined);
    try {
      await api.deleteDataset(d.name, ownerArg(d));
      setError(undefined);
    } catch (e) {
      setError(e);
    }
    props.onChanged();
  };

  return (
    <>
      <ErrorMessage error={error} />
      <table class="datasets cards">
        <thead>
          <tr>
            <th scope="col">Name</th>
            {showOwner && <th scope="col">Owner</th>}
            <th scope="col" class="num">
              Size
            </th>
            <th scope="col">Uploaded</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.datasets.map((d) => {
            const p = previews[key(d)];
            return (
              <Fragment key={key(d)}>
                <tr>
                  <td class="name" data-label="Name">
                    {d.name}
                  </td>
                  {showOwner && <td data-label="Owner">{d.owner}</td>}
                  <td class="num" data-label="Size">
                    {bytes(d.size)}
                  </td>
                  <td data-label="Uploaded">{date(d.createdAt)}</td>
                  <td class="actions">
                    <button type="button" aria-expanded={p !== undefined} onClick={() => void togglePreview(d)} aria-label={`Preview ${d.name}`}>
                      Preview
                    </button>
                    <button type="button" onClick={() => void download(api.datasetPath(d.name, ownerArg(d)), d.name).catch(setError)} aria-label={`Download ${d.name}`}>
                      Download
                    </button>
                    {can(me, 'write_storage') && (
                      <button type="button" class="danger" onClick={() => setDeleting(d)} aria-label={`Delete ${d.name}`}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
                {p !== undefined && (
                  <tr class="preview-row">
                    <td colSpan={showOwner ? 5 : 4}>
                      {p === 'loading' ? <p class="muted">Loading…</p> : p instanceof Error ? <ErrorMessage error={p} /> : <Preview head={p} label={`First lines of ${d.name}`} />}
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
      <ConfirmDialog open={deleting !== undefined} title={`Delete ${deleting?.name ?? ''}?`} confirm="Delete" onConfirm={() => deleting !== undefined && void remove(deleting)} onClose={() => setDeleting(undefined)}>
        <p>
          The dataset{deleting !== undefined && deleting.owner !== props.meName ? ` of ${deleting.owner}` : ''} ({bytes(deleting?.size ?? 0)}) is removed for good. A dataset that a queued or running job reads cannot be deleted until the job ends.
        </p>
      </ConfirmDialog>
    </>
  );
}

export function Preview(props: { head: Head; label: string }) {
  return (
    <figure class="preview">
      <figcaption>{props.label}</figcaption>
      <pre tabIndex={0}>{props.head.text === '' ? '(empty)' : props.head.text}</pre>
      {props.head.truncated && <small class="muted">… more follows</small>}
    </figure>
  );
}
