import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me, Role, UiSettings } from './api.ts';

export interface AppState {
  /** Undefined until /auth/me answered (and while signed out). */
  readonly me: Me | undefined;
  readonly settings: UiSettings | undefined;
}

export const AppContext = createContext<AppState>({ me: undefined, settings: undefined });

export function useApp(): AppState {
  return useContext(AppContext);
}

/** `admin` can do everything. */
export function can(me: Me | undefined, role: Role): boolean {
  return me !== undefined && (me.roles.includes(role) || me.roles.includes('admin'));
}
