import type { TokenService } from './auth/token-service.ts';
import type { ManagerConfig } from './config.ts';
import type { Database } from './database/database.ts';
import type { DatasetStore } from './dataset-store.ts';
import type { JobScheduler } from './job-scheduler.ts';
import type { ManagerMetrics } from './metrics.ts';

/** What every route plugin gets: the manager's parts, built once in `createManager`. */
export interface ManagerContext {
  readonly config: ManagerConfig;
  readonly database: Database;
  readonly tokens: TokenService;
  readonly datasets: DatasetStore;
  readonly scheduler: JobScheduler;
  readonly metrics: ManagerMetrics;
}
