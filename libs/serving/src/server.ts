// The HTTP service (`sgfd serve`): top-K for a user or a batch of users, similar items, the model in service,
// health and Prometheus metrics. Every request takes the current model once, at its start, and does one
// scoring pass and a top-K over precomputed representations.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EXCLUDE_SEEN, type ExcludeSeen } from '@sgfd/contracts';
import { idsHint } from './scoring-bundle';
import { similarityScores, type ModelSource, type ServedModel } from './served-model';
import { topKOfRow } from './top-k';

export interface ServerOptions {
  models: ModelSource;
  /** Largest k a request may ask for (default 1000; never more than the item count). */
  maxK?: number;
  /** Most users in one batch request (default 1000). */
  maxBatch?: number;
  /** Largest request body in bytes (default 1 MB). */
  bodyLimit?: number;
  defaultK?: number;
  defaultExclude?: ExcludeSeen;
}

class NotFound extends Error {
  readonly statusCode = 404;
}
class BadRequest extends Error {
  readonly statusCode = 400;
}

const itemList = {
  type: 'array',
  items: {
    type: 'object',
    properties: { item: { type: 'string' }, score: { type: 'number' } },
  },
} as const;

export function buildServer(options: ServerOptions): FastifyInstance {
  const maxK = options.maxK ?? 1000;
  const maxBatch = options.maxBatch ?? 1000;
  const defaultK = options.defaultK ?? 10;
  const defaultExclude = options.defaultExclude ?? 'train';
  // Unknown query or body keys are errors, not silently dropped (Fastify's default removes them).
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1 << 20,
    ajv: { customOptions: { removeAdditional: false } },
  });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'sgfd_http_requests_total',
    help: 'HTTP requests by route, method and status code',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'sgfd_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const modelInfo = new Gauge({
    name: 'sgfd_model_info',
    help: 'The model in service (1) by run and backbone',
    labelNames: ['run', 'backbone'],
    registers: [registry],
    collect() {
      const { model } = options.models.current().bundle.spec;
      this.reset();
      this.set({ run: model.run, backbone: model.backbone }, 1);
    },
  });
  void modelInfo;

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    latency.observe({ route }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode ?? 500;
    const message =
      error.validation && error.validationContext
        ? `${error.validationContext}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is invalid'}`.replace(
            /^(\w+)\//,
            '$1.',
          )
        : error.message;
    void reply.status(status).send({ error: { status, message } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { status: 404, message: `No route ${request.method} ${request.url}` } });
  });

  const kSchema = { type: 'integer', minimum: 1, maximum: maxK, default: defaultK } as const;
  const excludeSchema = { type: 'string', enum: [...EXCLUDE_SEEN], default: defaultExclude } as const;

  const userIndex = (model: ServedModel, id: string) => {
    const index = model.bundle.ids.userIndex(id);
    if (index === undefined) throw new NotFound(`Unknown user '${id}' (${idsHint(model.bundle, 'user')})`);
    return index;
  };
  const checkK = (model: ServedModel, k: number) => {
    if (k > model.bundle.spec.items)
      throw new BadRequest(`k must be <= the model's ${model.bundle.spec.items} items, got ${k}`);
  };
  const recommend = (model: ServedModel, user: number, id: string, k: number, exclude: ExcludeSeen) => {
    const top = model.bundle.recommender.recommend(user, k, exclude);
    return {
      user: id,
      items: Array.from(top.items, (item, j) => ({ item: model.bundle.ids.itemId(item), score: top.scores[j] })),
    };
  };

  app.get<{ Params: { id: string }; Querystring: { k: number; exclude: ExcludeSeen } }>(
    '/v1/users/:id/recommendations',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { k: kSchema, exclude: excludeSchema },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { user: { type: 'string' }, model: { type: 'string' }, items: itemList },
          },
        },
      },
    },
    async (request) => {
      const model = options.models.current();
      const { k, exclude } = request.query;
      checkK(model, k);
      const user = userIndex(model, request.params.id);
      return { ...recommend(model, user, request.params.id, k, exclude), model: model.bundle.spec.model.run };
    },
  );

  app.post<{ Body: { users: string[]; k: number; exclude: ExcludeSeen } }>(
    '/v1/recommendations',
    {
      schema: {
        body: {
          type: 'object',
          required: ['users'],
          additionalProperties: false,
          properties: {
            users: { type: 'array', minItems: 1, maxItems: maxBatch, items: { type: 'string' } },
            k: kSchema,
            exclude: excludeSchema,
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              model: { type: 'string' },
              results: {
                type: 'array',
                items: { type: 'object', properties: { user: { type: 'string' }, items: itemList } },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const model = options.models.current();
      const { users, k, exclude } = request.body;
      checkK(model, k);
      const indices = users.map((id) => model.bundle.ids.userIndex(id));
      const unknown = users.filter((_, j) => indices[j] === undefined);
      if (unknown.length > 0)
        throw new NotFound(
          `Unknown users: ${unknown
            .slice(0, 10)
            .map((u) => `'${u}'`)
            .join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''}`,
        );
      return {
        model: model.bundle.spec.model.run,
        results: users.map((id, j) => recommend(model, indices[j]!, id, k, exclude)),
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { k: number } }>(
    '/v1/items/:id/similar',
    {
      schema: {
        querystring: { type: 'object', properties: { k: kSchema }, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: { item: { type: 'string' }, model: { type: 'string' }, similar: itemList },
          },
        },
      },
    },
    async (request) => {
      const model = options.models.current();
      const { k } = request.query;
      checkK(model, k);
      const item = model.bundle.ids.itemIndex(request.params.id);
      if (item === undefined)
        throw new NotFound(`Unknown item '${request.params.id}' (${idsHint(model.bundle, 'item')})`);
      const scores = new Float32Array(model.bundle.spec.items);
      similarityScores(model, item, scores);
      const top = topKOfRow(scores, k);
      return {
        item: request.params.id,
        model: model.bundle.spec.model.run,
        similar: Array.from(top.items, (i, j) => ({ item: model.bundle.ids.itemId(i), score: top.scores[j] })),
      };
    },
  );

  app.get('/healthz', async () => ({ status: 'ok', model: options.models.current().bundle.spec.model.run }));

  app.get('/v1/model', async () => {
    const model = options.models.current();
    const { spec } = model.bundle;
    return {
      ...spec.model,
      form: spec.form,
      score: spec.score,
      similarItems: spec.similarItems,
      users: spec.users,
      items: spec.items,
      dim: spec.dim,
      source: model.source,
      servingSince: model.since,
    };
  });

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  app.addHook('onClose', async () => {
    await options.models.close();
  });
  return app;
}
