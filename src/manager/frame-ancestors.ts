/**
 * No page of the manager may be shown in another site's frame (clickjacking). The web UI's index
 * has its own content security policy; swagger-ui's pages (/docs) have none. This is applied to
 * every text/html answer in one place (an onSend hook in server.ts).
 */
export const X_FRAME_OPTIONS = 'DENY';

/**
 * A content security policy that is `policy` with `frame-ancestors 'none'` in it: added when the
 * policy has no frame-ancestors (or there is no policy, whose other directives then stay unset,
 * so nothing a page loads is refused), put in place of a laxer one otherwise.
 */
export function withFrameAncestorsNone(policy: string | undefined): string {
  const kept = (policy ?? '')
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d !== '' && !/^frame-ancestors(\s|$)/i.test(d));
  return [...kept, "frame-ancestors 'none'"].join('; ');
}
