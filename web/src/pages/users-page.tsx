import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, ROLES, type Role, type User } from '../api.ts';
import { can, useApp } from '../app-context.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { date } from '../format.ts';
import { useLoad, usePageTitle } from '../hooks.ts';

/** What self-registration grants: the default for new accounts. */
const DEFAULT_ROLES: readonly Role[] = ['submit_jobs', 'track_jobs', 'read_storage', 'write_storage'];

const ROLE_HELP: Record<Role, string> = {
  admin: 'everything',
  manage_users: 'create and change accounts',
  submit_jobs: 'submit and cancel jobs',
  track_jobs: 'see jobs and their output',
  read_storage: 'list and download datasets',
  write_storage: 'upload and delete datasets',
};

/** Admin: accounts and their roles; create, change roles, disable, reset a password. */
export function UsersPage() {
  usePageTitle('Users');
  const { data: users, error, reload } = useLoad<User[]>(() => api.users());
  const [editing, setEditing] = useState<string>();
  return (
    <main>
      <h1>Users</h1>
      <CreateUser onCreated={reload} />
      <section aria-labelledby="users-title">
        <h2 id="users-title">Accounts</h2>
        <ErrorMessage error={error} />
        {users === undefined && error === undefined && <p class="muted">Loading…</p>}
        {users !== undefined && (
          <table class="users cards">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Roles</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <Fragment key={u.username}>
                  <tr data-user={u.username}>
                    <td data-label="User" class="name">
                      {u.username}
                    </td>
                    <td data-label="Roles">
                      <span class="roles">
                        {u.roles.length === 0 && <span class="muted">none</span>}
                        {u.roles.map((r) => (
                          <span class="role" key={r}>
                            {r}
                          </span>
                        ))}
                      </span>
                    </td>
                    <td data-label="State">
                      <div>{u.disabled ? <span class="badge status-failed">disabled</span> : 'active'}</div>
                    </td>
                    <td data-label="Created">{date(u.createdAt)}</td>
                    <td class="actions">
                      <button type="button" aria-expanded={editing === u.username} onClick={() => setEditing(editing === u.username ? undefined : u.username)} aria-label={`Edit ${u.username}`}>
                        {editing === u.username ? 'Close' : 'Edit'}
                      </button>
                    </td>
                  </tr>
                  {editing === u.username && (
                    <tr class="edit-row">
                      <td colSpan={5}>
                        <EditUser
                          user={u}
                          onSaved={() => {
                            setEditing(undefined);
                            reload();
                          }}
                        />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}

function RoleChecks(props: { idPrefix: string; roles: readonly Role[]; onChange: (roles: Role[]) => void; legend: string }) {
  const { me } = useApp();
  return (
    <fieldset class="roles-field">
      <legend>{props.legend}</legend>
      <div class="checklist">
        {ROLES.map((r) => {
          // Only an admin may grant or take admin and manage_users; the server refuses it anyway.
          const locked = (r === 'admin' || r === 'manage_users') && !can(me, 'admin');
          return (
            <div class="field check" key={r}>
              <input
                type="checkbox"
                id={`${props.idPrefix}-${r}`}
                checked={props.roles.includes(r)}
                disabled={locked}
                onChange={(e) => props.onChange(e.currentTarget.checked ? [...props.roles, r] : props.roles.filter((x) => x !== r))}
              />
              <label for={`${props.idPrefix}-${r}`}>
                {r} <span class="muted small">{ROLE_HELP[r]}</span>
              </label>
            </div>
          );
        })}
      </div>
    </fieldset>
  );
}

function CreateUser(props: { onCreated: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Role[]>([...DEFAULT_ROLES]);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      const u = await api.createUser({ username, password, roles });
      setDone(`Created ${u.username}.`);
      setUsername('');
      setPassword('');
      setRoles([...DEFAULT_ROLES]);
      props.onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <details class="card create-user">
      <summary>Create a user</summary>
      <form class="stack" onSubmit={(e) => void submit(e)}>
        <div class="row">
          <div class="field grow">
            <label for="new-username">Username</label>
            <input id="new-username" required autocomplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          </div>
          <div class="field grow">
            <label for="new-password">Password</label>
            <input id="new-password" type="password" required minLength={8} autocomplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          </div>
        </div>
        <RoleChecks idPrefix="new-role" roles={roles} onChange={setRoles} legend="Roles" />
        <ErrorMessage error={error} />
        {done !== undefined && (
          <p class="success" role="status">
            {done}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary">
            Create user
          </button>
        </div>
      </form>
    </details>
  );
}

function EditUser(props: { user: User; onSaved: () => void }) {
  const { me } = useApp();
  const u = props.user;
  const [roles, setRoles] = useState<Role[]>([...u.roles]);
  const [disabled, setDisabled] = useState(u.disabled);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [deleting, setDeleting] = useState(false);
  const self = u.username === me?.username;
  const id = `edit-${u.username}`;
  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    const changes: { roles?: Role[]; disabled?: boolean; password?: string } = {};
    if (roles.length !== u.roles.length || roles.some((r) => !u.roles.includes(r))) changes.roles = roles;
    if (disabled !== u.disabled) changes.disabled = disabled;
    if (password !== '') changes.password = password;
    if (Object.keys(changes).length === 0) return props.onSaved();
    try {
      await api.updateUser(u.username, changes);
      props.onSaved();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async (): Promise<void> => {
    setDeleting(false);
    try {
      await api.deleteUser(u.username);
      props.onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="stack edit-user" onSubmit={(e) => void save(e)} aria-label={`Edit ${u.username}`}>
      <RoleChecks idPrefix={`${id}-role`} roles={roles} onChange={setRoles} legend={`Roles of ${u.username}`} />
      <div class="row">
        <div class="field check">
          <input id={`${id}-disabled`} type="checkbox" checked={disabled} disabled={self} onChange={(e) => setDisabled(e.currentTarget.checked)} />
          <label for={`${id}-disabled`}>Disabled (cannot sign in; signs them out)</label>
        </div>
        <div class="field grow">
          <label for={`${id}-password`}>New password</label>
          <input id={`${id}-password`} type="password" minLength={8} autocomplete="new-password" placeholder="leave empty to keep" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
      </div>
      <ErrorMessage error={error} />
      <div class="actions">
        <button type="submit" class="primary">
          Save {u.username}
        </button>
        {!self && (
          <button type="button" class="danger" onClick={() => setDeleting(true)}>
            Delete {u.username}
          </button>
        )}
      </div>
      <ConfirmDialog open={deleting} title={`Delete ${u.username}?`} confirm="Delete user" onConfirm={() => void remove()} onClose={() => setDeleting(false)}>
        <p>Their jobs are cancelled, and their datasets and jobs removed. This cannot be undone.</p>
      </ConfirmDialog>
    </form>
  );
}
