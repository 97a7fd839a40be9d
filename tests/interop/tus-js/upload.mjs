// Uploads files to valise-server with the unmodified tus-js-client, all at once,
// and checks each completion answer's Valise-Bundle-Sha256 against the file's.
// Used by bench/upload (--client tus-js) for the single and concurrent uploads.
//
// Usage: node upload.mjs --endpoint URL --ca FILE --token TOKEN [--ticket REF]
//                        [--chunk-size BYTES] FILE...
// Prints one JSON line per file: {"file","bundle_id","sha256","seconds"}; exits
// 1 if any upload failed or its checksum differs.
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'

import * as tus from 'tus-js-client'

const { values: opts, positionals: files } = parseArgs({
  allowPositionals: true,
  options: {
    endpoint: { type: 'string' },
    ca: { type: 'string' },
    token: { type: 'string' },
    ticket: { type: 'string' },
    'chunk-size': { type: 'string' },
  },
})
if (!opts.endpoint || !opts.ca || !opts.token || files.length === 0) {
  console.error('usage: node upload.mjs --endpoint URL --ca FILE --token TOKEN [--ticket REF] ' +
    '[--chunk-size BYTES] FILE...')
  process.exit(2)
}
const httpStack = new tus.DefaultHttpStack({ ca: readFileSync(opts.ca) })

async function sha256File(path) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk)
  return hash.digest('hex')
}

function upload(file) {
  const started = process.hrtime.bigint()
  // The file is hashed while it is sent, as an uploader checking end to end would.
  const hashed = sha256File(file)
  const sent = new Promise((resolve, reject) => {
    const metadata = { filename: basename(file), ...(opts.ticket ? { ticket: opts.ticket } : {}) }
    const up = new tus.Upload(createReadStream(file), {
      endpoint: opts.endpoint,
      httpStack,
      headers: { Authorization: `Bearer ${opts.token}` },
      metadata,
      chunkSize: opts['chunk-size'] ? Number(opts['chunk-size']) : Infinity,
      retryDelays: [0, 1000, 3000],
      onSuccess: ({ lastResponse }) => resolve({
        bundle_id: lastResponse.getHeader('Valise-Bundle-Id'),
        announced: lastResponse.getHeader('Valise-Bundle-Sha256'),
      }),
      onError: reject,
    })
    up.start()
  })
  return Promise.all([sent, hashed]).then(([result, sha256]) => {
    if (result.announced !== sha256) {
      throw new Error(`${file}: server announced SHA-256 ${result.announced}, file has ${sha256}`)
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    return { file, bundle_id: result.bundle_id, sha256, seconds }
  })
}

const results = await Promise.allSettled(files.map(upload))
let failed = 0
for (const [i, r] of results.entries()) {
  if (r.status === 'fulfilled') {
    console.log(JSON.stringify(r.value))
  } else {
    failed++
    console.error(`upload.mjs: ${files[i]}: ${r.reason?.message ?? r.reason}`)
  }
}
process.exit(failed ? 1 : 0)
