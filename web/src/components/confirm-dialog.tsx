import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

/**
 * A modal <dialog>: focus moves into it, Escape or "Keep" closes it, and the page behind cannot
 * be clicked. Shown while `open`.
 */
export function ConfirmDialog(props: { open: boolean; title: string; confirm: string; onConfirm: () => void; onClose: () => void; children?: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  // A page may hold several dialogs (a job's Cancel and Delete): each names itself by its own title.
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d === null) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby={titleId} onClose={props.onClose}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      <div class="actions">
        <button type="button" class="danger" onClick={props.onConfirm}>
          {props.confirm}
        </button>
        <button type="button" autofocus onClick={props.onClose}>
          Keep
        </button>
      </div>
    </dialog>
  );
}
