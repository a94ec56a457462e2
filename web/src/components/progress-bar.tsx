import { percent } from '../format.ts';

/** A labelled bar: role=progressbar with the value for screen readers, the text for everyone. */
export function ProgressBar(props: { label: string; done: number; total: number; text?: string; tone?: 'active' | 'done' | 'failed' | 'idle' }) {
  const pct = percent(props.done, props.total);
  const tone = props.tone ?? (props.total > 0 && props.done >= props.total ? 'done' : 'active');
  return (
    <div class="progress">
      <div class={`progress-track tone-${tone}`} role="progressbar" aria-label={props.label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-valuetext={props.text ?? `${pct}%`}>
        <div class="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span class="progress-text">{props.text ?? `${pct}%`}</span>
    </div>
  );
}
