import { Type, type Static } from '@sinclair/typebox'

export const RequestIdParamsSchema = Type.Object({
  requestId: Type.String({ format: 'uuid', description: "fal's request id (a UUID), as returned by submit." })
})

export const StatusQuerySchema = Type.Object({
  logs: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1'), Type.Literal('true'), Type.Literal('false')], {
    description: 'Set to 1 to include the job\'s logs.'
  }))
}, { additionalProperties: false })

export const SubmitQuerySchema = Type.Object({
  fal_webhook: Type.Optional(Type.String({
    description: 'URL fal POSTs the result to when the job ends; its host must be on WEBHOOK_HOSTS.'
  }))
}, { additionalProperties: false })

const LogSchema = Type.Object({
  message: Type.String(),
  level: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  timestamp: Type.Optional(Type.String())
})

const QueueUrls = {
  status_url: Type.String({ description: 'Where to poll the status, on this gateway.' }),
  response_url: Type.String({ description: 'Where to fetch the result, on this gateway.' }),
  cancel_url: Type.String({ description: 'Where to cancel the job (PUT), on this gateway.' })
}

export const QueueStatusSchema = Type.Object({
  request_id: Type.String(),
  status: Type.String({ description: 'IN_QUEUE, IN_PROGRESS or COMPLETED.' }),
  queue_position: Type.Optional(Type.Integer()),
  logs: Type.Optional(Type.Union([Type.Array(LogSchema), Type.Null()])),
  metrics: Type.Optional(Type.Object({ inference_time: Type.Optional(Type.Union([Type.Number(), Type.Null()])) })),
  error: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  error_type: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  ...QueueUrls
}, { $id: 'QueueStatus', title: 'QueueStatus' })
export type QueueStatus = Static<typeof QueueStatusSchema>

export const CancelResponseSchema = Type.Object({
  status: Type.String({ description: 'CANCELLATION_REQUESTED' })
}, { title: 'CancelResponse' })
