import t from 'tap'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { rewriteSseData } from '../../src/http/sse-rewrite.js'

t.test('events are rewritten whole, even when a character or a line is split across chunks', async t => {
  const event = Buffer.from('data: {"status":"IN_PROGRESS","logs":[{"message":"█████ 50%"}],"status_url":"https://queue.fal.run/x"}\n\n: keep-alive\n\n')
  const splitInsideBlock = event.indexOf(Buffer.from('█')) + 1
  const chunks = [event.subarray(0, splitInsideBlock), event.subarray(splitInsideBlock, splitInsideBlock + 20), event.subarray(splitInsideBlock + 20)]
  const out = await text(Readable.from(chunks).pipe(rewriteSseData(status => ({ ...status, status_url: 'https://gateway.example/status' }))))
  const [data, rest] = out.split('\n\n')
  t.same(JSON.parse((data as string).slice('data: '.length)), {
    status: 'IN_PROGRESS',
    logs: [{ message: '█████ 50%' }],
    status_url: 'https://gateway.example/status'
  }, 'the multi-byte characters survive and the URL is rewritten')
  t.equal(rest, ': keep-alive', 'comments pass unchanged')
})
