// Webhook endpoints (admins: `webhooks:admin`): each with its health, one's recent delivery
// attempts, a test event, pause/resume, and a new endpoint whose secret is shown once.
import { useEffect, useState } from 'preact/hooks';
import {
  createWebhook,
  getWebhook,
  listWebhookAttempts,
  listWebhooks,
  testWebhook,
  updateWebhook,
  type WebhookAttempt,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../../clients/typescript/src/index.js';
import { client, problemMessage } from './api.js';
import { ago, when } from './format.js';
import { notify } from './notices.js';
import { BASE } from './route.js';

const EVENTS: WebhookEventType[] = ['student.created', 'student.updated', 'student.deleted'];

function state(endpoint: WebhookEndpoint): string {
  if (!endpoint.enabled) {
    return { paused: 'Paused', gone: 'Disabled: answered 410 Gone', failing: 'Disabled: failing for 5 days' }[
      endpoint.disabled_reason ?? 'paused'
    ];
  }
  return endpoint.health.failing_since ? `Failing since ${when(endpoint.health.failing_since)}` : 'Healthy';
}

export function Webhooks() {
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ id: number; secret: string } | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    document.title = 'Webhooks · Students admin';
    void (async () => {
      const { data, error: refusal } = await listWebhooks({ client });
      if (data) setEndpoints(data.items);
      else setError(problemMessage(refusal, 'The webhook endpoints could not be loaded.'));
    })();
  }, [reload]);

  async function create(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const events = EVENTS.filter((name) => data.get(name) === 'on');
    const { data: made, error: refusal } = await createWebhook({
      client,
      body: {
        url: String(data.get('url') ?? ''),
        description: String(data.get('description') ?? ''),
        events: events.length ? events : undefined,
      },
    });
    if (!made) return notify(problemMessage(refusal, 'Could not make the endpoint.'), { tone: 'error' });
    setSecret({ id: made.endpoint.id, secret: made.secret });
    form.reset();
    setReload((n) => n + 1);
  }

  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p>Other services' URLs that every change to a student is sent to, signed (Standard Webhooks).</p>
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {secret && (
        <div class="banner banner-warning" role="status">
          <p>
            Endpoint {secret.id} made. Its signing secret, shown only now: <code data-testid="webhook-secret">{secret.secret}</code>
          </p>
        </div>
      )}
      {endpoints && endpoints.length === 0 && <p>No endpoint yet.</p>}
      {endpoints && endpoints.length > 0 && (
        <div class="table-wrap">
          <table class="webhooks" data-loaded="true">
            <caption class="visually-hidden">Webhook endpoints and their health</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
                <th scope="col">Last delivered</th>
                <th scope="col">Waiting</th>
                <th scope="col">Failed</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((endpoint) => (
                <tr key={endpoint.id}>
                  <td>
                    <a href={`${BASE}/webhooks/${endpoint.id}`}>{endpoint.url}</a>
                    {endpoint.description && <div class="muted">{endpoint.description}</div>}
                  </td>
                  <td>{endpoint.events.join(', ')}</td>
                  <td data-state={endpoint.enabled ? (endpoint.health.failing_since ? 'failing' : 'healthy') : 'disabled'}>
                    {state(endpoint)}
                  </td>
                  <td>{endpoint.health.last_delivered_at ? ago(endpoint.health.last_delivered_at) : 'never'}</td>
                  <td>{endpoint.health.pending}</td>
                  <td>{endpoint.health.failed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form class="card" onSubmit={create} aria-labelledby="new-webhook">
        <h2 id="new-webhook">New endpoint</h2>
        <p>
          <label for="webhook-url">URL</label>
          <input id="webhook-url" name="url" type="url" required maxLength={2000} placeholder="https://…" />
        </p>
        <p>
          <label for="webhook-description">Description</label>
          <input id="webhook-description" name="description" maxLength={500} />
        </p>
        <fieldset>
          <legend>Events (none ticked: all)</legend>
          {EVENTS.map((name) => (
            <label key={name} class="check">
              <input type="checkbox" name={name} /> {name}
            </label>
          ))}
        </fieldset>
        <button type="submit">Make endpoint</button>
      </form>
    </section>
  );
}

export function Webhook({ id }: { id: number }) {
  const [endpoint, setEndpoint] = useState<WebhookEndpoint | null>(null);
  const [attempts, setAttempts] = useState<WebhookAttempt[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    void (async () => {
      const [one, log] = await Promise.all([
        getWebhook({ client, path: { id } }),
        listWebhookAttempts({ client, path: { id }, query: { limit: 50 } }),
      ]);
      if (!one.data || !log.data) return setError(problemMessage(one.error ?? log.error, 'The endpoint could not be loaded.'));
      setEndpoint(one.data);
      setAttempts(log.data.items);
      document.title = `Webhook ${one.data.url} · Students admin`;
    })();
  }, [id, reload]);

  async function test() {
    const { data, error: refusal } = await testWebhook({ client, path: { id } });
    if (!data) return notify(problemMessage(refusal, 'Could not send a test event.'), { tone: 'error' });
    notify(
      data.outcome === 'delivered'
        ? `Test event delivered (${data.status_code}, ${data.latency_ms} ms).`
        : `Test event failed: ${data.status_code ?? data.error}.`,
      { tone: data.outcome === 'delivered' ? undefined : 'error' },
    );
    setReload((n) => n + 1);
  }

  async function setEnabled(enabled: boolean) {
    const { data, error: refusal } = await updateWebhook({ client, path: { id }, body: { enabled } });
    if (!data) return notify(problemMessage(refusal, 'Could not change the endpoint.'), { tone: 'error' });
    notify(enabled ? 'Deliveries resumed from where they stopped.' : 'Deliveries paused.');
    setReload((n) => n + 1);
  }

  return (
    <section aria-labelledby="webhook-title">
      <p class="crumbs">
        <a href={`${BASE}/webhooks`}>Webhooks</a> › Endpoint {id}
      </p>
      <h1 id="webhook-title">{endpoint?.url ?? `Endpoint ${id}`}</h1>
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {endpoint && (
        <>
          <p data-testid="webhook-state">
            {state(endpoint)} · {endpoint.health.pending} waiting · {endpoint.health.failed} failed · events{' '}
            {endpoint.events.join(', ')}
          </p>
          <p class="actions">
            <button type="button" onClick={test}>
              Send test event
            </button>{' '}
            <button type="button" onClick={() => setEnabled(!endpoint.enabled)}>
              {endpoint.enabled ? 'Pause' : 'Resume'}
            </button>
          </p>
        </>
      )}
      <h2>Recent deliveries</h2>
      {attempts && attempts.length === 0 && <p>No attempt yet.</p>}
      {attempts && attempts.length > 0 && (
        <div class="table-wrap">
          <table class="attempts" data-loaded="true">
            <caption class="visually-hidden">The newest 50 delivery attempts</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Attempt</th>
                <th scope="col">Answer</th>
                <th scope="col">Time</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((attempt) => (
                <tr key={attempt.id}>
                  <td>
                    <time dateTime={attempt.attempted_at} title={when(attempt.attempted_at)}>
                      {ago(attempt.attempted_at)}
                    </time>
                  </td>
                  <td>
                    {attempt.event_type}
                    {attempt.student_id !== null && (
                      <>
                        {' '}
                        <a href={`${BASE}/students/${attempt.student_id}/history`}>student {attempt.student_id}</a>
                      </>
                    )}
                  </td>
                  <td>{attempt.attempt}</td>
                  <td title={attempt.response || undefined}>{attempt.status_code ?? attempt.error}</td>
                  <td>{attempt.latency_ms} ms</td>
                  <td data-outcome={attempt.outcome}>{attempt.outcome}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
