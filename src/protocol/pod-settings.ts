import { z } from 'zod';

// A job's pod settings on Kubernetes, as its owner may choose them: POST /jobs `pods`, `torpedo
// submit --pod-cpu …`, kept in the job's spec and its job.json (MasterSpec `pods`), which the
// master reads to build its workers Job. What the operator allows (bounds, defaults, the image
// pull Secrets no user may name) is in src/kubernetes/pod-policy.ts; this file has no runtime
// dependency on Kubernetes.

/** A Kubernetes quantity (`500m`, `2`, `1.5`, `512Mi`, `4G`, `1e3`). */
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$/;
/** A label key: an optional DNS-subdomain prefix and a name of at most 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const QuantitySchema = z.string().max(64).regex(QUANTITY, 'a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi');
export const LabelKeySchema = z.string().max(253).regex(LABEL_KEY, 'a label key such as disktype or example.com/pool');

export const TolerationSchema = z
  .object({
    key: LabelKeySchema,
    operator: z.enum(['Equal', 'Exists']).default('Equal'),
    value: z.string().max(63).regex(LABEL_VALUE, 'a label value').optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((t) => t.operator === 'Equal' || t.value === undefined, { message: 'a toleration with operator Exists has no value' });
export type Toleration = z.infer<typeof TolerationSchema>;

/** What a job's owner may ask of its pods; every field optional (the operator's defaults apply). */
export const PodRequestSchema = z
  .object({
    /** Each worker's CPU request (and limit), e.g. `2` or `1500m`. */
    cpu: QuantitySchema.optional(),
    /** Each worker's memory request and limit, instead of the one torpedo works out from the job's memory settings. */
    memory: QuantitySchema.optional(),
    /** Node labels the job's pods (master and workers) must run on, added to the operator's. */
    nodeSelector: z.record(LabelKeySchema, z.string().max(63).regex(LABEL_VALUE, 'a label value')).optional(),
    /** Taints the job's pods tolerate, added to the operator's. */
    tolerations: z.array(TolerationSchema).max(20).optional(),
    /** The PriorityClass of the job's pods. */
    priorityClassName: z.string().max(253).regex(DNS_SUBDOMAIN, 'a PriorityClass name').optional(),
  })
  .strict();
export type PodRequest = z.infer<typeof PodRequestSchema>;

const SUFFIX: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A quantity's value (CPU in cores, memory in bytes); NaN for what is not a quantity. */
export function quantityValue(q: string): number {
  const m = QUANTITY.exec(q);
  if (m === null) return Number.NaN;
  const suffix = m[2] ?? '';
  const number = Number(q.slice(0, q.length - suffix.length));
  if (suffix.startsWith('e')) return number * 10 ** Number(suffix.slice(1));
  return number * (SUFFIX[suffix] ?? 1);
}
