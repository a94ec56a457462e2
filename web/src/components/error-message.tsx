import { ApiError } from '../api.ts';

/** An API error as the user should read it: the message (in a <pre> when it has several lines, e.g. compiler output with file:line), the code small. */
export function ErrorMessage(props: { error: unknown; title?: string; pre?: boolean }) {
  const e = props.error;
  if (e === undefined || e === null) return null;
  const message = e instanceof Error ? e.message : String(e);
  const code = e instanceof ApiError ? e.code : undefined;
  return (
    <div class="error" role="alert">
      {props.title !== undefined && <strong>{props.title} </strong>}
      {props.pre === true || message.includes('\n') ? <pre>{message}</pre> : <span>{message}</span>}
      {code !== undefined && <small class="code">{code}</small>}
    </div>
  );
}
