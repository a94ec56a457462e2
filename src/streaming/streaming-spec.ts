// The streaming spec is part of the task protocol (JobInfo) and of job.json: it is defined there.
export { StreamingSpecSchema, type StreamingSpec } from '../protocol/streaming-spec.ts';
