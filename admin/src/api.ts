// The one client the console talks to the API with: the generated SDK's, on this origin, with
// the signed-in person's token. Every call goes through the SDK; nothing here builds a request.
import { type Account, createClient, type Problem, type Role } from '../../clients/typescript/src/index.js';

const TOKEN_KEY = 'students-admin:token';

export const client = createClient({ baseUrl: location.origin });

let token: string | null = sessionStorage.getItem(TOKEN_KEY);
client.setConfig({ auth: () => token ?? undefined });

/** Called when the API refuses the session (expired, revoked, account disabled): the message
 * is the problem's. Set by the app. */
let onSessionLost: (message: string) => void = () => {};
export function whenSessionLost(handler: (message: string) => void) {
  onSessionLost = handler;
}

client.interceptors.response.use(async (response, request) => {
  if (response.status === 401 && token !== null && request.headers.has('Authorization')) {
    const problem = (await response
      .clone()
      .json()
      .catch(() => null)) as Partial<Problem> | null;
    forgetToken();
    onSessionLost(problem?.detail ?? 'Your session has ended. Sign in again.');
  }
  return response;
});

export function hasToken() {
  return token !== null;
}

export function rememberToken(value: string) {
  token = value;
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function forgetToken() {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

export interface Session {
  account: Account;
  role: Role;
  canWrite: boolean;
}

/** A problem's message for people, whatever came back. */
export function problemMessage(error: unknown, fallback = 'Something went wrong.'): string {
  if (error && typeof error === 'object') {
    const problem = error as Partial<Problem>;
    if (typeof problem.detail === 'string' && problem.detail) return problem.detail;
    if (typeof problem.title === 'string' && problem.title) return problem.title;
  }
  if (error instanceof Error) return error.message;
  return fallback;
}

export function isProblem(error: unknown): error is Problem {
  return !!error && typeof error === 'object' && 'status' in error && 'type' in error;
}

/** The entity tag a response carried (`"3"`), for `If-Match`. */
export function etagOf(response: Response | undefined): string | undefined {
  return response?.headers.get('ETag') ?? undefined;
}
