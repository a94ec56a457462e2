export { confine, type ConfinedCommand } from './confine.ts';
export { DEFAULT_SANDBOX_IDS, jobIdentity, ownerGroup, parseSandboxIds, randomSlot, sandboxIds, SlotAllocator, type SandboxIds } from './sandbox-ids.ts';
export { cleanEnv, SANDBOX_MASTER_SOCKET, TOOL_LIMITS, type SandboxIdentity, type SandboxLimits, type SandboxPolicy } from './sandbox-policy.ts';
export { sandboxSupport, type SandboxLevel, type SandboxSupport } from './sandbox-support.ts';
export { systemPaths } from './system-paths.ts';
